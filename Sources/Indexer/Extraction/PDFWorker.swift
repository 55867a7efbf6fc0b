import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Extracts PDFs in child processes, so that a crash, hang or memory blow-up in poppler costs
/// one file and never the indexer or the server.
///
/// The child is the `oaken` binary itself in its worker mode (`command`). It lowers its own
/// address-space limit before it opens the file, and the parent kills it when the wall-clock
/// limit passes. The result comes back as JSON on the child's standard output.
package struct PDFWorker: TextExtractor {
    /// The program and leading arguments that start a worker; the file path and the limits
    /// are appended.
    package let command: [String]

    package init(command: [String]) {
        self.command = command
    }

    /// What a worker prints.
    struct Result: Codable {
        var text: ExtractedText?
        var failure: ExtractionFailure?
    }

    package func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst()) + [
            path, "--max-characters", String(limits.maximumCharacters),
            "--max-bytes", String(limits.maximumPDFBytes),
            "--address-space", String(limits.pdfAddressSpace),
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .crashed("cannot start a worker: \(error.localizedDescription)")
        }
        let reading = DispatchGroup()
        let collected = OutputCollector()
        DispatchQueue.global().async(group: reading) {
            collected.data = output.fileHandleForReading.readDataToEndOfFile()
        }
        var timedOut = false
        if reading.wait(timeout: .now() + limits.pdfTimeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            reading.wait()
        }
        process.waitUntilExit()
        if timedOut { throw .timedOut }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .crashed(
                process.terminationReason == .uncaughtSignal
                    ? "worker killed by signal \(process.terminationStatus)"
                    : "worker exited with status \(process.terminationStatus)")
        }
        guard let result = try? JSONDecoder().decode(Result.self, from: collected.data) else {
            throw .crashed("worker gave no readable result")
        }
        if let failure = result.failure { throw failure }
        guard let text = result.text else { throw .crashed("worker gave no text") }
        return text
    }

    /// The worker side: limits this process, extracts one PDF and prints the result. Returns
    /// the exit status.
    package static func runInWorker(path: String, limits: ExtractionLimits) -> Int32 {
        #if canImport(Glibc)
        var addressSpace = rlimit(rlim_cur: rlim_t(limits.pdfAddressSpace), rlim_max: rlim_t(limits.pdfAddressSpace))
        setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &addressSpace)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        #endif
        var result = Result()
        do {
            result.text = try PDFTextExtractor().extract(fileAt: path, limits: limits)
        } catch {
            result.failure = error
        }
        guard let data = try? JSONEncoder().encode(result) else { return 1 }
        FileHandle.standardOutput.write(data)
        return 0
    }
}

/// The output a reading thread hands back; written once before the group is left, read after.
private final class OutputCollector: @unchecked Sendable {
    var data = Data()
}
