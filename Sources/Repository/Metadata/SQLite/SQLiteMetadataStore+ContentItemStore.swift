import GRDB

extension SQLiteMetadataStore {
    package func createItem(_ new: NewContentItem, body: StagedBlob, blobs: some BlobStore) async throws -> ContentItem {
        try await createItems([(new, body)], blobs: blobs, durability: .perBlob)[0]
    }

    package func createItems(
        _ items: [(NewContentItem, StagedBlob)], blobs: some BlobStore, durability: BatchDurability
    ) async throws -> [ContentItem] {
        let now = Self.now()
        do {
            for (new, _) in items { try Self.validateItemName(new.name) }
            return try await writeImmediately { db in
                var created: [ContentItem] = []
                for (new, body) in items {
                    created.append(try Self.insertItem(new, body: body, at: now, in: db))
                    // Under the write lock: a concurrent `gc` either ran before (and the bytes
                    // are stored again here) or runs after the commit (and sees the reference).
                    try blobs.publish(body, durably: durability == .perBlob)
                }
                if durability == .batch { try blobs.makeDurable() }
                return created
            }
        } catch {
            for (_, body) in items { blobs.discard(body) }
            throw error
        }
    }

    /// Creates an item without a body (a Sakai doc, a link, a collection), with its own
    /// free-form properties.
    package func createBodilessItem(_ new: NewContentItem, properties: [String: JSONValue]) async throws -> ContentItem {
        try Self.validateItemName(new.name)
        let now = Self.now()
        return try await writeImmediately { db in
            let item = try Self.insertItem(new, body: nil, at: now, in: db)
            if !properties.isEmpty {
                try db.cachedStatement(sql: "UPDATE contentItem SET properties = ? WHERE id = ?")
                    .execute(arguments: [JSONValue.object(properties).serialized, item.id])
            }
            return item
        }
    }

