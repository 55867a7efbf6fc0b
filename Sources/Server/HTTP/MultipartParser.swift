import Foundation
import HTTPTypes
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An incremental `multipart/form-data` parser (RFC 7578) that never holds a whole part: the
/// body is fed in chunks as it arrives from the network, and parts come out as their headers,
/// then slices of their bytes, then their end. Only a delimiter's length of bytes is held back
/// between chunks, in case a delimiter straddles two of them.
///
/// The delimiter is searched with `memmem`, which skips through file bytes far faster than a
/// byte-by-byte state machine: an upload's bytes are seen once here, once by the hash, and
/// once by the disk.
struct MultipartParser {
    enum Event: Equatable {
        /// A part begins; header names are lowercased.
        case headers([String: String])
        /// The next bytes of the current part.
        case body(ByteBuffer)
        /// The current part is complete.
        case partEnd
        /// The closing delimiter: nothing follows.
        case end
    }

    enum Failure: Error, Equatable {
        case malformed(String)
    }

    /// The boundary parameter of a `multipart/form-data` content type.
    /// The text fields of a whole multipart form (file parts are refused: files go to the
    /// upload route). Throws 400 for a form without a usable boundary or a malformed one.
    static func fields(of bytes: [UInt8], contentType: String) throws -> Parameters {
        guard let boundary = boundary(ofContentType: contentType) else {
            throw HTTPFailure.badRequest("the multipart body has no usable boundary")
        }
        var parser = MultipartParser(boundary: boundary)
        parser.feed(ByteBuffer(bytes: bytes))
        var fields = Parameters()
        var name: String?
        var value: [UInt8] = []
        do {
            while let event = try parser.next() {
                switch event {
                case .headers(let headers):
                    let disposition = disposition(headers["content-disposition"] ?? "")
                    guard disposition.fileName == nil else {
                        throw HTTPFailure(.unsupportedMediaType, "files are uploaded to /system/pool/createfile")
                    }
                    name = disposition.name
                    value = []
                case .body(let chunk):
                    value += chunk.readableBytesView
                case .partEnd:
                    if let name { fields.append(name, String(decoding: value, as: UTF8.self)) }
                    name = nil
                case .end:
                    break
                }
            }
            try parser.finish()
        } catch Failure.malformed(let message) {
            throw HTTPFailure.badRequest("the multipart body is malformed: \(message)")
        }
        return fields
    }

    static func boundary(ofContentType type: String) -> String? {
        guard type.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in type.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            // RFC 2046: 1 to 70 characters.
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// The most a part's header block may take.
    static let maximumHeaderBytes = 16 << 10

    private enum State {
        case preamble, afterDelimiter, headers, body, epilogue
    }

    /// `CRLF--boundary`: a delimiter is always preceded by a line break, except the very
    /// first, which the parser gives one by starting its buffer with CRLF.
    private let delimiter: [UInt8]
    private var buffer: ByteBuffer
    private var state = State.preamble

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        buffer = ByteBuffer(bytes: [13, 10])
    }

    /// Whether the closing delimiter has been read.
    var isFinished: Bool {
        if case .epilogue = state { return true }
        return false
    }

    mutating func feed(_ chunk: ByteBuffer) {
        if case .epilogue = state { return }
        var chunk = chunk
        if buffer.readableBytes == 0 {
            buffer = chunk
        } else {
            buffer.writeBuffer(&chunk)
        }
    }

