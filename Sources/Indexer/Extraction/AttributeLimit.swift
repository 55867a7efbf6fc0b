import Foundation

/// Caps the attributes of each start tag before libxml2 sees a page. libxml2 checks every new
/// attribute of an element against all the earlier ones and walks the element's list to append
/// it, so one element with 200,000 attributes (2.3 MB) kept it busy for minutes. Text
/// extraction needs no attribute beyond a `<meta>`'s few, so past `maximum` on one element the
/// rest are dropped, in one linear pass that leaves every other byte as it was.
enum AttributeLimit {
    static let maximum = 64

    /// `data` with no start tag carrying more than `maximum` attributes; `data` itself (no copy)
    /// when none does.
    static func apply(_ data: Data, maximum: Int = maximum) -> Data {
        let cuts: [Range<Int>] = data.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self), maximum: maximum)
            return scanner.excessAttributes()
        }
        guard !cuts.isEmpty else { return data }
        var result = Data(capacity: data.count)
        var start = 0
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for cut in cuts {
                result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<cut.lowerBound]))
                start = cut.upperBound
            }
            result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        return result
    }

    /// An HTML tokenizer that knows only what it takes to find attributes: tags, comments,
    /// declarations, quoted values and the raw text of `script` and `style`.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let maximum: Int
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maximum: Int) {
            self.bytes = bytes
            self.maximum = maximum
        }

        /// The byte ranges of the attributes past `maximum` on any one element.
        mutating func excessAttributes() -> [Range<Int>] {
            var cuts: [Range<Int>] = []
            let count = bytes.count
            while index < count {
                guard bytes[index] == UInt8(ascii: "<"), index + 1 < count else {
                    index += 1
                    continue
                }
                let next = bytes[index + 1]
                if isLetter(next) {
                    index += 1
                    startTag(into: &cuts)
                } else if next == UInt8(ascii: "!"), starts(with: "<!--", at: index) {
                    index = find("-->", from: index + 4).map { $0 + 3 } ?? count
                } else if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") || next == UInt8(ascii: "/") {
                    index = find(">", from: index + 2).map { $0 + 1 } ?? count
                } else {
                    index += 1
                }
            }
            return cuts
        }

        private mutating func startTag(into cuts: inout [Range<Int>]) {
            let count = bytes.count
            let nameStart = index
            while index < count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: ">"), bytes[index] != UInt8(ascii: "/") {
                index += 1
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[nameStart..<index]), as: UTF8.self).lowercased()
            var attributes = 0
            var excessStart: Int?
            while index < count {
                let byte = bytes[index]
                if isSpace(byte) || byte == UInt8(ascii: "/") {
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: ">") { break }
                let attributeStart = index
                while index < count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: "="), bytes[index] != UInt8(ascii: ">"),
                    bytes[index] != UInt8(ascii: "/") || index == attributeStart
                {
                    index += 1
                }
                var look = index
                while look < count, isSpace(bytes[look]) { look += 1 }
                if look < count, bytes[look] == UInt8(ascii: "=") {
                    index = look + 1
                    while index < count, isSpace(bytes[index]) { index += 1 }
                    if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                        let quote = bytes[index]
                        index += 1
                        while index < count, bytes[index] != quote { index += 1 }
                        index = min(index + 1, count)
                    } else {
                        while index < count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: ">") { index += 1 }
                    }
                }
                attributes += 1
                if attributes == maximum + 1 { excessStart = attributeStart }
            }
            if let excessStart { cuts.append(excessStart..<index) }
            if index < count { index += 1 }
            // The raw text of a script or style holds no tags.
            if name == "script" || name == "style" {
                index = findClosing(name, from: index) ?? count
            }
        }

        private func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
        }

        private func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
        }

        private func starts(with text: StaticString, at position: Int) -> Bool {
            let length = text.utf8CodeUnitCount
            guard position + length <= bytes.count else { return false }
            return (0..<length).allSatisfy { bytes[position + $0] == text.utf8Start[$0] }
        }

        private func find(_ text: StaticString, from position: Int) -> Int? {
            var at = position
            while at + text.utf8CodeUnitCount <= bytes.count {
                if starts(with: text, at: at) { return at }
                at += 1
            }
            return nil
        }

        /// Where `</name` starts (any case), from `position`.
        private func findClosing(_ name: String, from position: Int) -> Int? {
            let wanted = Array(name.utf8)
            var at = position
            while at + 2 + wanted.count <= bytes.count {
                if bytes[at] == UInt8(ascii: "<"), bytes[at + 1] == UInt8(ascii: "/"),
                    (0..<wanted.count).allSatisfy({ bytes[at + 2 + $0] | 0x20 == wanted[$0] })
                {
                    return at
                }
                at += 1
            }
            return nil
        }
    }
}
