import HTTPTypes

/// One entry of the route table (`OakenService.routes`): which requests it takes, which
/// methods it answers, whose rule decides who may use it, and its handler.
package struct Route: Sendable {
    /// Which request paths a route takes.
    package enum Match: Sendable {
        /// These exact paths.
        case paths(Set<String>)
        /// Every path that starts with this prefix.
        case prefix(String)
        /// This path and every path below it.
        case tree(String)
        /// JSON feeds: these Sling resources, read with a `.json` extension (selectors
        /// allowed), or named whole before `.json` (`/tags/directory.tagged.json`).
        case feeds(Set<String>)
        /// Anything not taken by an earlier route.
        case rest
    }

    /// Who may use a route, and which rule decides it. The authorization test
    /// (`RouteAuthorizationTests`) names an expectation for every route by its rule.
    package enum Access: Sendable, Equatable {
        /// Anyone, anonymous callers included: what the route shows is the same for all.
        case anyone
        /// Anyone may read; writing needs a signed-in caller (anonymous POSTs are refused
        /// before a handler runs, but for login, registration and all-GET batches).
        case anyoneReadsSignedInWrites
        /// Signed-in callers only.
        case signedIn
        /// The item rule (`ItemAccessRule`) decides per item, and per result in a feed.
        case itemRule
        /// The node rule (`NodeAccessRule`) decides per node, for every node touched.
        case nodeRule
        /// An account: its owner and administrators read it whole and change it; others
        /// read its public part.
        case accountRule
        /// A group: `GroupAccessRule` decides who sees it (others get 404) and who changes it.
        case groupRule
        /// People and groups: the directory's rule (members-only groups to their members;
        /// login names and e-mail never shown).
        case directoryRule
    }

    package var name: String
    package var match: Match
    package var methods: Set<HTTPRequest.Method>
    package var access: Access
    let handle: @Sendable (OakenService, Call, String) async throws -> Reply

    init(
        _ name: String, _ match: Match, methods: Set<HTTPRequest.Method>, access: Access,
        handle: @escaping @Sendable (OakenService, Call, String) async throws -> Reply
    ) {
        self.name = name
        self.match = match
        self.methods = methods
        self.access = access
        self.handle = handle
    }

    /// Whether the route takes `path`.
    func takes(_ path: String) -> Bool {
        switch match {
        case .paths(let paths): return paths.contains(path)
        case .prefix(let prefix): return path.hasPrefix(prefix)
        case .tree(let root): return path == root || path.hasPrefix(root + "/")
        case .feeds(let resources):
            guard path.hasSuffix(".json") else { return false }
            return resources.contains(SlingPath(path).resource) || resources.contains(String(path.dropLast(5)))
        case .rest: return true
        }
    }
}

extension Set<HTTPRequest.Method> {
    static let reads: Self = [.get, .head]
    static let readsAndPosts: Self = [.get, .head, .post]
}