    static func validateItemName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 1024, !name.contains("/"), !name.contains("\0") else {
            throw RepositoryError.invalid(field: "name", reason: "must be 1 to 1024 bytes without '/' or NUL")
        }
    }

    /// Inserts an item, its first version, the owner's grant, an activity and, for a body, an
    /// extraction job; the caller publishes the blob and commits.
    private static func insertItem(_ new: NewContentItem, body: StagedBlob?, at now: Int64, in db: Database) throws -> ContentItem {
        guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [new.ownerID]) != nil else {
            throw RepositoryError.notFound(kind: "principal", id: new.ownerID)
        }
        var id = Identifiers.poolID()
        while try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM contentItem WHERE id = ?"), arguments: [id]) != nil {
            id = Identifiers.poolID()
        }
        let blobID = body?.id.description
        if let body, let blobID {
            try db.cachedStatement(sql: "INSERT INTO blob (id, length, createdAt) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING").execute(arguments: [blobID, body.length, now])
        }
        try db.cachedStatement(sql: """
                INSERT INTO contentItem (id, name, description, mimeType, visibility, currentVersion,
                    createdAt, createdBy, lastModifiedAt, lastModifiedBy, bodyLastModifiedAt)
                VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
                """).execute(arguments: [id, new.name, new.description, new.mimeType, new.visibility.rawValue,
                        now, new.ownerID, now, new.ownerID, now])
        try db.cachedStatement(sql: """
                INSERT INTO contentVersion (itemId, number, blobId, length, mimeType, fileName, savedAt, savedBy)
                VALUES (?, 1, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [id, blobID, body?.length ?? 0, new.mimeType, new.name, now, new.ownerID])
        try db.cachedStatement(sql: "INSERT INTO contentGrant (itemId, principalId, role, grantedAt) VALUES (?, ?, 'manager', ?)").execute(arguments: [id, new.ownerID, now])
        try db.execute(
            sql: """
                INSERT INTO activity (actorId, itemId, sourcePath, appId, templateId, messageKey, createdAt)
                VALUES (?, ?, ?, 'Content', 'default', 'CREATED_FILE', ?)
                """,
            arguments: [new.ownerID, id, "/p/\(id)", now])
        if let blobID { try queueExtraction(of: blobID, at: now, in: db) }
        if let file = new.importedFrom { try recordImport(file, itemID: id, at: now, in: db) }
        return ContentItem(
            id: id, name: new.name, description: new.description, mimeType: new.mimeType,
            visibility: new.visibility, currentVersion: 1, blobID: body?.id, length: body?.length ?? 0,
            createdAt: now, createdBy: new.ownerID, lastModifiedAt: now)
    }

    package func addVersion(
        toItem id: String, body: StagedBlob, mimeType: String, savedBy: String, blobs: some BlobStore,
        importedFrom: ImportedFile?
    ) async throws -> ContentItem {
        let now = Self.now()
        return try await storeBody(body, ofItem: id, blobs: blobs) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT currentVersion, name FROM contentItem WHERE id = ?"), arguments: [id])
            else { throw RepositoryError.notFound(kind: "item", id: id) }
            let number = (row["currentVersion"] as Int) + 1
            let name: String = row["name"]
            let blobID = body.id.description
            try Self.recordBlob(blobID, length: body.length, at: now, in: db)
            try db.cachedStatement(sql: """
                    INSERT INTO contentVersion (itemId, number, blobId, length, mimeType, fileName, savedAt, savedBy)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [id, number, blobID, body.length, mimeType, name, now, savedBy])
            try db.cachedStatement(sql: """
                    UPDATE contentItem SET currentVersion = ?, mimeType = ?, lastModifiedAt = ?, lastModifiedBy = ?,
                        bodyLastModifiedAt = ?
                    WHERE id = ?
                    """).execute(arguments: [number, mimeType, now, savedBy, now, id])
            try Self.recordNewBody(of: id, blobID: blobID, by: savedBy, at: now, in: db)
            if let importedFrom { try Self.recordImport(importedFrom, itemID: id, at: now, in: db) }
        }
    }

    package func replaceBody(
        ofItem id: String, body: StagedBlob, mimeType: String, savedBy: String, blobs: some BlobStore
    ) async throws -> ContentItem {
        let now = Self.now()
        return try await storeBody(body, ofItem: id, blobs: blobs) { db in
            guard let number = try Int.fetchOne(db.cachedStatement(sql: "SELECT currentVersion FROM contentItem WHERE id = ?"), arguments: [id])
            else { throw RepositoryError.notFound(kind: "item", id: id) }
            let blobID = body.id.description
            try Self.recordBlob(blobID, length: body.length, at: now, in: db)
            try db.cachedStatement(sql: """
                    UPDATE contentVersion SET blobId = ?, length = ?, mimeType = ?, savedAt = ?, savedBy = ?
                    WHERE itemId = ? AND number = ?
                    """).execute(arguments: [blobID, body.length, mimeType, now, savedBy, id, number])
            // The item's own row changes too, so that the search catalog reads its new body.
            try db.cachedStatement(sql: """
                    UPDATE contentItem SET mimeType = ?, lastModifiedAt = ?, lastModifiedBy = ?, bodyLastModifiedAt = ?
                    WHERE id = ?
                    """).execute(arguments: [mimeType, now, savedBy, now, id])
            try Self.recordNewBody(of: id, blobID: blobID, by: savedBy, at: now, in: db)
        }
    }

    /// Runs `change` in a transaction that holds the write lock and ends by publishing the
    /// staged body (so that `gc` cannot interleave); whatever fails discards the body. Then
    /// reads the item.
    private func storeBody(
        _ body: StagedBlob, ofItem id: String, blobs: some BlobStore, _ change: @escaping @Sendable (Database) throws -> Void
    ) async throws -> ContentItem {
        do {
            try await writeImmediately { db in
                try change(db)
                try blobs.publish(body)
            }
        } catch {
            blobs.discard(body)
            throw error
        }
        guard let item = try await item(id: id) else { throw RepositoryError.notFound(kind: "item", id: id) }
        return item
    }

    /// Records a blob's row (once: the same bytes may arrive again).
    private static func recordBlob(_ blobID: String, length: Int64, at now: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO blob (id, length, createdAt) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .execute(arguments: [blobID, length, now])
    }

    /// What follows a new body for an item: its activity, and its extraction queued.
    private static func recordNewBody(of id: String, blobID: String, by savedBy: String, at now: Int64, in db: Database) throws {
        try db.cachedStatement(sql: """
                INSERT INTO activity (actorId, itemId, sourcePath, appId, templateId, messageKey, createdAt)
                VALUES (?, ?, ?, 'Content', 'default', 'UPDATED_FILE', ?)
                """).execute(arguments: [savedBy, id, "/p/\(id)", now])
        try queueExtraction(of: blobID, at: now, in: db)
    }

    package func importedItems(for files: [ImportedFile]) async throws -> [String: ImportedItemState] {
        try await database.read(through: readGate) { db in
            var states: [String: ImportedItemState] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT f.itemId, f.size, f.modifiedAt, v.blobId FROM importedFile f
                JOIN contentItem i ON i.id = f.itemId
                LEFT JOIN contentVersion v ON v.itemId = i.id AND v.number = i.currentVersion
                WHERE f.path = ?
                """)
            for file in files {
                guard let row = try Row.fetchOne(statement, arguments: [file.path]) else { continue }
                let itemID: String = row["itemId"]
                let blob: String? = row["blobId"]
                if (row["size"] as Int64) == file.size, (row["modifiedAt"] as Int64) == file.modifiedAt, let blob {
                    states[file.path] = .unchanged(itemID: itemID, blobID: try BlobID(parsing: blob))
                } else {
                    states[file.path] = .changed(itemID: itemID)
                }
            }
            return states
        }
    }

    private static func queueExtraction(of blobID: String, at now: Int64, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO extractionJob (blobId, state, enqueuedAt) VALUES (?, 'pending', ?) ON CONFLICT (blobId) DO NOTHING").execute(arguments: [blobID, now])
    }

    private static func recordImport(_ file: ImportedFile, itemID: String, at now: Int64, in db: Database) throws {
        try db.cachedStatement(sql: """
                INSERT INTO importedFile (path, size, modifiedAt, itemId, importedAt) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (path) DO UPDATE SET size = excluded.size, modifiedAt = excluded.modifiedAt,
                    itemId = excluded.itemId, importedAt = excluded.importedAt
                """).execute(arguments: [file.path, file.size, file.modifiedAt, itemID, now])
    }

    package func item(id: String) async throws -> ContentItem? {
        try await database.read(through: readGate) { db in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT i.*, v.blobId, v.length FROM contentItem i
                    LEFT JOIN contentVersion v ON v.itemId = i.id AND v.number = i.currentVersion
                    WHERE i.id = ?
                    """,
                arguments: [id])
            else { return nil }
            let blob: String? = row["blobId"]
            return ContentItem(
                id: row["id"], name: row["name"], description: row["description"], mimeType: row["mimeType"],
                visibility: Visibility(rawValue: row["visibility"]) ?? .private,
                currentVersion: row["currentVersion"],
                blobID: try blob.map { try BlobID(parsing: $0) },
                length: row["length"] ?? 0,
                createdAt: row["createdAt"], createdBy: row["createdBy"], lastModifiedAt: row["lastModifiedAt"])
        }
    }

    package func deleteItem(id: String) async throws {
        try await database.write { db in
            try db.cachedStatement(sql: "DELETE FROM contentItem WHERE id = ?").execute(arguments: [id])
            guard db.changesCount > 0 else { throw RepositoryError.notFound(kind: "item", id: id) }
        }
    }
}
