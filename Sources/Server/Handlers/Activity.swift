import Foundation
import Indexer
import Repository

/// The landing page's activity feed (contract §2.7, "Activity feed"): what happened lately to
/// items the caller may read, by others.
extension OakenService {
    static let activityFeedPath = "/var/search/activity/all"

    func activityFeed(_ call: Call) async throws -> Reply {
        guard let index = extraction?.workers.index else { throw HTTPFailure.notFound() }
        let (pageSize, offset) = try Self.paging(call.parameters)
        let viewer = call.viewer
        let me = viewer.userID

        // The items with activity that the caller may read (the search catalog's rule), then
        // the exact total and the page, from SQL.
        let readable = try await index.readableItems(try await metadata.itemsWithActivity(), viewer: viewer.searchViewer)
        let (shown, total) = try await metadata.activities(onItems: readable, excludingActor: me, limit: pageSize, offset: offset)

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
