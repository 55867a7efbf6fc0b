import Foundation
import Indexer
import Repository

/// The content search feeds (contract §2.7): the search envelope over the Indexer's search,
/// which only ever counts, shows or facets items the caller may read.
extension OakenService {
    /// The content feeds this server answers, by resource.
    static let contentFeeds: Set<String> = [
        "/var/search/pool/all", "/var/search/pool/all-all", "/var/search/pool/manager-viewer",
        "/var/search/pool/me/manager", "/var/search/pool/me/manager-all",
        "/var/search/pool/me/viewer", "/var/search/pool/me/viewer-all",
    ]

    /// Most results one page may hold.
    static let maximumPageSize = 200
    /// Tags counted in `facet_fields`.
    static let facetLimit = 50

    /// A feed's page: `items` (default `defaultSize`, at most `maximumPageSize`) and `page`
    /// (from 0) as a size and an offset; a page too far to count is a 400.
    static func paging(_ parameters: Parameters, defaultSize: Int = 25) throws(HTTPFailure) -> (size: Int, offset: Int) {
        let size = min(max(parameters["items"].flatMap(Int.init) ?? defaultSize, 0), maximumPageSize)
        let page = max(parameters["page"].flatMap(Int.init) ?? 0, 0)
        let (offset, overflow) = page.multipliedReportingOverflow(by: size)
        guard !overflow else { throw HTTPFailure.badRequest("page is too large") }
        return (size, offset)
    }

    func contentFeed(_ call: Call) async throws -> Reply {
        let sling = SlingPath(call.path)
        guard let index = extraction?.workers.index else { throw HTTPFailure.notFound() }
        let feed = sling.resource.dropFirst("/var/search/pool/".count)
        let parameters = call.parameters
        let (pageSize, offset) = try Self.paging(parameters)
        let viewer = call.viewer

        var query = SearchQuery.all
        if !feed.hasSuffix("-all"), let text = parameters["q"]?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty, text != "*", text != "**"
        {
            query = try Self.parseQuery(text)
        }
        var request = SearchRequest(query: query, viewer: viewer.searchViewer, limit: pageSize, offset: offset)
        request.facetLimit = Self.facetLimit
        request.tags = Self.tagFilter(parameters["tags"])
        if let mimeType = parameters["mimetype"], !mimeType.isEmpty { request.mimeType = mimeType }
        (request.sort, request.ascending) = Self.sort(on: parameters["sortOn"], order: parameters["sortOrder"])

        switch feed {
        case "manager-viewer":
            let owner = parameters["userid"].flatMap { $0.isEmpty ? nil : $0 } ?? viewer.userID
            guard let owner else { return Self.envelope(pageSize: pageSize, results: [], facets: [], total: 0) }
            var members: Set<String> = [owner]
            if let visible = try await metadata.groupIsVisible(owner, to: viewer.directoryViewer) {
                // A group's library: what is shared with the group or any of its roles, for
                // those who may see the group.
                guard visible else { throw HTTPFailure.notFound() }
                members.formUnion(try await metadata.roleGroupIDs(of: owner))
            } else if (parameters["levels"].flatMap(Int.init) ?? 0) > 0 {
                members = owner == viewer.userID ? viewer.principals : try await metadata.principalIDs(ofUser: owner).union([owner])
            }
            request.scope = LibraryScope(principalIDs: members, roles: [.manager, .viewer])
        case "me/manager", "me/manager-all", "me/viewer", "me/viewer-all":
            guard !viewer.isAnonymous else { return Self.envelope(pageSize: pageSize, results: [], facets: [], total: 0) }
            request.scope = LibraryScope(principalIDs: viewer.principals, roles: feed.hasPrefix("me/manager") ? [.manager] : [.viewer])
        default:
            break
        }

        request.withRecords = true
        let found = try await index.search(request)
        var results: [[UInt8]] = []
        for hit in found.hits {
            guard let record = found.records[hit.itemID] else { continue }
            var object = renderedItem(record, stamp: hit.stamp)
            func member(_ key: String, _ value: JSONValue) {
                object.append(contentsOf: ",\"\(key)\":".utf8)
                value.write(to: &object)
            }
            member("sakai:canmanage", .bool(access(record, viewer).manage))
            if let snippet = hit.snippetHTML { member("snippet", .string(snippet)) }
            if !hit.pages.isEmpty { member("pages", .array(hit.pages.map { .int(Int64($0)) })) }
            object.append(UInt8(ascii: "}"))
            results.append(object)
        }
        return Self.envelope(pageSize: pageSize, rendered: results, facets: found.facets, total: found.total)
    }

