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
    /// The items that have activities (read from the index on `activity.itemId`, without
    /// touching the activities themselves).
    package func itemsWithActivity() async throws -> Set<String> {
        try await database.read(through: readGate) { db in
            Set(try String.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT itemId FROM activity WHERE itemId IS NOT NULL")))
        }
    }

    /// The activities on `items`, newest first, leaving out those of `actor`: one page of
    /// them (`limit` after `offset`), and how many there are in all. Counted and paged in SQL.
    package func activities(
        onItems items: Set<String>, excludingActor actor: String?, limit: Int, offset: Int
    ) async throws -> (page: [Activity], total: Int) {
        let json = Self.jsonArray(items.sorted())
        return try await database.read(through: readGate) { db in
            let filter = "FROM activity WHERE itemId IN (SELECT value FROM json_each(?)) AND actorId IS NOT ?"
            let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) " + filter), arguments: [json, actor]) ?? 0
            let page = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id, actorId, itemId, appId, templateId, messageKey, createdAt \(filter)
                    ORDER BY createdAt DESC, id DESC LIMIT ? OFFSET ?
                    """),
                arguments: [json, actor, max(0, limit), max(0, offset)]
            ).map {
                Activity(
                    id: $0[0], actorID: $0[1], itemID: $0[2], appID: $0[3], templateID: $0[4], messageKey: $0[5], createdAt: $0[6])
            }
            return (page, total)
        }
    }
}
