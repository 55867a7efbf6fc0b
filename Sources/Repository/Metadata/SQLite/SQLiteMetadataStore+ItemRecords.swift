import Foundation
import GRDB

/// An item's grant to a principal.
package struct ContentGrant: Sendable, Hashable {
    package var principalID: String
    package var role: ContentRole

    package init(principalID: String, role: ContentRole) {
        self.principalID = principalID
        self.role = role
    }
}

/// Everything an item's JSON rendering and its access decisions need, read in one go.
package struct ItemRecord: Sendable, Equatable {
    package var item: ContentItem
    /// Free-form properties set through the API (`sakai:copyright`, `sakai:allowcomments`, …).
    package var properties: [String: JSONValue]
    package var grants: [ContentGrant]
    package var tags: [String]
    package var lastModifiedBy: String?
    package var bodyLastModifiedAt: Int64
    package var commentCount: Int

    /// The principals holding `role`, in a stable order.
    package func principals(_ role: ContentRole) -> [String] {
        grants.filter { $0.role == role }.map(\.principalID).sorted()
    }

    /// What a caller acting as `principals` may do.
    package func access(principals: Set<String>, rule: ItemAccessRule) -> ItemAccess {
        rule.access(visibility: item.visibility, roles: Set(grants.filter { principals.contains($0.principalID) }.map(\.role)))
    }
}

/// What a caller may do with an item.
package struct ItemAccess: Sendable, Equatable {
    package var read: Bool
    package var write: Bool
    package var manage: Bool
}

/// A change to an item's metadata; `nil` leaves a field as it is.
package struct ItemChange: Sendable, Equatable {
    package var name: String?
    package var description: String?
    package var visibility: Visibility?
    package var setProperties: [String: JSONValue] = [:]
    package var removeProperties: Set<String> = []

    package init(
        name: String? = nil, description: String? = nil, visibility: Visibility? = nil,
        setProperties: [String: JSONValue] = [:], removeProperties: Set<String> = []
    ) {
        self.name = name
        self.description = description
        self.visibility = visibility
        self.setProperties = setProperties
        self.removeProperties = removeProperties
    }

    package var isEmpty: Bool {
        name == nil && description == nil && visibility == nil && setProperties.isEmpty && removeProperties.isEmpty
    }
}

extension SQLiteMetadataStore {
    /// The item with its properties, grants, tags and comment count, or `nil`.
    package func itemRecord(id: String) async throws -> ItemRecord? {
        try await database.read(through: readGate) { db in try Self.fetchItemRecords(ids: [id], in: db)[id] }
    }

