import Foundation

/// Request parameters in the order they came, with repeats (`:viewer=a&:viewer=b`): from the
/// query string, then from a form body.
package struct Parameters: Sendable, Equatable {
    package private(set) var pairs: [(name: String, value: String)]

    package init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    package static func == (lhs: Parameters, rhs: Parameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    package subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    package func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    package var names: [String] {
        var seen = Set<String>()
        return pairs.compactMap { seen.insert($0.name).inserted ? $0.name : nil }
    }

    package mutating func append(_ name: String, _ value: String) {
        pairs.append((name, value))
    }

    package mutating func append(contentsOf other: Parameters) {
        pairs += other.pairs
    }

    /// Whether the named flag is set to `true` (as Sling reads `:replace=true`).
    package func flag(_ name: String) -> Bool {
        self[name]?.lowercased() == "true"
    }

    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    /// Throws `HTTPFailure.badRequest` for broken percent-encoding or text that is not UTF-8.
    package static func parseForm(_ text: Substring) throws -> Parameters {
        var result = Parameters()
        for field in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            guard !name.isEmpty else { continue }
            result.append(name, value)
        }
        return result
    }

    package static func parseForm(_ bytes: [UInt8]) throws -> Parameters {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw HTTPFailure.badRequest("the form body is not UTF-8")
        }
        return try parseForm(text[...])
    }

    /// Decodes `+` and `%XX`; the decoded bytes must be UTF-8.
    static func decode(_ text: Substring) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw HTTPFailure.badRequest("a parameter has a broken %-escape")
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw HTTPFailure.badRequest("a parameter is not UTF-8")
        }
        guard !decoded.unicodeScalars.contains("\0") else {
            throw HTTPFailure.badRequest("a parameter holds a NUL character")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Percent-decodes a URL path; `+` stays a plus. Throws for broken escapes, bytes that are
/// not UTF-8, NUL, and `.`/`..` segments.
package func decodePath(_ raw: Substring) throws -> String {
    var bytes: [UInt8] = []
    var iterator = raw.utf8.makeIterator()
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%") {
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { throw HTTPFailure.badRequest("the path has a broken %-escape") }
            bytes.append(value)
        } else {
            bytes.append(byte)
        }
    }
    guard let path = String(validating: bytes, as: UTF8.self) else { throw HTTPFailure.badRequest("the path is not UTF-8") }
    guard path.hasPrefix("/") else { throw HTTPFailure.badRequest("the path must start with '/'") }
    guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
        throw HTTPFailure.badRequest("the path holds a control character")
    }
    for segment in path.split(separator: "/") where segment == "." || segment == ".." {
        throw HTTPFailure.badRequest("the path holds a '\(segment)' segment")
    }
    return path
}
