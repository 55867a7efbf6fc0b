import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Extracts PDFs in child processes, so that a crash, hang or memory blow-up in poppler costs
/// one file and never the indexer or the server.
///
/// The children are the `oaken` binary itself in its worker mode (`command`). Each lowers its
/// own address-space limit at start, then extracts one document per request: a JSON line on
/// its standard input, answered by a length-prefixed JSON result on its standard output. A
/// worker is reused for many documents (starting a process per PDF would cost more than
/// extracting a small one), kept idle in a pool between requests, and replaced after a
/// crash, a timeout, or `documentsPerProcess` documents. The parent kills a worker that
/// passes the wall-clock limit.
package final class PDFWorker: TextExtractor {
    /// The program and leading arguments that start a worker.
    package let command: [String]
    package let documentsPerProcess: Int
    private let idle = Mutex<[WorkerProcess]>([])

    package init(command: [String], documentsPerProcess: Int = 500) {
        self.command = command
        self.documentsPerProcess = documentsPerProcess
        // A worker that died leaves a broken pipe; writing to it must fail, not kill us.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        for worker in idle.withLock({ $0 }) { worker.stop() }
    }

    struct Request: Codable {
        var path: String
        var maximumTextBytes: Int
        var maximumBytes: Int64
    }

    struct Result: Codable {
        var text: ExtractedText?
        var failure: ExtractionFailure?
    }

    package func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let worker: WorkerProcess
        if let reused = idle.withLock({ $0.popLast() }) {
            worker = reused
        } else {
            worker = try WorkerProcess(command: command + ["--address-space", String(limits.pdfAddressSpace)])
        }
        let request = Request(
            path: URL(fileURLWithPath: path).standardizedFileURL.path, maximumTextBytes: limits.maximumTextBytes,
            maximumBytes: limits.maximumPDFBytes)
        let result: Result
        do {
            result = try worker.run(request, timeout: limits.pdfTimeout, maximumReply: limits.maximumTextBytes * 6 + (1 << 20))
        } catch {
            worker.stop()
            throw error
        }
        if worker.documents < documentsPerProcess {
            idle.withLock { $0.append(worker) }
        } else {
            worker.stop()
        }
        if let failure = result.failure { throw failure }
        guard let text = result.text else { throw .crashed("worker gave no text") }
        return text
    }

    /// The worker side: limits this process, then answers requests until standard input ends.
    package static func serve(addressSpace: Int64) -> Never {
        #if canImport(Glibc)
        var limit = rlimit(rlim_cur: rlim_t(addressSpace), rlim_max: rlim_t(addressSpace))
        setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        #endif
        let extractor = PDFTextExtractor()
        while let line = readLine(strippingNewline: true) {
            var result = Result()
            if let request = try? JSONDecoder().decode(Request.self, from: Data(line.utf8)) {
                var limits = ExtractionLimits.standard
                limits.maximumTextBytes = request.maximumTextBytes
                limits.maximumPDFBytes = request.maximumBytes
                do {
                    result.text = try extractor.extract(fileAt: request.path, limits: limits)
                } catch {
                    result.failure = error
                }
            } else {
                result.failure = .damaged("unreadable request")
            }
            let payload = (try? JSONEncoder().encode(result)) ?? Data()
            var length = UInt64(payload.count).bigEndian
            let header = withUnsafeBytes(of: &length) { Data($0) }
            FileHandle.standardOutput.write(header + payload)
        }
        // Exit at once: under the lowered address-space limit, the runtime's orderly shutdown
        // can stall for seconds on threads it can no longer create.
        exit(0)
    }
}

/// One worker process and its pipes. It is used by one thread at a time: the pool hands it
/// out and takes it back.
private final class WorkerProcess: @unchecked Sendable {
    private let process = Process()
    private let input: FileHandle
    private let output: Int32
    private(set) var documents = 0

    init(command: [String]) throws(ExtractionFailure) {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let toWorker = Pipe()
        let fromWorker = Pipe()
        process.standardInput = toWorker
        process.standardOutput = fromWorker
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .crashed("cannot start a worker: \(error.localizedDescription)")
        }
        input = toWorker.fileHandleForWriting
        output = fromWorker.fileHandleForReading.fileDescriptor
        // Keep the read end open for as long as this object lives.
        readEnd = fromWorker.fileHandleForReading
    }

    private let readEnd: FileHandle

    func run(_ request: PDFWorker.Request, timeout: Double, maximumReply: Int) throws(ExtractionFailure) -> PDFWorker.Result {
        documents += 1
        let deadline = Date().addingTimeInterval(timeout)
        guard let line = try? JSONEncoder().encode(request) else { throw .damaged("unencodable path") }
        do {
            try input.write(contentsOf: line + Data("\n".utf8))
        } catch {
            throw deathReport()
        }
        let header = try read(8, before: deadline)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= maximumReply else {
            throw .crashed("worker gave no readable result")
        }
        let payload = try read(length, before: deadline)
        guard let result = try? JSONDecoder().decode(PDFWorker.Result.self, from: payload) else {
            throw .crashed("worker gave no readable result")
        }
        return result
    }

    /// Reads exactly `count` bytes, or throws `.timedOut` at the deadline and `.crashed` when
    /// the worker goes away.
    private func read(_ count: Int, before deadline: Date) throws(ExtractionFailure) -> Data {
        var data = Data(capacity: count)
        var buffer = [UInt8](repeating: 0, count: min(count, 1 << 16))
        while data.count < count {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timedOut }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0, errno == EINTR { continue }
            if ready == 0 { throw .timedOut }
            let n = Glibc.read(output, &buffer, min(buffer.count, count - data.count))
            if n < 0, errno == EINTR { continue }
            if n <= 0 { throw deathReport() }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Why the worker stopped answering.
    private func deathReport() -> ExtractionFailure {
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            return .crashed("worker killed by signal \(process.terminationStatus)")
        }
        if process.terminationStatus != 0 {
            return .crashed("worker exited with status \(process.terminationStatus)")
        }
        return .crashed("worker gave no readable result")
    }

    /// Ends the worker: closing its input ends a healthy one, the kill any other.
    func stop() {
        try? input.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
