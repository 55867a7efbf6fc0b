import Foundation
import Repository

/// The people and group search feeds (contract §2.7, "People, groups, all"), as the UI's
/// search pages and every autosuggest picker (sharing, messages, adding members) call them.
/// They match names only: login names and e-mail addresses are private.
extension OakenService {
    static let directoryFeeds: [String: (users: Bool, groups: Bool)] = [
        "/var/search/users": (true, false), "/var/search/users-all": (true, false),
        "/var/search/groups": (false, true), "/var/search/groups-all": (false, true),
        "/var/search/usersgroups": (true, true), "/var/search/usersgroups-all": (true, true),
        "/var/search/groupmembers": (true, false), "/var/search/groupmembers-all": (true, false),
    ]

    func directoryFeed(_ call: Call) async throws -> Reply? {
        let sling = SlingPath(call.path)
        guard call.isSafe, sling.extension == "json", let kinds = Self.directoryFeeds[sling.resource] else { return nil }
        let parameters = call.parameters
        let pageSize = min(max(parameters["items"].flatMap(Int.init) ?? 25, 0), Self.maximumPageSize)
        let page = max(parameters["page"].flatMap(Int.init) ?? 0, 0)
        let (offset, overflow) = page.multipliedReportingOverflow(by: pageSize)
        guard !overflow else { throw HTTPFailure.badRequest("page is too large") }
        var words: [String] = []
        var anyWord = false
        if !sling.resource.hasSuffix("-all"), let text = parameters["q"] {
            anyWord = text.contains(" OR ") && !text.contains(" AND ")
            // The UI's dialect: words joined by AND, quotes, trailing `*`; names are matched
            // by their words' beginnings anyway.
            words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "'" })
                .map(String.init).filter { !["AND", "OR", "NOT"].contains($0) }
        }
        let viewer = call.viewer
        let directoryViewer = DirectoryViewer(
            principals: viewer.principals, isLoggedIn: !viewer.isAnonymous, isAdministrator: viewer.isAdministrator)
        var group: String?
        if sling.resource.hasPrefix("/var/search/groupmembers") {
            // The members of `group` (participants), as far as the caller may see the group.
            guard let id = parameters["group"], !id.isEmpty else { throw HTTPFailure.badRequest("group is required") }
            guard try await metadata.groupIsVisible(id, to: directoryViewer) == true else { throw HTTPFailure.notFound() }
            group = id
        }
        let found = try await metadata.findInDirectory(
            words, anyWord: anyWord, users: kinds.users, groups: kinds.groups, memberOf: group, viewer: directoryViewer,
            limit: pageSize, offset: offset)
        let groupIDs = Set(found.entries.compactMap { if case .group(let id) = $0 { id } else { nil } })
        let groups = Dictionary(try await metadata.groups(ids: groupIDs).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var results: [JSONValue] = []
        for entry in found.entries {
            switch entry {
            case .user(let id):
                guard let user = try await metadata.user(id: id) else { continue }
                var info = basicInfo(of: user, counts: nil, showPrivate: user.id == viewer.userID)
                info["user"] = .string(user.id)
                info["sakai:status"] = .null
                info["sakai:location"] = .null
                results.append(.object(info))
            case .group(let id):
                if let group = groups[id] { results.append(.object(groupInfo(group))) }
            }
        }
        var out: [UInt8] = []
        out.append(contentsOf: "{\"items\":\(pageSize),\"results\":".utf8)
        JSONValue.array(results).write(to: &out)
        out.append(contentsOf: ",\"total\":\(found.total)}".utf8)
        return Reply(headers: [("Content-Type", "application/json; charset=utf-8")], body: out)
    }
}