    /// Several items at once, in one read and four queries whatever their number (as a page
    /// of search results needs them); unknown ids are absent.
    package func itemRecords(ids: [String]) async throws -> [String: ItemRecord] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read(through: readGate) { db in try Self.fetchItemRecords(ids: ids, in: db) }
    }

    package static func fetchItemRecords(ids: [String], in db: Database) throws -> [String: ItemRecord] {
        if ids.isEmpty { return [:] }
        let list = jsonArray(ids)
        var grants: [String: [ContentGrant]] = [:]
        let grantRows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT itemId, principalId, role FROM contentGrant WHERE itemId IN (SELECT value FROM json_each(?))"),
            arguments: [list])
        while let row = try grantRows.next() {
            guard let role = ContentRole(rawValue: row[2]) else { continue }
            grants[row[0], default: []].append(ContentGrant(principalID: row[1], role: role))
        }
        var tags: [String: [String]] = [:]
        let tagRows = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT ct.itemId, t.name FROM contentTag ct JOIN tag t ON t.id = ct.tagId
                WHERE ct.itemId IN (SELECT value FROM json_each(?)) ORDER BY t.name
                """),
            arguments: [list])
        while let row = try tagRows.next() { tags[row[0], default: []].append(row[1]) }
        var comments: [String: Int] = [:]
        let commentRows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT itemId, count(*) FROM comment WHERE itemId IN (SELECT value FROM json_each(?)) GROUP BY itemId"),
            arguments: [list])
        while let row = try commentRows.next() { comments[row[0]] = row[1] }

        var records: [String: ItemRecord] = [:]
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT i.id, i.name, i.description, i.mimeType, i.visibility, i.currentVersion, v.blobId, v.length,
                    i.createdAt, i.createdBy, i.lastModifiedAt, i.lastModifiedBy, i.bodyLastModifiedAt, i.properties
                FROM contentItem i
                LEFT JOIN contentVersion v ON v.itemId = i.id AND v.number = i.currentVersion
                WHERE i.id IN (SELECT value FROM json_each(?))
                """),
            arguments: [list])
        while let row = try rows.next() {
            let id: String = row[0]
            let blob: String? = row[6]
            let item = ContentItem(
                id: id, name: row[1], description: row[2], mimeType: row[3],
                visibility: Visibility(rawValue: row[4]) ?? .private, currentVersion: row[5],
                blobID: try blob.map { try BlobID(parsing: $0) }, length: row[7] ?? 0,
                createdAt: row[8], createdBy: row[9], lastModifiedAt: row[10])
            let text: String = row[13]
            let properties = Self.propertyObject(text)
            records[id] = ItemRecord(
                item: item, properties: properties, grants: grants[id] ?? [], tags: tags[id] ?? [],
                lastModifiedBy: row[11], bodyLastModifiedAt: row[12], commentCount: comments[id] ?? 0)
        }
        return records
    }

    /// A stored properties column as an object (empty when it is not one).
    static func propertyObject(_ text: String) -> [String: JSONValue] {
        text == "{}" ? [:] : (try? JSONValue.parse(text))?.objectValue ?? [:]
    }

    /// Changes an item's metadata. Throws `.notFound` for an unknown item.
    package func updateItem(id: String, _ change: ItemChange, by actor: String?) async throws {
        if let name = change.name { try Self.validateItemName(name) }
        try await database.write { db in
            guard let text = try String.fetchOne(
                db.cachedStatement(sql: "SELECT properties FROM contentItem WHERE id = ?"), arguments: [id])
            else { throw RepositoryError.notFound(kind: "item", id: id) }
            var properties = Self.propertyObject(text)
            for key in change.removeProperties { properties[key] = nil }
            properties.merge(change.setProperties) { _, new in new }
            try db.cachedStatement(sql: """
                UPDATE contentItem SET name = coalesce(?, name), description = coalesce(?, description),
                    visibility = coalesce(?, visibility), properties = ?, lastModifiedAt = ?, lastModifiedBy = ?
                WHERE id = ?
                """).execute(arguments: [
                    change.name, change.description, change.visibility?.rawValue,
                    JSONValue.object(properties).serialized, Self.now(), actor, id,
                ])
        }
    }

    /// Throws `.notFound` unless the item exists.
    private static func requireItem(_ id: String, in db: Database) throws {
        guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM contentItem WHERE id = ?"), arguments: [id]) != nil
        else { throw RepositoryError.notFound(kind: "item", id: id) }
    }

    /// Adds and removes grants in one transaction. Granting a principal that does not exist
    /// throws `.notFound`; removing a grant that is not there is not an error.
    package func changeGrants(itemID: String, add: [ContentGrant], remove: [ContentGrant], by actor: String?) async throws {
        try await database.write { db in
            try Self.requireItem(itemID, in: db)
            let now = Self.now()
            for grant in remove {
                try db.cachedStatement(sql: "DELETE FROM contentGrant WHERE itemId = ? AND principalId = ? AND role = ?")
                    .execute(arguments: [itemID, grant.principalID, grant.role.rawValue])
            }
            for grant in add {
                guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [grant.principalID]) != nil
                else { throw RepositoryError.notFound(kind: "principal", id: grant.principalID) }
                try db.cachedStatement(sql: """
                    INSERT INTO contentGrant (itemId, principalId, role, grantedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """).execute(arguments: [itemID, grant.principalID, grant.role.rawValue, now])
            }
            // Who held a role and holds none now stays named, with nothing granted.
            for principal in Set(remove.map(\.principalID)).union(add.map(\.principalID)) {
                try db.cachedStatement(sql: """
                    INSERT INTO formerGrantee (itemId, principalId)
                    SELECT ?, ? WHERE EXISTS (SELECT 1 FROM principal WHERE id = ?)
                        AND NOT EXISTS (SELECT 1 FROM contentGrant WHERE itemId = ? AND principalId = ?)
                    ON CONFLICT DO NOTHING
                    """).execute(arguments: [itemID, principal, principal, itemID, principal])
                try db.cachedStatement(sql: """
                    DELETE FROM formerGrantee WHERE itemId = ? AND principalId = ?
                        AND EXISTS (SELECT 1 FROM contentGrant WHERE itemId = ? AND principalId = ?)
                    """).execute(arguments: [itemID, principal, itemID, principal])
            }
            try db.cachedStatement(sql: "UPDATE contentItem SET lastModifiedAt = ?, lastModifiedBy = coalesce(?, lastModifiedBy) WHERE id = ?")
                .execute(arguments: [now, actor, itemID])
        }
    }

    /// The principals that held a role in the item and hold none now.
    package func formerGrantees(ofItem itemID: String) async throws -> [String] {
        try await database.read(through: readGate) { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT principalId FROM formerGrantee WHERE itemId = ? ORDER BY principalId"), arguments: [itemID])
        }
    }

    /// Adds and removes an item's tags (creating tags on first use).
    package func changeItemTags(itemID: String, add: [String], remove: [String]) async throws {
        try await database.write { db in
            try Self.requireItem(itemID, in: db)
            let now = Self.now()
            for name in remove {
                try db.cachedStatement(sql: "DELETE FROM contentTag WHERE itemId = ? AND tagId = (SELECT id FROM tag WHERE name = ?)")
                    .execute(arguments: [itemID, name])
            }
            for name in add {
                try db.cachedStatement(sql: "INSERT INTO tag (name, createdAt) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
                    .execute(arguments: [name, now])
                try db.cachedStatement(sql: """
                    INSERT INTO contentTag (itemId, tagId) SELECT ?, id FROM tag WHERE name = ? ON CONFLICT DO NOTHING
                    """).execute(arguments: [itemID, name])
            }
            try db.cachedStatement(sql: "UPDATE contentItem SET lastModifiedAt = ? WHERE id = ?").execute(arguments: [now, itemID])
        }
    }

    /// Keeps `properties` (JSON) with the item's current version.
    /// Saves the item's working copy as a version (`.save.json`): the current version keeps
    /// its body and takes `properties` as its saved properties, and a copy of it becomes the
    /// new working copy. Returns the number of the version saved.
    package func saveVersion(itemID: String, properties: String, by principalID: String?) async throws -> Int {
        let now = Self.now()
        return try await database.write { db in
            guard let number = try Int.fetchOne(db.cachedStatement(sql: "SELECT currentVersion FROM contentItem WHERE id = ?"), arguments: [itemID])
            else { throw RepositoryError.notFound(kind: "item", id: itemID) }
            try db.cachedStatement(sql: "UPDATE contentVersion SET properties = ? WHERE itemId = ? AND number = ?")
                .execute(arguments: [properties, itemID, number])
            try db.cachedStatement(sql: """
                INSERT INTO contentVersion (itemId, number, blobId, length, mimeType, fileName, savedAt, savedBy)
                SELECT itemId, number + 1, blobId, length, mimeType, fileName, ?, ? FROM contentVersion
                WHERE itemId = ? AND number = ?
                """).execute(arguments: [now, principalID, itemID, number])
            try db.cachedStatement(sql: "UPDATE contentItem SET currentVersion = ? WHERE id = ?").execute(arguments: [number + 1, itemID])
            return number
        }
    }

    /// An item's comments, oldest first.
    package func comments(onItem itemID: String) async throws -> [ItemComment] {
        try await database.read(through: readGate) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, authorId, body, createdAt FROM comment WHERE itemId = ? ORDER BY createdAt, id"),
                arguments: [itemID]
            ).map(ItemComment.init(row:))
        }
    }
}

