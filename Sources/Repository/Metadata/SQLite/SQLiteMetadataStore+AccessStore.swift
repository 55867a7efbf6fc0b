import GRDB

extension SQLiteMetadataStore: AccessStore {
    package func principalIDs(ofUser userID: String) async throws -> Set<String> {
        try await database.read(through: readGate) { db in
            guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM user WHERE id = ?"), arguments: [userID]) != nil else {
                return []
            }
            return try Self.fetchPrincipalIDs(ofUser: userID, in: db)
        }
    }

    /// The user's id and every group they belong to, transitively.
    static func fetchPrincipalIDs(ofUser userID: String, in db: Database) throws -> Set<String> {
        // UNION (not UNION ALL) stops at cycles between groups.
        let groups = try String.fetchAll(db.cachedStatement(sql: """
            WITH RECURSIVE member(id) AS (
                SELECT ?
                UNION
                SELECT m.groupId FROM groupMembership m JOIN member ON m.memberId = member.id
            )
            SELECT id FROM member
            """), arguments: [userID])
        return Set(groups)
    }
}
