import Foundation
import Indexer
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

    func directoryFeed(_ call: Call) async throws -> Reply {
        let sling = SlingPath(call.path)
        guard let kinds = Self.directoryFeeds[sling.resource] else { throw HTTPFailure.notFound() }
        let parameters = call.parameters
        let (pageSize, offset) = try Self.paging(parameters)
        var words: [String] = []
        var anyWord = false
        if !sling.resource.hasSuffix("-all"), let text = parameters["q"] {
            anyWord = text.contains(" OR ") && !text.contains(" AND ")
            words = Self.nameWords(text)
        }
        let viewer = call.viewer
        let directoryViewer = viewer.directoryViewer
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
        let results = try await directoryResults(found.entries, viewer: viewer)
        return Self.envelope(pageSize: pageSize, results: results, facets: nil, total: found.total)
    }

    /// The words of a `q` in the UI's dialect (words joined by AND, quotes, trailing `*`) to
    /// match names with; names are matched by their words' beginnings anyway.
    static func nameWords(_ text: String) -> [String] {
        text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "'" })
            .map(String.init).filter { !["AND", "OR", "NOT"].contains($0) }
    }

    /// Users as their basic profile (with the presence keys the UI reads), groups as theirs.
    private func directoryResults(_ entries: [DirectoryEntry], viewer: Viewer) async throws -> [JSONValue] {
        let groupIDs = Set(entries.compactMap { if case .group(let id) = $0 { id } else { nil } })
        let groups = Dictionary(try await metadata.groups(ids: groupIDs).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var results: [JSONValue] = []
        for entry in entries {
            switch entry {
            case .user(let id):
                guard let user = try await metadata.user(id: id) else { continue }
                let counts = try await metadata.accountCounts(ofUser: id)
                var info = basicInfo(of: user, counts: counts, showPrivate: user.id == viewer.userID)
                info["user"] = .string(user.id)
                info["sakai:status"] = .null
                info["sakai:location"] = .null
                results.append(.object(info))
            case .group(let id):
                if let group = groups[id] { results.append(.object(groupInfo(group))) }
            }
        }
        return results
    }

    static let generalFeeds: Set<String> = ["/var/search/general", "/var/search/general-all"]

    /// `general.json` ("All" on the search page): content the caller may read, then people,
    /// then groups, one page over the three; content items carry the `permissions` and
    /// `jcr:` keys of that feed.
    func generalFeed(_ call: Call) async throws -> Reply {
        guard let index = extraction?.workers.index else { throw HTTPFailure.notFound() }
        let parameters = call.parameters
        let (pageSize, offset) = try Self.paging(parameters)
        let viewer = call.viewer
        var query = SearchQuery.all
        var words: [String] = []
        if SlingPath(call.path).resource == "/var/search/general", let text = parameters["q"]?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty, text != "*", text != "**"
        {
            query = try Self.parseQuery(text)
            words = Self.nameWords(text)
        }
        var request = SearchRequest(
            query: query,
            viewer: viewer.searchViewer, limit: pageSize, offset: offset)
        request.withRecords = true
        request.facetLimit = Self.facetLimit
        request.tags = Self.tagFilter(parameters["tags"])
        let content = try await index.search(request)
        let found = try await metadata.findInDirectory(
            words, users: true, groups: true,
            viewer: viewer.directoryViewer,
            limit: pageSize - content.hits.count, offset: max(0, offset - content.total))
        var results: [JSONValue] = []
        let dateFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for hit in content.hits {
            guard let record = content.records[hit.itemID] else { continue }
            let access = access(record, viewer)
            var properties = itemProperties(record)
            properties["sakai:canmanage"] = .bool(access.manage)
            properties["permissions"] = ["set_property": .bool(access.write), "read": true, "remove": .bool(access.manage)]
            properties["jcr:lastModified"] = .string(Date(timeIntervalSince1970: Double(record.item.lastModifiedAt) / 1000).formatted(dateFormat))
            properties["jcr:mimeType"] = .string(record.item.mimeType)
            properties["jcr:data"] = .int(record.item.length)
            if let snippet = hit.snippetHTML { properties["snippet"] = .string(snippet) }
            results.append(.object(properties))
        }
        results += try await directoryResults(found.entries, viewer: viewer)
        return Self.envelope(pageSize: pageSize, results: results, facets: content.facets, total: content.total + found.total)
    }
}
