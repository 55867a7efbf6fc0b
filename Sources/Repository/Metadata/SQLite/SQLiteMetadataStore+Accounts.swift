import Foundation
import GRDB

extension SQLiteMetadataStore {
    package func accountCounts(ofUser userID: String, principals: Set<String>) async throws -> AccountCounts {
        let json = Self.jsonArray(principals.sorted())
        return try await database.read(through: readGate) { db in try Self.fetchCounts(ofUser: userID, principals: json, in: db) }
    }

    /// The user's counts, with their principals read in the same transaction.
    package func accountCounts(ofUser userID: String) async throws -> AccountCounts {
        try await database.read(through: readGate) { db in
            let principals = try Self.fetchPrincipalIDs(ofUser: userID, in: db)
            return try Self.fetchCounts(ofUser: userID, principals: Self.jsonArray(principals.sorted()), in: db)
        }
    }

    /// The user's counts and the groups among their principals, in one read.
    package func accountSummary(ofUser userID: String, principals: Set<String>) async throws -> (AccountCounts, [GroupSummary]) {
        let json = Self.jsonArray(principals.sorted())
        return try await database.read(through: readGate) { db in
            (try Self.fetchCounts(ofUser: userID, principals: json, in: db), try Self.fetchGroups(ids: json, in: db))
        }
    }

    private static func fetchCounts(ofUser userID: String, principals json: String, in db: Database) throws -> AccountCounts {
            var counts = AccountCounts()
            counts.contentCount = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(DISTINCT itemId) FROM contentGrant WHERE principalId = ?"), arguments: [userID]) ?? 0
            let contacts = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT state, count(*) AS n FROM contact WHERE ownerId = ? GROUP BY state"), arguments: [userID])
            for row in contacts {
                let n: Int = row["n"]
                switch row["state"] as String {
                case "accepted": counts.contactsAccepted = n
                case "invited": counts.contactsInvited = n
                case "pending": counts.contactsPending = n
                default: break
                }
            }
            counts.membershipsCount = try Int.fetchOne(
                db.cachedStatement(sql: """
                    SELECT count(*) FROM userGroup
                    WHERE parentId IS NULL AND id IN (SELECT value FROM json_each(?)) AND id NOT LIKE 'g-contacts-%'
                    """),
                arguments: [json]) ?? 0
            counts.unreadMessages = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM message WHERE ownerId = ? AND messageBox = 'inbox' AND isRead = 0 AND type = 'internal'"),
                arguments: [userID]) ?? 0
            return counts
    }

    /// The groups among `ids`, role pseudo-groups included.
    package func groups(ids: Set<String>) async throws -> [GroupSummary] {
        let json = Self.jsonArray(ids.sorted())
        return try await database.read(through: readGate) { db in try Self.fetchGroups(ids: json, in: db) }
    }

    static func fetchGroups(ids json: String, in db: Database) throws -> [GroupSummary] {
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT g.*, p.createdAt, p.createdBy, p.lastModifiedAt, p.properties,
                        (SELECT count(*) FROM groupMembership m WHERE m.groupId = g.id) AS membersCount,
                        (SELECT count(DISTINCT itemId) FROM contentGrant c WHERE c.principalId = g.id) AS contentCount
                    FROM userGroup g JOIN principal p ON p.id = g.id
                    WHERE g.id IN (SELECT value FROM json_each(?)) ORDER BY g.id
                    """),
                arguments: [json]
            ).map { row in
                GroupSummary(
                    id: row["id"], parentID: row["parentId"], roleID: row["roleId"], title: row["title"],
                    description: row["description"], visibility: row["visibility"], joinability: row["joinability"],
                    createdAt: row["createdAt"], createdBy: row["createdBy"], lastModifiedAt: row["lastModifiedAt"],
                    properties: try JSONValue.parse(row["properties"], field: "properties").objectValue ?? [:],
                    membersCount: row["membersCount"], contentCount: row["contentCount"])
            }
    }
}
