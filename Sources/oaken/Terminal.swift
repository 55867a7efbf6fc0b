import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The little terminal handling the commands need.
enum Terminal {
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// Reads a line from the terminal without echoing it.
    static func readSecret(prompt: String) throws -> String {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw ValidationError("cannot read from the terminal") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            writeError("\n")
        }
        writeError(prompt)
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password given") }
        return line
    }
}

/// Writes to standard error, for prompts and diagnostics that must not mix with output.
func writeError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Writes to standard output at once, unbuffered, so a reader sees each line as it happens.
func writeOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
