import Foundation
import Testing

@testable import Indexer

/// The parent side of worker isolation, against real child processes that misbehave the way
/// a poppler crash or hang would.
@Suite struct WorkerExtractorTests {
    let pdf = CorpusFiles.golden("three-pages.pdf")

    func limits(timeout: Double = 10) -> ExtractionLimits {
        var limits = ExtractionLimits.standard
        limits.timeout = timeout
        return limits
    }

    @Test func aWorkerKilledByASignalIsACrash() {
        let worker = WorkerExtractor(command: ["/bin/sh", "-c", "kill -SEGV $$", "worker"])
        #expect(throws: ExtractionFailure.crashed("worker killed by signal 11")) {
            try worker.extract(fileAt: pdf, limits: limits())
        }
    }

    @Test func aHungWorkerIsKilledAtItsTimeLimit() {
        let worker = WorkerExtractor(command: ["/bin/sh", "-c", "exec sleep 30", "worker"])
        let started = Date()
        #expect(throws: ExtractionFailure.timedOut) { try worker.extract(fileAt: pdf, limits: limits(timeout: 0.3)) }
        #expect(Date().timeIntervalSince(started) < 10, "the hung worker was waited for")
    }

    @Test func garbageFromAWorkerIsACrashNotAResult() {
        let worker = WorkerExtractor(command: ["/bin/sh", "-c", "echo '{\"not\": \"a result\"'", "worker"])
        #expect(throws: ExtractionFailure.crashed("worker gave no readable result")) {
            try worker.extract(fileAt: pdf, limits: limits())
        }
    }

    @Test func oneCrashingFileDoesNotStopTheOthers() {
        let extractor = DocumentExtractor(pdf: WorkerExtractor(command: ["/bin/sh", "-c", "kill -ABRT $$", "worker"]))
        #expect(extractor.extract(fileAt: pdf).outcome == .crashed)
        #expect(extractor.extract(fileAt: CorpusFiles.golden("latin1.html")).outcome == .indexed)
    }
}
