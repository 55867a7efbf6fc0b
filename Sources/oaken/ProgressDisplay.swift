import Foundation

/// Shows how a long phase is going: a live line with rates and ETA on a terminal, a plain line
/// every few seconds otherwise (for logs).
actor ProgressDisplay {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var phase = ""
    private var total = 0
    private var done = 0
    private var pages = 0
    private var started = Date()
    private var lastShown = Date.distantPast

    func begin(_ phase: String, total: Int) {
        self.phase = phase
        self.total = total
        done = 0
        pages = 0
        started = Date()
        lastShown = .distantPast
    }

    func advance(by files: Int = 1, pages: Int = 0) {
        done += files
        self.pages += pages
        let now = Date()
        if now.timeIntervalSince(lastShown) >= (isTerminal ? 0.2 : 5) {
            lastShown = now
            show(final: false)
        }
    }

    func finish() {
        if total > 0 || isTerminal { show(final: true) }
    }

    private func show(final: Bool) {
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        var line = "\(phase): \(done)/\(total) files, \(String(format: "%.1f", rate)) files/s"
        if pages > 0 { line += ", \(String(format: "%.1f", Double(pages) / elapsed)) pages/s" }
        if !final, rate > 0, total > done {
            line += ", ETA \(Self.duration(Double(total - done) / rate))"
        } else if final {
            line += ", \(Self.duration(elapsed))"
        }
        if isTerminal {
            let width = 24
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            writeError("\r\u{1B}[2K\(bar) \(line)" + (final ? "\n" : ""))
        } else {
            writeError(line + "\n")
        }
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
