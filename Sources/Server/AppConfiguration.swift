import Foundation

/// Everything the `oaken` command decides before it runs, in one value that tests build by hand.
package struct AppConfiguration: Sendable, Equatable {
    /// Where the database, the blobs and the generated secrets live.
    package var dataDirectory: URL
    /// The largest upload or stored file, in bytes; `nil` means no limit.
    package var maximumUploadSize: Int64?

    package init(dataDirectory: URL, maximumUploadSize: Int64? = nil) {
        self.dataDirectory = dataDirectory
        self.maximumUploadSize = maximumUploadSize
    }

    /// Reads a size such as `512M`, `2G`, `100k` or `1048576` (bytes; binary multiples).
    package static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let multipliers: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        if let multiplier = multipliers[Character(last.lowercased())] {
            guard let value = Int64(trimmed.dropLast()), value > 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        guard let value = Int64(trimmed), value > 0 else { return nil }
        return value
    }
}
