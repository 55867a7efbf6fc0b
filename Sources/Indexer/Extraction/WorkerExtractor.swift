import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Extracts documents of one format (PDF through poppler, HTML through libxml2) in child
/// processes, so that a crash, hang or memory blow-up in a parser costs one file and never the
/// indexer or the server.
///
/// The children are the `oaken` binary itself in its worker mode (`command`). Each lowers its
/// own address-space limit at start, then extracts one document per request: a JSON line on
/// its standard input, answered by a length-prefixed JSON result on its standard output. A
/// worker is reused for many documents (starting a process per PDF would cost more than
/// extracting a small one), kept idle in a pool between requests, and replaced after a
/// crash, a timeout, or `documentsPerProcess` documents. The parent kills a worker that
/// passes the wall-clock limit.
package final class WorkerExtractor: TextExtractor {
    /// What a worker extracts.
    package enum Format: String, Codable, Sendable {
        case pdf, html
    }

    /// The program and leading arguments that start a worker.
    package let command: [String]
    package let format: Format
    package let documentsPerProcess: Int
    private let idle = Mutex<[WorkerProcess]>([])

    package init(command: [String], format: Format = .pdf, documentsPerProcess: Int = 500) {
        self.command = command
        self.format = format
        self.documentsPerProcess = documentsPerProcess
        // A worker that died leaves a broken pipe; writing to it must fail, not kill us.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        for worker in idle.withLock({ $0 }) { worker.stop() }
    }

    struct Request: Codable {
        var format: Format?
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
            worker = try WorkerProcess(command: command + ["--address-space", String(limits.addressSpace)])
        }
        let request = Request(
            format: format, path: URL(fileURLWithPath: path).standardizedFileURL.path, maximumTextBytes: limits.maximumTextBytes,
            maximumBytes: format == .pdf ? limits.maximumPDFBytes : limits.maximumMarkupBytes)
        let result: Result
        do {
            result = try worker.run(request, timeout: limits.timeout, maximumReply: limits.maximumTextBytes * 6 + (1 << 20))
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
        let pdf = PDFTextExtractor()
        let html = HTMLTextExtractor()
        while let line = readLine(strippingNewline: true) {
            var result = Result()
            if let request = try? JSONDecoder().decode(Request.self, from: Data(line.utf8)) {
                var limits = ExtractionLimits.standard
                limits.maximumTextBytes = request.maximumTextBytes
                limits.maximumPDFBytes = request.maximumBytes
                limits.maximumMarkupBytes = request.maximumBytes
                let extractor: any TextExtractor = request.format == .html ? html : pdf
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

/// One worker process and its pipes, spawned and reaped directly (`posix_spawn`, `waitpid`):
/// Foundation's `Process` waits for exits through a run loop, which can stall when the
/// program is shutting down. It is used by one thread at a time: the pool hands it out and
/// takes it back.
private final class WorkerProcess: @unchecked Sendable {
    private let pid: pid_t
    private var input: Int32
    private let output: Int32
    private var exitStatus: Int32?
    private(set) var documents = 0

    init(command: [String]) throws(ExtractionFailure) {
        var toWorker: [Int32] = [-1, -1]
        var fromWorker: [Int32] = [-1, -1]
        guard Self.makePipe(&toWorker) else { throw .crashed("cannot create a pipe") }
        guard Self.makePipe(&fromWorker) else {
            close(toWorker[0])
            close(toWorker[1])
            throw .crashed("cannot create a pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toWorker[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fromWorker[1], STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, command[0], &actions, nil, &arguments, environ)
        close(toWorker[0])
        close(fromWorker[1])
        guard spawned == 0 else {
            close(toWorker[1])
            close(fromWorker[0])
            throw .crashed("cannot start a worker: \(String(cString: strerror(spawned)))")
        }
        pid = child
        input = toWorker[1]
        output = fromWorker[0]
    }

    deinit {
        stop()
        close(output)
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    /// Looked up at run time: Swift's Glibc module hides this GNU extension.
    private static let pipe2: Pipe2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: Pipe2.self)
    }()

    /// A pipe whose ends close on exec, so that no other child inherits them (an inherited
    /// write end would hide a worker's death from the reader). `pipe2` makes that atomic;
    /// without it, the flags are set right after.
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        if let pipe2 { return pipe2(&ends, O_CLOEXEC) == 0 }
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    func run(_ request: WorkerExtractor.Request, timeout: Double, maximumReply: Int) throws(ExtractionFailure) -> WorkerExtractor.Result {
        documents += 1
        let deadline = Date().addingTimeInterval(timeout)
        guard let line = try? JSONEncoder().encode(request) else { throw .damaged("unencodable path") }
        let bytes = [UInt8](line) + [0x0A]
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { throw deathReport() }
            written += n
        }
        let header = try read(8, before: deadline)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= maximumReply else {
            throw .crashed("worker gave no readable result")
        }
        let payload = try read(length, before: deadline)
        guard let result = try? JSONDecoder().decode(WorkerExtractor.Result.self, from: payload) else {
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

    /// Why the worker stopped answering (it has closed its output, so it is exiting).
    private func deathReport() -> ExtractionFailure {
        let status = reap(waiting: true)
        if let status, status & 0x7F != 0 {
            return .crashed("worker killed by signal \(status & 0x7F)")
        }
        if let status, (status >> 8) & 0xFF != 0 {
            return .crashed("worker exited with status \((status >> 8) & 0xFF)")
        }
        return .crashed("worker gave no readable result")
    }

    /// Collects the worker's exit status once; `nil` while it still runs (without `waiting`).
    @discardableResult
    private func reap(waiting: Bool) -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, waiting ? 0 : WNOHANG)
            if result < 0, errno == EINTR { continue }
            if result == pid { exitStatus = status }
            return exitStatus
        }
    }

    /// Ends the worker: closing its input ends a healthy one, the kill any other. Idempotent.
    func stop() {
        if input >= 0 {
            close(input)
            input = -1
        }
        if reap(waiting: false) == nil {
            kill(pid, SIGKILL)
            reap(waiting: true)
        }
    }
}
