import ArgumentParser
import Foundation
import Indexer
import Repository
import Server

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Store every file under a folder as a content item, and extract and index its text.",
        discussion: """
            Files are stored once per distinct content; text is extracted once per distinct content, \
            by parallel workers, PDFs each in a child process with a time and memory limit. The run \
            can be interrupted at any point: the same command continues where it stopped, and a run \
            over an unchanged folder extracts nothing. At the end it prints how many files ended \
            in each outcome; --report writes one line per file.
            """)

    /// Files stored per transaction and per file-system sync: one sync costs tens of
    /// milliseconds whatever it flushes, so small files are stored in large batches.
    static let batchSize = 256

    @OptionGroup var site: SiteOptions

    @Argument(help: "The folder to index.")
    var folder: String

    @Option(help: "The login name of the owner (default: the administrator).")
    var owner: String?

    @Option(help: "Who may read the items: public, logged-in or private.")
    var visibility: Visibility = .private

    @Option(help: "Parallel extraction workers (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Write one tab-separated line per file: outcome, pages, pool id, blob id, path, detail.")
    var report: String?

    @Flag(help: "Print a line per file as it is stored and per blob as it is extracted.")
    var verbose = false

    @Option(help: """
        Extracted text gathered into one index commit, e.g. 16M: larger commits index faster, \
        smaller ones lose less extraction work if the run is killed.
        """)
    var commitSize: String = "16M"

    @OptionGroup var limits: ExtractionOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs takes a number of workers, at least 1") }
        _ = try commitBytes()
    }

    private func commitBytes() throws -> Int {
        guard let size = AppConfiguration.parseSize(commitSize), size >= 1, size <= Int.max else {
            throw ValidationError("--commit-size takes a size such as 16M or 512K, not '\(commitSize)'")
        }
        return Int(size)
    }

    func run() async throws {
        let site = try await site.openSite()
        let index = SQLiteSearchIndex(metadata: site.metadata)
        try index.prepare()
        let ownerID = try await resolveOwner(site)
        let indexer = BulkIndexer(
            site: site, index: index, extractor: try limits.extractor(), ownerID: ownerID, visibility: visibility,
            concurrency: jobs, commitBytes: try commitBytes())
        let files = try BulkIndexer.files(under: URL(fileURLWithPath: folder))
        let progress = ProgressDisplay()

        let clock = ContinuousClock()
        let started = clock.now
        // Phase one: store.
        var reports: [BulkIndexer.FileReport] = []
        await progress.begin("storing", total: files.count)
        for start in stride(from: 0, to: files.count, by: Self.batchSize) {
            let (stored, errors) = try await indexer.store(Array(files[start..<min(start + Self.batchSize, files.count)]))
            reports += stored
            for error in errors {
                writeError("\(error.path): \(error.error)\n")
            }
            for report in stored where verbose && !report.unchanged {
                writeOutput("stored\t\(report.itemID)\t\(report.blobID)\t\(report.path)\n")
            }
            await progress.advance(by: stored.count + errors.count)
        }
        await progress.finish()

        let stored = clock.now
        // Phase two: extract what is queued, from this run or an interrupted one.
        let queued = try await index.unfinishedJobCount()
        await progress.begin("extracting", total: queued)
        let verbose = verbose
        let drained = try await indexer.workers.drain(concurrency: jobs) { blob, result in
            if verbose {
                writeOutput("extracted\t\(result.outcome.rawValue)\t\(result.text?.pageCount ?? 0)\t\(blob)\n")
            }
            await progress.advance(pages: result.text?.pageCount ?? 0)
        }
        await progress.finish()

        let extracted = clock.now
        let completed = try await indexer.complete(reports)
        printSummary(completed, skipped: completed.filter(\.unchanged).count)
        print("stored in \(Self.seconds(started.duration(to: stored))) s, extracted and indexed in \(Self.seconds(stored.duration(to: extracted))) s")
        if drained.documents > 0 {
            print("index writes: \(drained.textBytes) bytes of text from \(drained.documents) documents in \(Self.seconds(drained.indexWriteTime)) s")
        }
        if let report {
            try writeReport(completed, to: report)
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        String(format: "%.3f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    private func resolveOwner(_ site: Site) async throws -> String {
        guard let owner else { return try await site.administrator().id }
        guard let user = try await site.metadata.user(loginName: owner) else {
            throw ValidationError("there is no user '\(owner)'")
        }
        return user.id
    }

    private func printSummary(_ reports: [BulkIndexer.FileReport], skipped: Int) {
        var counts: [String: Int] = [:]
        for report in reports { counts[report.label, default: 0] += 1 }
        let labels = ExtractionOutcome.allCases.map(\.rawValue) + ["duplicate", "pending"]
        print("\(reports.count) files")
        for label in labels where counts[label] != nil || ExtractionOutcome(rawValue: label) != nil {
            print("  " + label.padding(toLength: 14, withPad: " ", startingAt: 0) + String(counts[label] ?? 0))
        }
        if skipped > 0 {
            print("  (\(skipped) unchanged since an earlier run: not read again)")
        }
    }

    private func writeReport(_ reports: [BulkIndexer.FileReport], to path: String) throws {
        var text = ""
        for r in reports {
            let detail = (r.detail ?? "").replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
            text += "\(r.label)\t\(r.pages)\t\(r.itemID)\t\(r.blobID)\t\(r.path)\t\(detail)\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Limits on extraction, shared by the commands that extract.
struct ExtractionOptions: ParsableArguments {
    @Option(help: "Seconds one PDF or HTML document may take before its worker is killed.")
    var timeout: Double = ExtractionLimits.standard.timeout

    @Option(help: "Text kept per document, in UTF-8 bytes (e.g. 4M); the rest is dropped and the cut recorded.")
    var maxText: String = "4M"

    @Option(help: "Address space of an extraction worker, e.g. 1G.")
    var workerMemory: String = "2G"

    func extractor() throws -> DocumentExtractor {
        guard let memory = AppConfiguration.parseSize(workerMemory) else {
            throw ValidationError("--worker-memory takes a size such as 1G")
        }
        var limits = ExtractionLimits.standard
        limits.timeout = timeout
        guard let text = AppConfiguration.parseSize(maxText), text <= Int.max else {
            throw ValidationError("--max-text takes a size such as 4M")
        }
        limits.maximumTextBytes = Int(text)
        limits.addressSpace = memory
        return DocumentExtractor.isolated(executable: Executable.path, limits: limits)
    }
}

/// The path of this program, for starting workers.
enum Executable {
    static let path: String = {
        let link = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        if FileManager.default.isExecutableFile(atPath: link), link != "/proc/self/exe" { return link }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }()
}

/// `oaken extract-worker`: an extraction worker process for the indexer and the server (see
/// `WorkerExtractor`).
struct ExtractWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-worker", abstract: "Extract PDFs and HTML for the indexer.", shouldDisplay: false)

    @Option var addressSpace: Int64

    func run() throws {
        WorkerExtractor.serve(addressSpace: addressSpace)
    }
}