extension SQLiteMetadataStore {
    /// Longest comment accepted, in characters.
    package static let maximumCommentLength = 10_000

    /// Adds a comment to an item; returns its id.
    package func addComment(onItem itemID: String, by authorID: String, body: String) async throws -> Int64 {
        try Self.validateComment(body)
        return try await database.write { db in
            try db.cachedStatement(sql: "INSERT INTO comment (itemId, authorId, body, createdAt) VALUES (?, ?, ?, ?)")
                .execute(arguments: [itemID, authorID, body, Self.now()])
            return db.lastInsertedRowID
        }
    }

    /// One comment on an item, or `nil`.
    package func comment(_ id: Int64, onItem itemID: String) async throws -> ItemComment? {
        try await database.read(through: readGate) { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, authorId, body, createdAt FROM comment WHERE id = ? AND itemId = ?"),
                arguments: [id, itemID]
            ).map(ItemComment.init(row:))
        }
    }

    /// Replaces a comment's text.
    package func editComment(_ id: Int64, body: String) async throws {
        try Self.validateComment(body)
        try await database.write { db in
            try db.cachedStatement(sql: "UPDATE comment SET body = ?, editedAt = ? WHERE id = ?").execute(arguments: [body, Self.now(), id])
            guard db.changesCount > 0 else { throw RepositoryError.notFound(kind: "comment", id: String(id)) }
        }
    }

    package func deleteComment(_ id: Int64) async throws {
        try await database.write { db in
            try db.cachedStatement(sql: "DELETE FROM comment WHERE id = ?").execute(arguments: [id])
        }
    }

    private static func validateComment(_ body: String) throws {
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, body.count <= maximumCommentLength else {
            throw RepositoryError.invalid(field: "comment", reason: "must be 1 to \(maximumCommentLength) characters")
        }
    }
}

