import ArgumentParser
import Foundation
import Hummingbird
import Indexer
import Logging
import Repository
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the OAE 1.2 API server.",
        discussion: """
            Serves the API, and with --ui a 3akai-ux tree (the folder holding dev/, devwidgets/ \
            and var/). The first start gives the 'admin' account a password: OAKEN_ADMIN_PASSWORD \
            when set, else a random one, printed once and kept in <data>/admin-password (mode 0600). \
            SIGTERM or SIGINT stops the server after the requests in flight.
            """)

    @OptionGroup var site: SiteOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    @Option(help: "The top of a 3akai-ux tree to serve (holds dev/, devwidgets/, var/).")
    var ui: String?

    @Option(name: .customLong("user-ids"), help: "How user ids appear: opaque (random ids; login names stay private) or login (the login name, as in Nakamura).")
    var userIDs = "opaque"

    @Option(help: "Parallel extraction workers for uploads (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var limits: ExtractionOptions

    @Flag(name: .customLong("secure-cookies"), help: "Mark the session cookie Secure (the site is served over HTTPS).")
    var secureCookies = false

    @Option(name: .customLong("trusted-proxy"), help: "The address of a reverse proxy whose X-Forwarded-Proto is believed (repeatable); its https requests get a Secure session cookie.")
    var trustedProxies: [String] = []

    func run() async throws {
        guard let mode = UserIDMode(rawValue: userIDs) else {
            throw ValidationError("--user-ids takes opaque or login, not '\(userIDs)'")
        }
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.userIDs = mode
        options.secureCookies = secureCookies
        options.trustedProxies = Set(trustedProxies)
        if let limit = try site.configuration().maximumUploadSize { options.maximumUploadSize = limit }
        if let ui {
            let url = URL(fileURLWithPath: ui).standardizedFileURL
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("dev").path, isDirectory: &isFolder), isFolder.boolValue
            else { throw ValidationError("--ui must name the top of a 3akai-ux tree (the folder that holds dev/): \(ui)") }
            options.uiDirectory = url
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "oaken")
        let opened = try await site.openSite()
        try await opened.metadata.createMissingHomes()
        if let password = try await AdminBootstrap.run(site: opened, environment: ProcessInfo.processInfo.environment, userIDs: mode) {
            writeOutput("The administrator account is 'admin' with the password \(password)\n")
            writeOutput("(kept in \(opened.dataDirectory.appendingPathComponent(AdminBootstrap.passwordFileName).path), readable by this account only)\n")
        }
        let index = SQLiteSearchIndex(metadata: opened.metadata)
        try index.prepare()
        let extraction = BackgroundExtraction(
            workers: ExtractionWorkers(index: index, blobs: opened.blobs, extractor: try limits.extractor()),
            concurrency: jobs
        ) { error in logger.error("extraction failed: \(error)") }
        let service = OakenService(site: opened, options: options, logger: logger, extraction: extraction)
        // Whatever was queued while the server was down (by `oaken put`, say) is done now.
        extraction.wake()
        Task.detached(priority: .utility) {
            do {
                try await index.warmUp()
            } catch {
                logger.warning("search warm-up failed: \(error)")
            }
        }
        let shownHost = host == "0.0.0.0" ? "localhost" : host
        let app = OakenServer(service: service).application { port in
            writeOutput("Oaken is serving on http://\(shownHost):\(port)/\n")
        }
        try await app.runService()
    }
}
