import Foundation
import HTTPTypes
import Indexer
import Logging
import Repository

/// The OAE 1.2 API over a site: turns each `Call` into a `Reply`. It knows nothing of
/// sockets, so a request from the network and one inside a batch go the same way.
package final class OakenService: Sendable {
    package let site: Site
    package let options: ServerOptions
    package let sessions: SessionStore
    let ui: UIFolder?
    let logger: Logger
    /// Failed logins per account and per address.
    let loginFailures: FailureThrottle
    let addressFailures: FailureThrottle
    /// `user.exists` checks and registrations per address.
    let existsChecks = RateLimiter(rate: 1, burst: 20)
    let registrations = RateLimiter(rate: 0.2, burst: 10)
    let accounts = AccountCache()
    /// Search results' item properties as JSON, by catalog stamp (see `renderedItem`).
    let renderedItems = StampedCache<[UInt8]>(capacity: 10_000)
    /// Extracts and indexes uploads in the background; `nil` when the site has no index.
    package let extraction: BackgroundExtraction?

    package init(site: Site, options: ServerOptions, logger: Logger, extraction: BackgroundExtraction? = nil) {
        self.site = site
        self.options = options
        self.logger = logger
        self.extraction = extraction
        loginFailures = FailureThrottle(allowance: 5, firstDelay: options.firstLoginWait)
        addressFailures = FailureThrottle(allowance: 20, firstDelay: options.firstLoginWait)
        sessions = SessionStore(metadata: site.metadata, lifetime: options.sessionLifetime)
        ui = options.uiDirectory.map(UIFolder.init(root:))
    }

    var metadata: SQLiteMetadataStore { site.metadata }

    /// Answers a call, mapping every error to its status here and nowhere else.
    package func respond(to call: Call, address: String) async -> Reply {
        // Whatever a write changes, no cached account answer from before it is used again.
        defer { if !call.isSafe { accounts.invalidate() } }
        do {
            return try await route(call, address: address)
        } catch {
            let failure = HTTPFailure(error)
            if failure.status.code >= 500 {
                logger.error("\(call.method.rawValue) \(call.path) failed: \(error)")
            }
            return .failure(failure, for: call)
        }
    }

    /// Answers a call through the route table (`OakenService.routes`): the first route that
    /// takes the path, if it takes the method.
    func route(_ call: Call, address: String) async throws -> Reply {
        let route = Self.route(for: call.path)
        guard route.methods.contains(call.method) else {
            throw HTTPFailure.methodNotAllowed("\(call.method.rawValue) is not supported here")
        }
        return try await route.handle(self, call, address)
    }

    /// The viewer behind a user id: the user and every principal they act as.
    func viewer(forUser id: String) async throws -> Viewer {
        guard let (user, membership) = try await metadata.userAndMembership(id: id) else { return .anonymous }
        return Self.viewer(user, membership)
    }

    static func viewer(_ user: User, _ membership: Membership) -> Viewer {
        Viewer(user: user, membership: membership, isAdministrator: user.loginName == Site.administratorLoginName)
    }
}
