import Crypto
import Foundation

/// The address of an immutable blob: the SHA-256 of its bytes.
///
/// A `BlobID` is created only by hashing bytes or by parsing its written form, so holding
/// one means holding a well-formed digest. It is written `sha256-<64 hex digits>`.
package struct BlobID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 digest bytes, as four big-endian words so the type stays a plain value.
    private let words: (UInt64, UInt64, UInt64, UInt64)

    package static let prefix = "sha256-"

    package enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingPrefix
        case badLength(Int)
        case notHex

        package var description: String {
            switch self {
            case .missingPrefix: "a blob id starts with \(BlobID.prefix)"
            case .badLength(let n): "a blob id has 64 hex digits, not \(n)"
            case .notHex: "a blob id has only lowercase hex digits"
            }
        }
    }

    /// Builds the id of the bytes a finished hash function has seen.
    package init(digest: SHA256.Digest) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        digest.withUnsafeBytes { bytes.append(contentsOf: $0) }
        self.init(bytes: bytes)
    }

    /// The id of `data`, hashed in one go (for small values; blobs are hashed as they stream).
    package init(hashing data: some DataProtocol) {
        self.init(digest: SHA256.hash(data: data))
    }

    /// Parses `sha256-<hex>`; the bare 64 hex digits are accepted too, as they appear on disk.
    package init(parsing text: some StringProtocol) throws(ParseError) {
        var hex = Substring(text)
        if hex.hasPrefix(Self.prefix) {
            hex = hex.dropFirst(Self.prefix.count)
        } else if hex.count != 64 {
            throw .missingPrefix
        }
        guard hex.utf8.count == 64 else { throw .badLength(hex.utf8.count) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: throw .notHex
            }
            if let h = high {
                bytes.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        self.init(bytes: bytes)
    }

    private init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        func word(_ i: Int) -> UInt64 {
            bytes[i * 8..<(i + 1) * 8].reduce(0) { $0 << 8 | UInt64($1) }
        }
        words = (word(0), word(1), word(2), word(3))
    }

    /// The 64 lowercase hex digits.
    package var hex: String {
        [words.0, words.1, words.2, words.3].map { word in
            let s = String(word, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }

    package var description: String { Self.prefix + hex }

    /// A short form for logs, like `sha256-1a2b3c4d`.
    package var shortDescription: String { Self.prefix + hex.prefix(8) }

    package static func == (a: BlobID, b: BlobID) -> Bool {
        a.words == b.words
    }

    package static func < (a: BlobID, b: BlobID) -> Bool {
        a.words < b.words
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