    /// Keys a search result adds to an item's properties.
    static let resultKeys = ["sakai:canmanage", "snippet", "pages"]

    /// An item's properties as a search result shows them, as JSON without the closing brace
    /// (the result's own keys follow): kept by catalog stamp, as rendering is most of the work
    /// of a page of results for a rare word.
    private func renderedItem(_ record: ItemRecord, stamp: Int64?) -> [UInt8] {
        if let stamp, let kept = renderedItems.value(record.item.id, at: stamp) { return kept }
        var properties = itemProperties(record)
        for key in Self.resultKeys { properties[key] = nil }
        var object: [UInt8] = []
        object.reserveCapacity(2048)
        JSONValue.object(properties).write(to: &object, sortingKeys: false)
        object.removeLast()
        if let stamp { renderedItems.store(object, for: record.item.id, at: stamp) }
        return object
    }

    /// A `q` parameter as a query; a string the parser refuses is a 400 with its reason.
    static func parseQuery(_ text: String) throws(HTTPFailure) -> SearchQuery {
        do {
            return try QueryParser().parse(text)
        } catch {
            throw HTTPFailure.badRequest(error.description)
        }
    }

    /// The search envelope with its keys in the order Nakamura wrote them: `items`,
    /// `results`, `facet_fields`, `total`.
    /// A feed without facets (`nil`) has no `facet_fields`.
    static func envelope(pageSize: Int, results: [JSONValue], facets: [TagCount]?, total: Int) -> Reply {
        envelope(pageSize: pageSize, rendered: results.map { result in
            var out: [UInt8] = []
            result.write(to: &out, sortingKeys: false)
            return out
        }, facets: facets, total: total)
    }

    /// The envelope around results already written as JSON.
    static func envelope(pageSize: Int, rendered results: [[UInt8]], facets: [TagCount]?, total: Int) -> Reply {
        var out: [UInt8] = []
        out.reserveCapacity(1024 + results.reduce(0) { $0 + $1.count })
        out.append(contentsOf: "{\"items\":\(pageSize),\"results\":[".utf8)
        for (index, result) in results.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: result)
        }
        out.append(UInt8(ascii: "]"))
        if let facets {
            out.append(contentsOf: ",\"facet_fields\":".utf8)
            let tags = JSONValue.array(facets.map { .object([$0.tag: .int(Int64($0.count))]) })
            JSONValue.array([.object(["tagname": tags])]).write(to: &out)
        }
        out.append(contentsOf: ",\"total\":\(total)}".utf8)
        return Reply(headers: [("Content-Type", "application/json; charset=utf-8")], body: out)
    }

    /// The tags of a refine-by-tag parameter: quoted tags (`"physics" AND "notes"`), or
    /// plain words separated by `AND`, commas or spaces.
    static func tagFilter(_ value: String?) -> [String] {
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return [] }
        if value.contains("\"") {
            return value.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }.filter { !$0.isEmpty }
        }
        return value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { $0 != "AND" }
    }

    /// The UI's sort keys mapped onto the index's.
    static func sort(on key: String?, order: String?) -> (SearchSort, Bool) {
        let ascending = order.map { $0.lowercased().hasPrefix("asc") } ?? false
        switch key {
        case "_lastModified", "lastModified": return (.lastModified, ascending)
        case "_created", "created": return (.created, ascending)
        case "filename", "title", "sakai:pooled-content-file-name": return (.name, order == nil ? true : ascending)
        default: return (.relevance, ascending)
        }
    }
}
