import Foundation
import GRDB

extension SQLiteMetadataStore: GroupStore {
    package func createGroup(_ new: NewGroup) async throws -> GroupRecord {
        try new.validate()
        let now = Self.now()
        try await database.write { db in
            let roleIDs = new.roles.map { "\(new.id)-\($0.id)" }
            for id in [new.id] + roleIDs {
                guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [id]) == nil else {
                    throw RepositoryError.conflict("the id '\(id)' is taken")
                }
            }
            guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [new.creatorID]) != nil else {
                throw RepositoryError.notFound(kind: "principal", id: new.creatorID)
            }
            try Self.insertGroup(
                id: new.id, parent: nil, role: nil, title: new.title, description: new.description, properties: new.properties,
                creator: new.creatorID, at: now, in: db)
            for (role, id) in zip(new.roles, roleIDs) {
                try Self.insertGroup(
                    id: id, parent: new.id, role: role, title: role.title, description: "", properties: [:], creator: new.creatorID,
                    at: now, in: db)
                try Self.addMember(id, to: new.id, by: new.creatorID, at: now, in: db)
            }
            // Manager roles manage the group and the roles they name; the creator manages all.
            for (role, id) in zip(new.roles, roleIDs) where role.isManagerRole {
                try Self.addManager(id, of: new.id, in: db)
                for managed in role.manages where new.roles.contains(where: { $0.id == managed }) {
                    try Self.addManager(id, of: "\(new.id)-\(managed)", in: db)
                }
            }
            for id in [new.id] + roleIDs { try Self.addManager(new.creatorID, of: id, in: db) }
            try Self.createHome(of: new.id, kind: .group, at: now, in: db)
        }
        guard let record = try await group(id: new.id) else { throw RepositoryError.notFound(kind: "group", id: new.id) }
        return record
    }

    package func group(id: String) async throws -> GroupRecord? {
        try await database.read(through: readGate) { db in try Self.fetchGroupRecord(id, in: db) }
    }

    package func changeGroup(id: String, _ change: GroupChange) async throws {
        let now = Self.now()
        try await database.write { db in
            guard let text = try String.fetchOne(
                db.cachedStatement(sql: "SELECT p.properties FROM userGroup g JOIN principal p ON p.id = g.id WHERE g.id = ?"), arguments: [id])
            else { throw RepositoryError.notFound(kind: "group", id: id) }
            for member in change.removeMembers {
                try db.cachedStatement(sql: "DELETE FROM groupMembership WHERE groupId = ? AND memberId = ?").execute(arguments: [id, member])
            }
            for member in change.addMembers { try Self.addMember(member, to: id, by: nil, at: now, in: db) }
            for manager in change.removeManagers {
                try db.cachedStatement(sql: "DELETE FROM groupManager WHERE groupId = ? AND principalId = ?").execute(arguments: [id, manager])
            }
            for manager in change.addManagers { try Self.addManager(manager, of: id, in: db) }
            for viewer in change.removeViewers {
                try db.cachedStatement(sql: "DELETE FROM groupViewer WHERE groupId = ? AND principalId = ?").execute(arguments: [id, viewer])
            }
            for viewer in change.addViewers {
                if viewer != "everyone", viewer != "anonymous" { try Self.requirePrincipal(viewer, in: db) }
                try db.cachedStatement(sql: "INSERT INTO groupViewer (groupId, principalId) VALUES (?, ?) ON CONFLICT DO NOTHING")
                    .execute(arguments: [id, viewer])
            }
            var properties = Self.propertyObject(text)
            for name in change.removeProperties { properties[name] = nil }
            for (name, value) in change.setProperties { properties[name] = value }
            // Who may join is a column the join rules read.
            if let joinable = change.setProperties["sakai:group-joinable"]?.stringValue, ["yes", "withauth", "no"].contains(joinable) {
                try db.cachedStatement(sql: "UPDATE userGroup SET joinability = ? WHERE id = ?").execute(arguments: [joinable, id])
            }
            try db.cachedStatement(sql: "UPDATE principal SET properties = ?, lastModifiedAt = ? WHERE id = ?")
                .execute(arguments: [JSONValue.object(properties).serialized, now, id])
            // The visibility the directory reads follows the viewers: none or anonymous is
            // public, everyone is for signed-in users, anyone else only those it names.
            let viewers = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT principalId FROM groupViewer WHERE groupId = ?"), arguments: [id]))
            let visibility = viewers.isEmpty || viewers.contains("anonymous") ? "public" : viewers.contains("everyone") ? "logged-in" : "members-only"
            try db.cachedStatement(sql: "UPDATE userGroup SET visibility = ? WHERE id = ?").execute(arguments: [visibility, id])
        }
    }

    package func deleteGroups(ids: [String]) async throws {
        try await database.write { db in
            for id in ids {
                guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM userGroup WHERE id = ?"), arguments: [id]) != nil else {
                    throw RepositoryError.notFound(kind: "group", id: id)
                }
                // The roles first: their principal rows (and what cascades from them) go too.
                let roles = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM userGroup WHERE parentId = ?"), arguments: [id])
                for group in roles + [id] {
                    let home = "/~" + group
                    let (prefix, upper) = Self.subtreeRange(of: home)
                    try db.execute(sql: "DELETE FROM node WHERE path = ? OR (path >= ? AND path < ?)", arguments: [home, prefix, upper])
                    try db.execute(sql: "DELETE FROM nodeAccess WHERE path = ? OR (path >= ? AND path < ?)", arguments: [home, prefix, upper])
                    try db.execute(sql: "DELETE FROM groupViewer WHERE principalId = ?", arguments: [group])
                    try db.execute(sql: "DELETE FROM principal WHERE id = ?", arguments: [group])
                }
            }
        }
    }

    /// Records the user's request to join the group (again: no change).
    package func requestToJoin(groupID: String, userID: String) async throws {
        let now = Self.now()
        try await database.write { db in
            try db.cachedStatement(sql: """
                INSERT INTO joinRequest (groupId, userId, requestedAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING
                """).execute(arguments: [groupID, userID, now])
        }
    }

    /// The pending requests to join the group, oldest first: user ids and when they asked.
    package func joinRequests(groupID: String) async throws -> [(userID: String, requestedAt: Int64)] {
        try await database.read(through: readGate) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT userId, requestedAt FROM joinRequest WHERE groupId = ? ORDER BY requestedAt, userId"),
                arguments: [groupID]
            ).map { ($0[0], $0[1]) }
        }
    }

    /// Removes the user's requests to join the group or any of its roles; whether there were any.
    @discardableResult
    package func removeJoinRequests(groupID: String, userID: String) async throws -> Bool {
        try await database.write { db in
            try db.cachedStatement(sql: """
                DELETE FROM joinRequest WHERE userId = ? AND (groupId = ? OR groupId IN (SELECT id FROM userGroup WHERE parentId = ?))
                """).execute(arguments: [userID, groupID, groupID])
            return db.changesCount > 0
        }
    }

    /// The ids of the group's role pseudo-groups.
    package func roleGroupIDs(of id: String) async throws -> [String] {
        try await database.read(through: readGate) { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM userGroup WHERE parentId = ? ORDER BY id"), arguments: [id])
        }
    }

    // MARK: - Inside a transaction

    private static func insertGroup(
        id: String, parent: String?, role: GroupRole?, title: String, description: String, properties: [String: JSONValue],
        creator: String, at now: Int64, in db: Database
    ) throws {
        try db.execute(
            sql: "INSERT INTO principal (id, kind, createdAt, createdBy, lastModifiedAt, properties) VALUES (?, 'group', ?, ?, ?, ?)",
            arguments: [id, now, creator, now, JSONValue.object(properties).serialized])
        try db.execute(
            sql: "INSERT INTO userGroup (id, parentId, roleId, title, description, isManagerRole) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, parent, role?.id, title, description, role?.isManagerRole ?? false])
    }

    private static func requirePrincipal(_ id: String, in db: Database) throws {
        guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [id]) != nil else {
            throw RepositoryError.notFound(kind: "principal", id: id)
        }
    }

    private static func addMember(_ member: String, to group: String, by actor: String?, at now: Int64, in db: Database) throws {
        try requirePrincipal(member, in: db)
        try db.cachedStatement(sql: """
            INSERT INTO groupMembership (groupId, memberId, addedAt, addedBy) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).execute(arguments: [group, member, now, actor])
    }

    private static func addManager(_ manager: String, of group: String, in db: Database) throws {
        try requirePrincipal(manager, in: db)
        try db.cachedStatement(sql: "INSERT INTO groupManager (groupId, principalId) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .execute(arguments: [group, manager])
    }

    static func fetchGroupRecord(_ id: String, in db: Database) throws -> GroupRecord? {
        guard let summary = try fetchGroups(ids: jsonArray([id]), in: db).first else { return nil }
        let members = try String.fetchAll(
            db.cachedStatement(sql: "SELECT memberId FROM groupMembership WHERE groupId = ? ORDER BY memberId"), arguments: [id])
        let managers = try String.fetchAll(
            db.cachedStatement(sql: "SELECT principalId FROM groupManager WHERE groupId = ? ORDER BY principalId"), arguments: [id])
        let viewers = try String.fetchAll(
            db.cachedStatement(sql: "SELECT principalId FROM groupViewer WHERE groupId = ? ORDER BY principalId"), arguments: [id])
        return GroupRecord(summary: summary, members: members, managers: managers, viewers: viewers)
    }
}
