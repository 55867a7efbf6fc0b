/// Decides what a blob is from its first bytes, never from a file name: a name is whatever the
/// uploader typed, while the bytes are what a browser or an extractor will actually see.
package enum MediaTypeSniffer {
    /// Signatures of the binary formats a content repository commonly holds.
    private static let signatures: [(bytes: [UInt8], type: String)] = [
        (Array("%PDF-".utf8), "application/pdf"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "image/png"),
        ([0xFF, 0xD8, 0xFF], "image/jpeg"),
        (Array("GIF87a".utf8), "image/gif"),
        (Array("GIF89a".utf8), "image/gif"),
        ([0x50, 0x4B, 0x03, 0x04], "application/zip"),
        ([0x1F, 0x8B], "application/gzip"),
        ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "application/x-ole-storage"),
        (Array("{\\rtf".utf8), "application/rtf"),
        (Array("ID3".utf8), "audio/mpeg"),
        (Array("OggS".utf8), "audio/ogg"),
        (Array("fLaC".utf8), "audio/flac"),
    ]

    /// Markup that starts an HTML document, compared without case after leading white space.
    private static let htmlOpenings = ["<!doctype html", "<html", "<head", "<body", "<title", "<meta", "<!--", "<p>", "<div", "<h1", "<table"]

    /// The media type of a blob whose first bytes are `head` (a few KiB are plenty).
    package static func mediaType(of head: [UInt8]) -> String {
        if head.isEmpty { return "application/octet-stream" }
        for (signature, type) in signatures where head.starts(with: signature) {
            return type
        }
        // A PDF may have junk before its header; readers accept it within the first KiB.
        if let pdf = firstIndex(of: Array("%PDF-".utf8), in: head.prefix(1024)), pdf > 0 {
            return "application/pdf"
        }
        if head.count >= 12, head[4..<8].elementsEqual("ftyp".utf8) { return "video/mp4" }
        if head.count >= 12, head.starts(with: "RIFF".utf8), head[8..<12].elementsEqual("WEBP".utf8) { return "image/webp" }
        guard let text = TextSniff(head) else { return "application/octet-stream" }
        let opening = text.leadingLowercased(upTo: 64)
        if htmlOpenings.contains(where: { opening.hasPrefix($0) }) { return "text/html" }
        if opening.hasPrefix("<?xml") {
            // XHTML: an XML declaration, then an HTML doctype or root element.
            let prologue = text.lowercasedPrefix(upTo: 2048)
            if prologue.contains("<!doctype html") || prologue.contains("<html") { return "application/xhtml+xml" }
            return prologue.contains("<svg") ? "image/svg+xml" : "application/xml"
        }
        if opening.hasPrefix("<svg") { return "image/svg+xml" }
        return "text/plain"
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// Whether bytes look like text, and their opening as lowercase ASCII for markup checks.
private struct TextSniff {
    let bytes: ArraySlice<UInt8>

    /// `nil` when the bytes hold NULs or other control characters that text does not have.
    /// UTF-16 with a byte-order mark counts as text; its opening is read from the odd bytes.
    init?(_ head: [UInt8]) {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes = head.dropFirst(3)
        } else if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) {
            let littleEndian = head[0] == 0xFF
            let units = stride(from: 2, to: head.count - 1, by: 2).map { littleEndian ? head[$0] : head[$0 + 1] }
            bytes = ArraySlice(units)
            return
        } else {
            bytes = head[...]
        }
        let control = bytes.filter { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0x0C && $0 != 0x1B }
        guard control.isEmpty else { return nil }
    }

    func leadingLowercased(upTo count: Int) -> String {
        let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }
        return Self.lowercasedASCII(trimmed.prefix(count))
    }

    func lowercasedPrefix(upTo count: Int) -> String {
        Self.lowercasedASCII(bytes.prefix(count))
    }

    private static func lowercasedASCII(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
