import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 exchange over a plain loopback socket: the test writes exactly the bytes it
/// wants (broken ones included) and reads whatever comes back until the server closes.
package struct HTTPResult: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package var text: String { String(decoding: body, as: UTF8.self) }

    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    package func headers(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The body as a JSON object (or array), for assertions.
    package var json: Any? {
        try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    }

    /// Every header line and the body, for scanning.
    package var everything: String {
        headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + "\n\n" + text
    }
}

package enum RawHTTP {
    /// `exchange` on a thread of its own: socket calls block, and blocking a thread of
    /// Swift's cooperative pool or of Dispatch's (both as small as the core count) would
    /// starve the server under test of the threads it needs.
    package static func exchange(
        _ request: [UInt8], port: Int, shutdownWrite: Bool = false, timeout: Double = 30, source: String? = nil
    ) async throws -> HTTPResult? {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try exchange(request, port: port, shutdownWrite: shutdownWrite, timeout: timeout, source: source) as HTTPResult?
                })
            }
        }
    }

    /// Sends `request` to 127.0.0.1:`port` and reads the reply until the server closes the
    /// connection (or `timeout` passes). `nil` when no status line came back.
    package static func exchange(
        _ request: [UInt8], port: Int, shutdownWrite: Bool = false, timeout: Double = 30, source: String? = nil
    ) throws -> HTTPResult? {
        let raw = try roundTrip(request, port: port, shutdownWrite: shutdownWrite, timeout: timeout, source: source)
        return parse(raw)
    }

    package static func roundTrip(
        _ request: [UInt8], port: Int, shutdownWrite: Bool, timeout: Double, source: String? = nil
    ) throws -> [UInt8] {
        let fd = try connected(port: port, timeout: timeout, source: source)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may close early on a bad request
            sent += n
        }
        if shutdownWrite { shutdown(fd, Int32(SHUT_WR)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return response
    }

    /// Sends `request` and returns the first complete response, without waiting for the
    /// server to close: for a request whose body is announced but never sent, whose fate
    /// must be decided from its head alone. `nil` when none came within `timeout`.
    package static func firstResponse(_ request: [UInt8], port: Int, timeout: Double = 10) async throws -> HTTPResult? {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try firstResponse(request, port: port, timeout: timeout) as HTTPResult? })
            }
        }
    }

    private static func firstResponse(_ request: [UInt8], port: Int, timeout: Double) throws -> HTTPResult? {
        let fd = try connected(port: port, timeout: timeout)
        defer { close(fd) }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = response.firstRange(of: [13, 10, 13, 10]), let result = parse(response) {
                let length = result.header("Content-Length").flatMap { Int($0) } ?? 0
                if response.count - end.upperBound >= length { return result }
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return parse(response) }
            response += buffer[0..<n]
        }
    }

    package static func connectedSocket(port: Int, timeout: Double) throws -> Int32 {
        try connected(port: port, timeout: timeout)
    }

    /// The first response in `bytes` when it is complete, with how many bytes it took.
    package static func completeResponse(in bytes: [UInt8]) -> (HTTPResult, Int)? {
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]), let head = parse(Array(bytes[..<end.upperBound])) else { return nil }
        let bodyStart = end.upperBound
        if head.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            var index = bodyStart
            while let lineEnd = bytes[index...].firstRange(of: [13, 10]) {
                let size = Int(String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                if size == 0 {
                    guard let trailerEnd = bytes[lineEnd.lowerBound...].firstRange(of: [13, 10, 13, 10]) else { return nil }
                    return (parse(Array(bytes[..<trailerEnd.upperBound]))!, trailerEnd.upperBound)
                }
                index = lineEnd.upperBound + size + 2
                guard index <= bytes.count else { return nil }
            }
            return nil
        }
        let length = head.header("Content-Length").flatMap { Int($0) } ?? 0
        guard bytes.count - bodyStart >= length else { return nil }
        return (parse(Array(bytes[..<(bodyStart + length)]))!, bodyStart + length)
    }

    /// A socket connected to 127.0.0.1:`port`, from `source` (another loopback address, to
    /// act as a second client machine) when given.
    private static func connected(port: Int, timeout: Double, source: String? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw POSIXError(.EADDRNOTAVAIL)
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Parses a response: status line, headers, then a Content-Length or chunked body.
    package static func parse(_ raw: [UInt8]) -> HTTPResult? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = raw.firstRange(of: separator) else { return nil }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(raw[end.upperBound...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = dechunk(body)
        } else if let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap({ Int($0.1) }) {
            body = Array(body.prefix(length))
        }
        return HTTPResult(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < data.count {
            guard let lineEnd = data[index...].firstRange(of: [13, 10]) else { break }
            let size = Int(String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
            if size == 0 { break }
            let start = lineEnd.upperBound
            out += data[start..<min(start + size, data.count)]
            index = start + size + 2
        }
        return out
    }
}

/// One keep-alive connection: requests are written one after another on the same socket, and
/// each response is read to its end (by `Content-Length` or chunked encoding), as a browser
/// does, rather than until the server closes.
package final class PersistentConnection: @unchecked Sendable {
    private var fd: Int32 = -1
    private var pending: [UInt8] = []
    let port: Int
    let timeout: Double

    package init(port: Int, timeout: Double = 30) {
        self.port = port
        self.timeout = timeout
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether the server has closed the connection (a later request opens a new one).
    package private(set) var reconnects = 0

    package func exchange(_ request: [UInt8]) async throws -> HTTPResult? {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try self.exchangeNow(request) as HTTPResult? })
            }
        }
    }

    private func exchangeNow(_ request: [UInt8]) throws -> HTTPResult? {
        if fd < 0 {
            fd = try RawHTTP.connectedSocket(port: port, timeout: timeout)
            pending = []
            reconnects += 1
        }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let (result, used) = RawHTTP.completeResponse(in: pending) {
                pending.removeFirst(used)
                if result.header("Connection")?.lowercased() == "close" {
                    close(fd)
                    fd = -1
                }
                return result
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 {
                close(fd)
                fd = -1
                return RawHTTP.parse(pending)
            }
            pending += buffer[0..<n]
        }
    }
}

