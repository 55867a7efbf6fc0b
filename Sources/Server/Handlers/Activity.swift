import Foundation
import Indexer
import Repository

/// The landing page's activity feed (contract §2.7, "Activity feed"): what happened lately to
/// items the caller may read, by others.
extension OakenService {
    static let activityFeed = "/var/search/activity/all"

    func activityFeed(_ call: Call) async throws -> Reply? {
        let sling = SlingPath(call.path)
        guard call.isSafe, sling.extension == "json", sling.resource == Self.activityFeed else { return nil }
        guard let index = extraction?.workers.index else { throw HTTPFailure.notFound() }
        let (pageSize, offset) = try Self.paging(call.parameters)
        let viewer = call.viewer
        let me = viewer.userID

        // Which items with activity the caller may read gives the exact total.
        let counts = try await metadata.activityCounts(excludingActor: me)
        let readable = try await index.readableItems(Set(counts.keys), viewer: viewer.searchViewer)
        let total = readable.reduce(0) { $0 + counts[$1, default: 0] }

        // The page: newest first, the caller's readable ones only.
        var skip = offset
        var shown: [Activity] = []
        var before: (Int64, Int64)?
        while shown.count < pageSize {
            let batch = try await metadata.activities(excludingActor: me, before: before, limit: 200)
            for activity in batch where readable.contains(activity.itemID) {
                if skip > 0 {
                    skip -= 1
                } else if shown.count < pageSize {
                    shown.append(activity)
                }
            }
            guard let last = batch.last, batch.count == 200 else { break }
            before = (last.createdAt, last.id)
        }

        let records = try await metadata.itemRecords(ids: Array(Set(shown.map(\.itemID))))
        var actors: [String: JSONValue] = [:]
        for actor in Set(shown.compactMap(\.actorID)) { actors[actor] = try await principalEntry(actor) }
        var results: [JSONValue] = []
        for activity in shown {
            guard let record = records[activity.itemID] else { continue }
            var properties = itemProperties(record)
            properties["sakai:activityMessage"] = .string(activity.messageKey)
            properties["sakai:activity-appid"] = .string(activity.appID)
            properties["sakai:activity-templateid"] = .string(activity.templateID)
            properties["sakai:activity-actor"] = activity.actorID.map(JSONValue.string) ?? .null
            properties["sakai:activity-type"] = "pooled content"
            properties["_created"] = .int(activity.createdAt)
            properties["who"] = activity.actorID.flatMap { actors[$0] } ?? ["userid": .null]
            results.append(.object(properties))
        }
        return Self.envelope(pageSize: pageSize, results: results, facets: nil, total: total)
    }
}
