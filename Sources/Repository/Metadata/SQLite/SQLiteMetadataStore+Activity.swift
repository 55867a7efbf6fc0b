import GRDB

/// Something that happened to an item: an upload, a new version, a change the UI reported.
package struct Activity: Sendable, Equatable {
    package var id: Int64
    package var actorID: String?
    package var itemID: String
    package var appID: String
    package var templateID: String
    package var messageKey: String
    package var createdAt: Int64
}

extension SQLiteMetadataStore {
    /// How many activities each item has, leaving out those of `actor`.
    package func activityCounts(excludingActor actor: String?) async throws -> [String: Int] {
        try await database.read(through: readGate) { db in
            var counts: [String: Int] = [:]
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT itemId, count(*) FROM activity
                    WHERE itemId IS NOT NULL AND actorId IS NOT ? GROUP BY itemId
                    """),
                arguments: [actor])
            while let row = try rows.next() { counts[row[0]] = row[1] }
            return counts
        }
    }

    /// Activities on items, newest first, leaving out those of `actor`: `limit` of them
    /// older than `before` (an activity's `createdAt` and `id`), or the newest.
    package func activities(excludingActor actor: String?, before: (Int64, Int64)?, limit: Int) async throws -> [Activity] {
        try await database.read(through: readGate) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id, actorId, itemId, appId, templateId, messageKey, createdAt FROM activity
                    WHERE itemId IS NOT NULL AND actorId IS NOT ? AND (createdAt, id) < (?, ?)
                    ORDER BY createdAt DESC, id DESC LIMIT ?
                    """),
                arguments: [actor, before?.0 ?? Int64.max, before?.1 ?? Int64.max, limit]
            ).map {
                Activity(
                    id: $0[0], actorID: $0[1], itemID: $0[2], appID: $0[3], templateID: $0[4], messageKey: $0[5], createdAt: $0[6])
            }
        }
    }
}