/// A browser-like client: keeps cookies, sends a same-origin Referer on writes (as the UI
/// does), and speaks form-encoded bodies.
package final class HTTPSession: @unchecked Sendable {
    package let port: Int
    package var cookies: [String: String] = [:]
    /// Sent as `Referer` on non-GET requests; `nil` sends none.
    package var referer: String?
    package var extraHeaders: [(String, String)] = []
    /// The loopback address to connect from (`127.0.0.2`, say), to act as another machine.
    package var sourceAddress: String?
    /// When set, requests go over this one keep-alive connection instead of a connection each.
    package var connection: PersistentConnection?

    /// Makes the session keep one connection open across its requests, as a browser does.
    @discardableResult
    package func keepingAlive() -> HTTPSession {
        connection = PersistentConnection(port: port)
        return self
    }

    package init(port: Int) {
        self.port = port
        referer = "http://127.0.0.1:\(port)/dev/index.html"
    }

    package var origin: String { "http://127.0.0.1:\(port)" }

    @discardableResult
    package func get(_ target: String, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await send("GET", target, headers: headers)
    }

    /// POSTs form fields (in order, repeats allowed).
    @discardableResult
    package func post(_ target: String, _ fields: [(String, String)] = [], headers: [(String, String)] = []) async throws -> HTTPResult {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(
            "POST", target, headers: headers + [("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")],
            body: Array(body.utf8))
    }

    package func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> HTTPResult {
        var lines = ["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Content-Length: \(body.count)"]
        if connection == nil { lines.append("Connection: close") }
        if method != "GET", let referer { lines.append("Referer: \(referer)") }
        if !cookies.isEmpty { lines.append("Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")) }
        for (name, value) in extraHeaders + headers { lines.append("\(name): \(value)") }
        let request = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
        let reply: HTTPResult?
        if let connection {
            reply = try await connection.exchange(request)
        } else {
            reply = try await RawHTTP.exchange(request, port: port, source: sourceAddress)
        }
        guard let result = reply else { throw POSIXError(.EPROTO) }
        for cookie in result.headers("Set-Cookie") {
            let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            let name = String(pair[0]).trimmingCharacters(in: .whitespaces)
            if pair[1].isEmpty || cookie.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = String(pair[1]) }
        }
        return result
    }

    /// Query-string and form encoding: everything but unreserved characters is escaped.
    package static func encode(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `path?name=value&…`, encoded.
    package static func target(_ path: String, _ query: [(String, String)]) -> String {
        query.isEmpty ? path : path + "?" + query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
