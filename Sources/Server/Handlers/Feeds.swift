import Foundation
import Repository

extension OakenService {
    /// Feeds the landing and dashboard pages load on boot whose content (recommendations,
    /// contacts and the tag directory) the server does not hold yet. They answer
    /// the search envelope of contract §2.7 with no results, which the UI renders as empty
    /// lists.
    static let pendingFeeds: Set<String> = [
        "/var/search/pool/me/related-content",
        "/var/contacts/related-contacts", "/var/search/myrelatedgroups", "/tags/directory.tagged",
        // Contacts cannot be made yet, so everyone's list is empty.
        "/var/contacts/find-all",
    ]

    func emptyFeed(_ call: Call) -> Reply {
        if call.path.hasPrefix("/tags/directory.tagged") { return .json([:]) }
        let items = Int64(call.parameters["items"].flatMap(Int.init) ?? 25)
        return .json(["items": .int(items), "results": [], "total": 0])
    }
}
