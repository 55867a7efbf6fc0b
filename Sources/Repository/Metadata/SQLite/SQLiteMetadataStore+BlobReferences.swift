import GRDB

extension SQLiteMetadataStore {
    package func recordedBlobs() async throws -> [BlobID: RecordedBlob] {
        try await database.read(through: readGate) { db in
            var blobs: [BlobID: RecordedBlob] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT b.id, b.length,
                    (SELECT count(*) FROM contentVersion v WHERE v.blobId = b.id)
                    + (SELECT count(*) FROM contentResource r WHERE r.blobId = b.id) AS refs
                FROM blob b
                """)
            while let row = try rows.next() {
                let id = try BlobID(parsing: row["id"] as String)
                blobs[id] = RecordedBlob(length: row["length"], references: row["refs"])
            }
            return blobs
        }
    }

    package func sweepUnreferencedBlobs(
        unrecorded: [BlobID], remove: @escaping @Sendable (BlobID) throws -> Void
    ) async throws -> [BlobID] {
        try await writeImmediately { db in
            var removed: [BlobID] = []
            let unreferenced = try String.fetchAll(db, sql: """
                SELECT id FROM blob b WHERE NOT EXISTS (SELECT 1 FROM contentVersion v WHERE v.blobId = b.id)
                    AND NOT EXISTS (SELECT 1 FROM contentResource r WHERE r.blobId = b.id)
                """)
            for text in unreferenced {
                let id = try BlobID(parsing: text)
                try remove(id)
                try db.cachedStatement(sql: "DELETE FROM blob WHERE id = ?").execute(arguments: [text])
                removed.append(id)
            }
            for id in unrecorded {
                let recorded = try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM blob WHERE id = ?"), arguments: [id.description])
                if recorded == nil {
                    try remove(id)
                    removed.append(id)
                }
            }
            return removed
        }
    }

    package func isRecorded(_ blob: BlobID) async throws -> Bool {
        try await database.read(through: readGate) { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM blob WHERE id = ?"), arguments: [blob.description]) != nil
        }
    }

    package func databaseProblems() async throws -> [String] {
        try await database.read(through: readGate) { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                let table: String = row[0]
                let rowid: Int64? = row[1]
                let parent: String = row[2]
                problems.append("foreign key: a row of \(table) (rowid \(rowid.map(String.init) ?? "-")) names a missing \(parent)")
            }
            return problems
        }
    }

    package func statistics() async throws -> RepositoryStatistics {
        try await database.read(through: readGate) { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            func sum(_ sql: String) throws -> Int64 { try Int64.fetchOne(db, sql: sql) ?? 0 }
            return RepositoryStatistics(
                users: try count("SELECT count(*) FROM user"),
                groups: try count("SELECT count(*) FROM userGroup WHERE parentId IS NULL"),
                items: try count("SELECT count(*) FROM contentItem"),
                versions: try count("SELECT count(*) FROM contentVersion"),
                blobs: try count("SELECT count(*) FROM blob"),
                storedBytes: try sum("SELECT coalesce(sum(length), 0) FROM blob"),
                logicalBytes: try sum("SELECT coalesce(sum(length), 0) FROM contentVersion WHERE blobId IS NOT NULL"))
        }
    }
}