    /// The next event, or `nil` when more input is needed.
    mutating func next() throws -> Event? {
        while true {
            switch state {
            case .preamble:
                guard let found = find(delimiter) else {
                    // Keep only what could still begin a delimiter.
                    buffer.moveReaderIndex(forwardBy: max(0, buffer.readableBytes - (delimiter.count - 1)))
                    buffer.discardReadBytes()
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: found + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                // `--` closes the body; otherwise optional white space, then CRLF.
                let view = buffer.readableBytesView
                guard view.count >= 2 else { return nil }
                if view.starts(with: [45, 45]) {
                    state = .epilogue
                    buffer.clear()
                    return .end
                }
                guard let lineEnd = find([13, 10]) else {
                    if view.count > 64 { throw Failure.malformed("junk after a part delimiter") }
                    return nil
                }
                guard view.prefix(lineEnd).allSatisfy({ $0 == 32 || $0 == 9 }) else {
                    throw Failure.malformed("junk after a part delimiter")
                }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                state = .headers
            case .headers:
                // An empty header block ends right away; otherwise at the first blank line.
                let end: Int
                if buffer.readableBytesView.starts(with: [13, 10]) {
                    end = 0
                } else if let blank = find([13, 10, 13, 10]) {
                    end = blank + 2
                } else {
                    if buffer.readableBytes > Self.maximumHeaderBytes {
                        throw Failure.malformed("a part's headers are longer than \(Self.maximumHeaderBytes) bytes")
                    }
                    return nil
                }
                let block = buffer.readString(length: end) ?? ""
                buffer.moveReaderIndex(forwardBy: 2)
                state = .body
                return .headers(try Self.parseHeaders(block))
            case .body:
                if let found = find(delimiter) {
                    if found > 0 {
                        return .body(buffer.readSlice(length: found)!)
                    }
                    buffer.moveReaderIndex(forwardBy: delimiter.count)
                    state = .afterDelimiter
                    return .partEnd
                }
                let safe = buffer.readableBytes - (delimiter.count - 1)
                guard safe > 0 else {
                    buffer.discardReadBytes()
                    return nil
                }
                return .body(buffer.readSlice(length: safe)!)
            case .epilogue:
                return nil
            }
        }
    }

    /// Checks, once the input has ended, that the body was complete.
    func finish() throws {
        guard isFinished else { throw Failure.malformed("the multipart body ended before its closing delimiter") }
    }

    /// The offset of `needle` in the readable bytes: `memchr` (vectorised in the C library)
    /// finds each candidate first byte, and only those are compared in full.
    private func find(_ needle: [UInt8]) -> Int? {
        buffer.withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
            let first = Int32(needle[0])
            let lastStart = haystack.count - needle.count
            var offset = 0
            while offset <= lastStart {
                guard let hit = memchr(base + offset, first, lastStart - offset + 1) else { return nil }
                let candidate = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + candidate, needle, needle.count) == 0 { return candidate }
                offset = candidate + 1
            }
            return nil
        }
    }

    private static func parseHeaders(_ block: String) throws -> [String: String] {
        var headers: [String: String] = [:]
        for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed("a part header without a colon") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { throw Failure.malformed("a part header without a name") }
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// The `name` and `filename` parameters of a part's Content-Disposition.
    static func disposition(_ value: String) -> (name: String?, fileName: String?) {
        var name: String?
        var fileName: String?
        var encodedFileName: String?
        for parameter in Self.parameters(of: value) {
            switch parameter.key {
            case "name": name = parameter.value
            case "filename": fileName = parameter.value
            case "filename*":
                // RFC 5987: charset'language'percent-encoded.
                let parts = parameter.value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if parts.count == 3, parts[0].lowercased() == "utf-8" { encodedFileName = String(parts[2]).removingPercentEncoding }
            default: break
            }
        }
        return (name, encodedFileName ?? fileName)
    }

    /// `key=value` parameters after the first `;`, values unquoted.
    private static func parameters(of value: String) -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        var rest = Substring(value)
        guard let first = rest.firstIndex(of: ";") else { return [] }
        rest = rest[rest.index(after: first)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var parsed = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        parsed.append(c)
                        escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        break
                    } else {
                        parsed.append(c)
                    }
                }
                rest = rest.drop { $0 != ";" }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                parsed = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result.append((key, parsed))
        }
        return result
    }
}
