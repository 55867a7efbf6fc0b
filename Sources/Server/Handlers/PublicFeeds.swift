import Foundation
import Indexer
import Repository

/// Feeds of the landing and tag pages that show content without a query (contract §2.7):
/// featured content and the tag cloud. Both count only what the caller may read.
extension OakenService {
    static let randomContentFeed = "/var/search/public/random-content"
    static let tagCloudFeed = "/var/search/public/tagcloud"
    /// How many of the most recently changed readable items featured content is drawn from.
    static let featuredPool = 200

    func publicFeed(_ call: Call) async throws -> Reply {
        let sling = SlingPath(call.path)
        guard let index = extraction?.workers.index else { throw HTTPFailure.notFound() }
        let viewer = call.viewer
        var request = SearchRequest(query: .all, viewer: viewer.searchViewer, limit: 0)
        request.sort = .lastModified
        if sling.resource == Self.tagCloudFeed {
            // No results, only the tags of everything readable.
            request.facetLimit = 100
            let found = try await index.search(request)
            return Self.envelope(pageSize: 0, results: [], facets: found.facets, total: found.total)
        }
        // Featured content: a random few of the recently changed readable items that have
        // something to show (a description or tags).
        let pageSize = min(max(call.parameters["items"].flatMap(Int.init) ?? 10, 0), Self.maximumPageSize)
        request.limit = Self.featuredPool
        request.withRecords = true
        let found = try await index.search(request)
        let candidates = found.hits.compactMap { found.records[$0.itemID] }
            .filter { !$0.item.description.isEmpty || !$0.tags.isEmpty }
        let chosen = candidates.shuffled().prefix(pageSize)
        return Self.envelope(
            pageSize: pageSize, results: chosen.map { .object(itemProperties($0)) }, facets: nil, total: candidates.count)
    }
}
