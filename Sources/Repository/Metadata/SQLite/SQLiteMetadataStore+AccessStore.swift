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

    /// The user's principals and the groups they manage: those whose manager role is among
    /// the principals, and those that name one of the principals a manager. A role is a group
    /// with a parent, marked as its parent's manager role in the data; no id is ever read for
    /// a suffix.
    static func fetchMembership(ofUser userID: String, in db: Database) throws -> Membership {
        let principals = try fetchPrincipalIDs(ofUser: userID, in: db)
        let managed = try String.fetchAll(db.cachedStatement(sql: """
            SELECT parentId FROM userGroup
            WHERE isManagerRole AND parentId IS NOT NULL AND id IN (SELECT value FROM json_each(?1))
            UNION SELECT groupId FROM groupManager WHERE principalId IN (SELECT value FROM json_each(?1))
            """), arguments: [jsonArray(principals.sorted())])
        return Membership(principals: principals, managedGroups: Set(managed))
    }
}
