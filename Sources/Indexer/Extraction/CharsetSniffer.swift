import Foundation

/// Finds the character encoding of an HTML document, the way browsers do in outline: a
/// byte-order mark wins, then a `<meta charset>` or `http-equiv` declaration in the first
/// kilobytes, then UTF-8 when the bytes are valid UTF-8, and Windows-1252 otherwise.
enum CharsetSniffer {
    static func encoding(of data: Data) -> String {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { return "UTF-8" }
        if data.starts(with: [0xFF, 0xFE]) { return "UTF-16LE" }
        if data.starts(with: [0xFE, 0xFF]) { return "UTF-16BE" }
        if let declared = declaredCharset(in: data.prefix(4096)) { return declared }
        return String(data: data, encoding: .utf8) != nil ? "UTF-8" : "windows-1252"
    }

    /// The charset named by a `<meta>` element, normalised; `nil` when there is none.
    static func declaredCharset(in head: Data) -> String? {
        let text = String(decoding: head.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        var searchStart = text.startIndex
        while let meta = text.range(of: "<meta", range: searchStart..<text.endIndex) {
            let end = text[meta.upperBound...].firstIndex(of: ">") ?? text.endIndex
            let tag = text[meta.upperBound..<end]
            if let charset = tag.range(of: "charset=") {
                let value = tag[charset.upperBound...]
                    .drop { $0 == "\"" || $0 == "'" || $0 == " " }
                    .prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ":" }
                if !value.isEmpty { return normalise(String(value)) }
            }
            searchStart = end
        }
        return nil
    }

    /// Browsers read a declared Latin-1 as Windows-1252, which is a superset of it.
    private static func normalise(_ name: String) -> String {
        switch name {
        case "iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii": "windows-1252"
        case "utf8": "UTF-8"
        default: name
        }
    }
}
