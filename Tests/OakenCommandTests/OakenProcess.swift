import Foundation

/// Runs the built `oaken` binary as a child process, the way an operator would.
struct OakenProcess {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// The binary beside this test bundle, or `$OAKEN_BINARY`.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["OAKEN_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("oaken")
    }()

    let dataDirectory: URL
    let scratch: URL

    init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
        scratch = dataDirectory.deletingLastPathComponent()
    }

    /// Runs `oaken <arguments> --data <dataDirectory>` to completion. Output goes through files,
    /// so however much the child writes, it never blocks on a full pipe.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil) throws -> Result {
        let process = try makeProcess(arguments)
        let name = UUID().uuidString
        let outURL = scratch.appendingPathComponent("\(name).out")
        let errURL = scratch.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: try String(contentsOf: outURL, encoding: .utf8),
            error: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Starts `oaken <arguments> --data <dataDirectory>` with its standard output on a pipe.
    func start(_ arguments: [String]) throws -> (Process, LineReader) {
        let process = try makeProcess(arguments)
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, LineReader(stdout.fileHandleForReading))
    }

    private func makeProcess(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments + ["--data", dataDirectory.path]
        return process
    }
}

/// Reads lines from a pipe as the child writes them.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next complete line, or `nil` at the end of the stream.
    func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let more = handle.availableData
            if more.isEmpty { return nil }
            buffer.append(more)
        }
    }
}
