import ArgumentParser
import Hummingbird

/// A one-route Hummingbird server, built with the same flags as Oaken, that the server
/// benchmark measures as its reference.
struct BareRouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-route", abstract: "Serve one fixed JSON route (the server benchmark's reference).",
        shouldDisplay: false)

    @Option var port = 8081

    func run() async throws {
        let router = Router()
        router.get("/system/me") { _, _ -> Response in
            let body = #"{"user":{"anon":true,"subjects":[],"superUser":false},"messages":{"unread":0},"contacts":{},"groups":[]}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