/// A comment on an item.
package struct ItemComment: Sendable, Equatable {
    package var id: Int64
    package var authorID: String?
    package var body: String
    package var createdAt: Int64
}

extension ItemComment {
    /// From a row of `id, authorId, body, createdAt`.
    init(row: Row) {
        self.init(id: row["id"], authorID: row["authorId"], body: row["body"], createdAt: row["createdAt"])
    }
}

/// One saved version of an item: its body and the properties saved with it.
package struct ItemVersion: Sendable, Equatable {
    package var number: Int
    package var blobID: BlobID?
    package var length: Int64
    package var mimeType: String
    package var fileName: String
    package var savedAt: Int64
    package var savedBy: String?
    package var properties: [String: JSONValue]
}

extension SQLiteMetadataStore {
    /// An item's versions, newest first.
    package func versions(ofItem itemID: String) async throws -> [ItemVersion] {
        try await database.read(through: readGate) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT number, blobId, length, mimeType, fileName, savedAt, savedBy, properties FROM contentVersion
                    WHERE itemId = ? ORDER BY number DESC
                    """),
                arguments: [itemID]
            ).map { row in
                let blob: String? = row[1]
                let text: String = row[7]
                return ItemVersion(
                    number: row[0], blobID: try blob.map { try BlobID(parsing: $0) }, length: row[2], mimeType: row[3],
                    fileName: row[4], savedAt: row[5], savedBy: row[6],
                    properties: Self.propertyObject(text))
            }
        }
    }
}
