import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Repository
import Synchronization

/// The request context: Hummingbird's, plus the peer's address for throttling.
package struct OakenRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: String

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The HTTP face of `OakenService`: turns requests into calls (form parsing, identity,
/// OAE's Referer and anonymous-POST rules), and replies into responses with the security
/// headers and an access log line carrying a request id.
package struct OakenResponder: HTTPResponder {
    package typealias Context = OakenRequestContext
    let service: OakenService
    private let requestCounter = RequestCounter()
    private let instance = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private let fileIO = FileIO()

    package init(service: OakenService) {
        self.service = service
    }

    /// The longest request target accepted.
    static let maximumTargetLength = 16 << 10

    package func respond(to request: Request, context: OakenRequestContext) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        let requestID = "\(instance)-\(requestCounter.next())"
        var request = request
        var call: Call?
        let reply: Reply
        do {
            let made = try await makeCall(&request, context: context)
            call = made
            reply = await service.respond(to: made, address: context.remoteAddress)
        } catch {
            reply = .failure(HTTPFailure(error), for: call)
        }
        var headers = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        headers[.init("X-Request-Id")!] = requestID
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("X-Frame-Options")!] = "DENY"
        // Nakamura's spelling, which some clients of OAE 1.2 look for.
        headers[.init("X-Frame-Option")!] = "DENY"
        headers[.init("Referrer-Policy")!] = "same-origin"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        let elapsed = started.duration(to: clock.now)
        let tenths = (elapsed.components.seconds * 10_000) + elapsed.components.attoseconds / 100_000_000_000_000
        service.logger.info(
            "\(request.method.rawValue) \(call?.path ?? "-") \(reply.status.code) \(tenths / 10).\(tenths % 10) ms",
            metadata: ["request": .string(requestID), "user": .string(call?.viewer.userID ?? "-")])
        let body: ResponseBody
        if let file = reply.file {
            headers[.contentLength] = String(file.length)
            body = request.method == .head || file.length == 0
                ? ResponseBody()
                : try await fileIO.loadFile(
                    path: file.path, range: Int(file.offset)...Int(file.offset + file.length - 1), context: context)
        } else {
            body = request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
            if request.method == .head { headers[.contentLength] = String(reply.body.count) }
        }
        return Response(status: reply.status, headers: headers, body: body)
    }

    private func makeCall(_ request: inout Request, context: OakenRequestContext) async throws -> Call {
        let target = request.head.path ?? "/"
        guard target.utf8.count <= Self.maximumTargetLength else {
            throw HTTPFailure(.uriTooLong, "the request target is longer than \(Self.maximumTargetLength) bytes")
        }
        let pathPart: Substring
        var parameters = Parameters()
        if let question = target.firstIndex(of: "?") {
            pathPart = target[..<question]
            parameters = try Parameters.parseForm(target[target.index(after: question)...])
        } else {
            pathPart = target[...]
        }
        let path = try decodePath(pathPart)
        let method = request.method
        // A request's fate is decided from its head: the Referer, the caller and the body's
        // announced size are all checked before a byte of the body is read.
        try RequestGuard.checkReferer(method: method, referer: request.headers[.referer], host: request.head.authority)
        let viewer = try await identify(request.headers, address: context.remoteAddress)
        let hasBody = method != .get && method != .head
        if viewer.isAnonymous, hasBody, !RequestGuard.anonymousMayPost(to: path) {
            throw HTTPFailure.methodNotAllowed("Anon users may not perform POST operations").closing()
        }
        var body: [UInt8]?
        var upload: Upload?
        let type = request.headers[.contentType]?.lowercased() ?? ""
        if method == .post, type.hasPrefix("multipart/"), OakenService.isUpload(path) {
            // Streamed into the blob store by the handler, never collected here; the handler
            // counts the bytes against the upload limit.
            upload = Upload(contentType: request.headers[.contentType] ?? "", body: request.body)
        } else if hasBody {
            let limits = service.options.bodyLimits
            let limit = limits.limit(path: path, anonymous: viewer.isAnonymous)
            if let announced = request.headers[.contentLength].flatMap({ Int($0) }), announced > limit {
                throw HTTPFailure.tooLarge(limit).closing()
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw HTTPFailure.tooLarge(limit).closing()
            } catch {
                throw HTTPFailure.badRequest("the request body ended before its announced length")
            }
            let bytes = Array(buffer.readableBytesView)
            if type.hasPrefix("application/x-www-form-urlencoded") || (type.isEmpty && !bytes.isEmpty) {
                parameters.append(contentsOf: try Parameters.parseForm(bytes))
                // Only an import (or a batch of them) may carry more than a form's worth of fields.
                guard limits.accepts(bytes.count, path: path, operation: parameters[":operation"]) else {
                    throw HTTPFailure.tooLarge(limits.form)
                }
            } else if type.hasPrefix("multipart/form-data") {
                // A form sent as multipart, as Sling takes it too: its fields become parameters.
                guard bytes.count <= limits.form else { throw HTTPFailure.tooLarge(limits.form) }
                parameters.append(contentsOf: try MultipartParser.fields(of: bytes, contentType: request.headers[.contentType] ?? ""))
            } else {
                guard bytes.count <= limits.form else { throw HTTPFailure.tooLarge(limits.form) }
                body = bytes
            }
        }
        var call = Call(
            method: method, path: path, parameters: parameters, headers: request.headers, viewer: viewer, body: body,
            upload: upload)
        let options = service.options
        call.isSecure = options.secureCookies
            || (options.trustedProxies.contains(context.remoteAddress)
                && request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https")
        return call
    }

    /// The session cookie's user, else HTTP Basic credentials (for scripts), else anonymous.
    private func identify(_ headers: HTTPFields, address: String) async throws -> Viewer {
        if let token = OakenService.cookie(OakenService.sessionCookie, in: headers) {
            if let viewer = service.accounts.viewer(forToken: token) { return viewer }
            let generation = service.accounts.generation
            if let (user, membership) = try await service.sessions.account(forToken: token) {
                let viewer = OakenService.viewer(user, membership)
                service.accounts.remember(viewer, forToken: token, readAt: generation)
                return viewer
            }
        }
        guard let authorization = headers[.authorization], authorization.lowercased().hasPrefix("basic ") else {
            return .anonymous
        }
        guard let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { throw HTTPFailure.badRequest("the Authorization header is not valid Basic credentials") }
        let name = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard let id = try await service.authenticate(name, password, address: address) else {
            throw HTTPFailure(.unauthorized, "The user name or password is wrong", headers: [("WWW-Authenticate", "Basic realm=\"Oaken\"")])
        }
        // The user's viewer is kept as a session's is, under a key no session token can take.
        let key = "basic\u{0}" + id
        if let viewer = service.accounts.viewer(forToken: key) { return viewer }
        let generation = service.accounts.generation
        let viewer = try await service.viewer(forUser: id)
        service.accounts.remember(viewer, forToken: key, readAt: generation)
        return viewer
    }
}

private final class RequestCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
}

/// Runs the server until SIGTERM or SIGINT, finishing requests in flight.
package struct OakenServer: Sendable {
    package let service: OakenService

    package init(service: OakenService) {
        self.service = service
    }

    /// The Hummingbird application; `onRunning` gets the bound port (useful with port 0).
    package func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let options = service.options
        var logger = service.logger
        logger.logLevel = min(logger.logLevel, .info)
        return Application(
            responder: OakenResponder(service: service),
            server: HTTPServerBuilder { responder in LargeReadChannel(inner: HTTP1Channel(responder: responder)) },
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "Oaken"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) },
            logger: logger)
    }
}

/// HTTP/1.1 with socket reads of up to 1 MiB instead of NIO's 64 KiB: an upload's body then
/// crosses from the event loop to the request's task in a few large pieces rather than many
/// small ones, each of which costs a hand-off between threads.
struct LargeReadChannel: ServerChildChannel {
    let inner: HTTP1Channel

    static let maximumRead = 1 << 20

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        channel.setOption(
            ChannelOptions.recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 16 << 10, maximum: Self.maximumRead)
        ).flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
