import Foundation
import Hummingbird
import Indexer
import Logging
import Repository
import Server
import TestSupport
import Testing

/// A real server on a loopback port, over a real database file in a fresh folder, serving
/// the fixture UI tree.
final class LiveServer: @unchecked Sendable {
    let directory: URL
    let site: Site
    let service: OakenService
    let port: Int
    private let task: Task<Void, any Error>

    /// The `oaken` binary built beside the test bundle, whose `extract-worker` mode the
    /// server's isolated extraction starts.
    static let oakenBinary: String = {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("oaken").path
    }()

    static let fixtureUI = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/ui")

    /// `firstLoginWait` is long by default, so that a throttling test cannot outlast the wait on
    /// a slow machine.
    static func start(
        userIDs: UserIDMode = .opaque, sessionLifetime: Duration = .seconds(20 * 60),
        firstLoginWait: Duration = .seconds(120), passwordCost: Int = 10, extractor: DocumentExtractor? = nil,
        adminPassword: String? = nil, extractionConcurrency: Int = 2, configure: (inout ServerOptions) -> Void = { _ in }
    ) async throws -> LiveServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-server-\(UUID().uuidString)")
        let site = try await Site.open(
            dataDirectory: directory.appendingPathComponent("data"), passwordHasher: PasswordHasher(costExponent: passwordCost),
            prepareDatabase: SQLiteSearchIndex.prepareDatabase)
        var options = ServerOptions()
        options.port = 0
        options.uiDirectory = fixtureUI
        options.userIDs = userIDs
        options.sessionLifetime = sessionLifetime
        options.firstLoginWait = firstLoginWait
        configure(&options)
        var logger = Logger(label: "oaken-test")
        logger.logLevel = .warning
        if let adminPassword {
            _ = try await AdminBootstrap.run(site: site, environment: ["OAKEN_ADMIN_PASSWORD": adminPassword], userIDs: userIDs)
        }
        let index = SQLiteSearchIndex(metadata: site.metadata)
        try index.prepare()
        let extraction = BackgroundExtraction(
            workers: ExtractionWorkers(
                index: index, blobs: site.blobs, extractor: extractor ?? DocumentExtractor(pdf: PDFTextExtractor(), limits: .standard)),
            concurrency: extractionConcurrency
        ) { error in Issue.record("extraction failed: \(error)") }
        let service = OakenService(site: site, options: options, logger: logger, extraction: extraction)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = OakenServer(service: service).application { port in continuation.yield(port) }
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw POSIXError(.EADDRNOTAVAIL) }
        return LiveServer(directory: directory, site: site, service: service, port: port, task: task)
    }

    private init(directory: URL, site: Site, service: OakenService, port: Int, task: Task<Void, any Error>) {
        self.directory = directory
        self.site = site
        self.service = service
        self.port = port
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }

    func session() -> HTTPSession { HTTPSession(port: port) }

    /// Registers a user through the API and returns a logged-in session and the user's id.
    func register(_ login: String, password: String = "a long enough password", first: String = "Test", last: String = "User",
                  email: String? = nil) async throws -> (session: HTTPSession, id: String) {
        let session = session()
        var fields = [(":name", login), ("pwd", password), ("pwdConfirm", password), ("firstName", first), ("lastName", last)]
        if let email { fields.append(("email", email)) }
        let created = try await session.post("/system/userManager/user.create.html", fields)
        guard created.status == 201 else { throw POSIXError(.EINVAL) }
        let login = try await session.post("/system/sling/formlogin", [("sakaiauth:login", "1"), ("sakaiauth:un", login), ("sakaiauth:pw", password)])
        guard login.status == 200,
            let me = try await session.get("/system/me").json as? [String: Any], let user = me["user"] as? [String: Any],
            let id = user["userid"] as? String
        else { throw POSIXError(.EACCES) }
        return (session, id)
    }
}

/// Runs `body` against a fresh server and stops it afterwards, also when `body` throws.
func withServer<T>(
    userIDs: UserIDMode = .opaque, sessionLifetime: Duration = .seconds(20 * 60), passwordCost: Int = 10,
    adminPassword: String? = nil, configure: (inout ServerOptions) -> Void = { _ in }, _ body: (LiveServer) async throws -> T
) async throws -> T {
    let server = try await LiveServer.start(
        userIDs: userIDs, sessionLifetime: sessionLifetime, passwordCost: passwordCost, adminPassword: adminPassword,
        configure: configure)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

extension HTTPResult {
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
}
