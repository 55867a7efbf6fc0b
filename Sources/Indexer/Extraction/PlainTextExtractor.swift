import Foundation

/// Plain text and Markdown: UTF-8 (with or without a byte-order mark), UTF-16 with a mark, and
/// anything else read as Latin-1 (Windows-1252), which never fails to decode.
package struct PlainTextExtractor: TextExtractor {
    /// Long texts are split into chunks of about this many characters, at paragraph or line
    /// breaks where possible, so that snippets stay cheap.
    static let chunkCharacters = 4000

    package init() {}

    package func extract(fileAt path: String, limits: ExtractionLimits) throws(ExtractionFailure) -> ExtractedText {
        let data = try FileBytes.read(path, limit: limits.maximumMarkupBytes)
        let text = Self.decode(data)
        var budget = TextBudget(limit: limits.maximumTextBytes)
        for chunk in Self.chunks(of: text, size: Self.chunkCharacters) {
            budget.append(chunk)
            if budget.isExhausted { break }
        }
        return ExtractedText(pages: budget.pages, hasPageNumbers: false, truncated: budget.truncated)
    }

    /// Decodes text whose encoding nothing declares.
    static func decode(_ data: Data) -> String {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) {
            return String(decoding: data.dropFirst(3), as: UTF8.self)
        }
        if data.starts(with: [0xFF, 0xFE]), let text = String(data: data.dropFirst(2), encoding: .utf16LittleEndian) {
            return text
        }
        if data.starts(with: [0xFE, 0xFF]), let text = String(data: data.dropFirst(2), encoding: .utf16BigEndian) {
            return text
        }
        if let text = String(data: data, encoding: .utf8) { return text }
        return String(data: data, encoding: .windowsCP1252) ?? String(data: data, encoding: .isoLatin1) ?? ""
    }

    /// Splits text into chunks of at most `size` UTF-8 bytes, cut after a paragraph break
    /// where possible, else after a line break, else after a space, else between characters.
    static func chunks(of text: String, size: Int) -> [String] {
        let bytes = Array(text.utf8)
        guard bytes.count > size else { return text.isEmpty ? [] : [text] }
        var chunks: [String] = []
        var start = 0
        while bytes.count - start > size {
            let limit = start + size
            var cut = breakAfter([0x0A, 0x0A], in: bytes, from: start, to: limit)
                ?? breakAfter([0x0A], in: bytes, from: start, to: limit)
                ?? breakAfter([0x20], in: bytes, from: start, to: limit)
                ?? limit
            while cut > start + 1, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            chunks.append(String(decoding: bytes[start..<cut], as: UTF8.self))
            start = cut
        }
        chunks.append(String(decoding: bytes[start...], as: UTF8.self))
        return chunks
    }

    /// The index just after the last `pattern` ending at or before `end`, if after `start`.
    private static func breakAfter(_ pattern: [UInt8], in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        var i = end - pattern.count
        while i > start {
            if bytes[i] == pattern[0], pattern.count == 1 || bytes[i + 1] == pattern[1] { return i + pattern.count }
            i -= 1
        }
        return nil
    }
}

/// Reads a whole file, refusing one over a limit before reading it.
enum FileBytes {
    static func read(_ path: String, limit: Int64) throws(ExtractionFailure) -> Data {
        let size: Int64
        do {
            size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        } catch {
            throw .damaged("cannot read the file: \(error.localizedDescription)")
        }
        guard size <= limit else { throw .tooLarge(size) }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw .damaged("cannot read the file: \(error.localizedDescription)")
        }
    }
}
