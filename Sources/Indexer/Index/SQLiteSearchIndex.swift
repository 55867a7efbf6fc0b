import Foundation
import GRDB
import Repository

/// The full-text index and its extraction queue, in the site's SQLite database.
package struct SQLiteSearchIndex: Sendable {
    package let database: DatabasePool
    let readGate: ReadGate
    /// What searches know of every item in memory; shared by copies of this index.
    let catalog = SearchCatalog()
    /// Item records read for search pages, by catalog stamp; shared by copies of this index.
    let recordCache = StampedCache<ItemRecord>(capacity: 10_000)

    /// Body pages after which phrases of common words get an index of their own (see
    /// `PairIndex`).
    let pairMinimumPages: Int

    /// The index in the site's database, sharing its read admission. The site must have
    /// been opened with `prepareDatabase` as its connections' set-up.
    package init(metadata: SQLiteMetadataStore, pairMinimumPages: Int = 10_000) {
        database = metadata.database
        readGate = metadata.readGate
        self.pairMinimumPages = pairMinimumPages
    }

    /// What every connection to a database with a search index needs before use: the
    /// index's tokenizer, its ranking and snippet functions, and the doc-text function. (FTS5
    /// looks the tokenizer up whenever a connection first touches `bodyPairs`, a blob's
    /// deletion included; the item triggers call the doc-text function.)
    package static let prepareDatabase: @Sendable (Database) throws -> Void = { db in
        db.add(tokenizer: PairTokenizer.self)
        db.add(function: DocumentTextFunction.function)
        try RankFunction.register(in: db)
    }

    /// Creates or upgrades the index tables; a changed format is rebuilt (see
    /// `SearchIndexSchema`). Returns whether it rebuilt. Call once at start-up, after the
    /// metadata's own migrations.
    @discardableResult
    package func prepare() throws -> Bool {
        let options = try database.read { db in try String.fetchAll(db, sql: "PRAGMA compile_options") }
        guard options.contains("ENABLE_FTS5") else {
            throw RepositoryError.storage("this SQLite library was built without FTS5")
        }
        try SearchIndexSchema.migrator.migrate(database)
        return try database.write { db in
            do {
                _ = try db.makeTokenizer(FTS5TokenizerDescriptor(components: [PairTokenizer.name, ""] + PairIndex.baseTokenizer))
            } catch {
                throw RepositoryError.storage("the database was opened without the search index's set-up (SQLiteSearchIndex.prepareDatabase)")
            }
            let rebuilt = try SearchIndexSchema.prepare(db)
            try PairIndex.createIfDue(minimumPages: pairMinimumPages, in: db)
            try Self.trimChangeLog(db)
            return rebuilt
        }
    }

    // MARK: - The extraction queue

    /// Takes up to `limit` pending blobs to extract, oldest first, each leased to this process
    /// for `lease` seconds.
    package func claimJobs(limit: Int, lease: TimeInterval) async throws -> [BlobID] {
        let now = SQLiteMetadataStore.now()
        let expires = now + Int64(lease * 1000)
        return try await writeDerived { db in
            let ids = try String.fetchAll(db, sql: """
                UPDATE extractionJob
                SET state = 'running', attempts = attempts + 1, startedAt = ?, leaseExpiresAt = ?, owner = ?
                WHERE blobId IN (
                    SELECT blobId FROM extractionJob WHERE state = 'pending' ORDER BY enqueuedAt LIMIT ?)
                RETURNING blobId
                """, arguments: [now, expires, JobOwner.current, limit])
            return try ids.map { try BlobID(parsing: $0) }
        }
    }

    /// Puts back in the queue the running jobs whose worker is gone: those whose lease ran out
    /// (a worker elsewhere that died), and those of processes on this host that no longer
    /// exist (an indexer killed mid-run), without waiting for their leases. Returns how many
    /// it put back.
    @discardableResult
    package func reclaimAbandonedJobs() async throws -> Int {
        let now = SQLiteMetadataStore.now()
        return try await database.write { db in
            try db.cachedStatement(sql: "UPDATE extractionJob SET state = 'pending', owner = NULL, leaseExpiresAt = NULL WHERE state = 'running' AND leaseExpiresAt < ?").execute(arguments: [now])
            var reclaimed = db.changesCount
            let owners = try String.fetchAll(db, sql: "SELECT DISTINCT owner FROM extractionJob WHERE state = 'running' AND owner IS NOT NULL")
            for owner in owners where JobOwner.isDead(owner) {
                try db.cachedStatement(sql: "UPDATE extractionJob SET state = 'pending', owner = NULL, leaseExpiresAt = NULL WHERE state = 'running' AND owner = ?").execute(arguments: [owner])
                reclaimed += db.changesCount
            }
            return reclaimed
        }
    }

    /// Blobs waiting for extraction or being extracted.
    package func unfinishedJobCount() async throws -> Int {
        try await database.longRead(through: readGate) { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM extractionJob WHERE state IN ('pending', 'running')") ?? 0
        }
    }

    /// Records the extraction of a blob: its outcome, and its text as searchable rows, and
    /// marks its job done, in one transaction. A blob that `gc` removed meanwhile is skipped.
    package func store(_ result: ExtractionResult, for blob: BlobID) async throws {
        _ = try await store([(blob, result)])
    }

    /// Records several extractions, and marks their jobs done, in one transaction: one commit
    /// for many documents is what makes bulk indexing fast. Returns how long the transaction held the
    /// database's write lock, commit included (not the wait for it).
    @discardableResult
    package func store(_ results: [(BlobID, ExtractionResult)]) async throws -> Duration {
        let now = SQLiteMetadataStore.now()
        return try await writeDerivedTimed { db in
            // One lookup per batch, not two per document: which blobs still exist (gc may
            // have removed some meanwhile), and which have rows of an earlier extraction.
            let ids = SQLiteMetadataStore.jsonArray(results.map(\.0.description))
            let existing = try Set(String.fetchAll(
                db.cachedStatement(sql: "SELECT b.id FROM json_each(?) j JOIN blob b ON b.id = j.value"), arguments: [ids]))
            var numbers = try Dictionary(uniqueKeysWithValues: Row.fetchAll(
                db.cachedStatement(sql: "SELECT t.blobId, t.number FROM json_each(?) j JOIN blobText t ON t.blobId = j.value"),
                arguments: [ids]
            ).map { ($0[0] as String, $0[1] as Int64) })
            // New blobs are numbered here, after the highest number ever given (numbers are
            // never reused), rather than by an `INSERT … RETURNING` per document: a statement
            // that returns rows between FTS5 inserts made bulk indexing almost twice as slow
            // (measured: 0.44x of a bare FTS5 insert, against 0.84x this way).
            var next = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'blobText'") ?? 0
            let pairs = try PairIndex.exists(in: db)
            for (blob, result) in results where existing.contains(blob.description) {
                let replacing = numbers[blob.description] != nil
                let number = numbers[blob.description] ?? {
                    next += 1
                    return next
                }()
                numbers[blob.description] = number
                try Self.store(result, for: blob, number: number, replacing: replacing, pairs: pairs, at: now, in: db)
            }
            if !pairs { try PairIndex.createIfDue(minimumPages: pairMinimumPages, in: db) }
            try db.cachedStatement(sql: """
                UPDATE extractionJob SET state = 'done', finishedAt = ?, leaseExpiresAt = NULL, owner = NULL
                WHERE blobId IN (SELECT value FROM json_each(?))
                """).execute(arguments: [now, ids])
            try Self.trimChangeLog(db)
        }.1
    }

    /// Changes of the item log kept for catalogs catching up. A catalog further behind reloads
    /// everything anyway (`SearchCatalog.reloadThreshold` is smaller), so older ones can go.
    static let keptChanges: Int64 = 100_000

    /// Drops the item log's oldest changes beyond `keptChanges`.
    static func trimChangeLog(_ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM searchChange WHERE seq <= (SELECT max(seq) FROM searchChange) - ?")
            .execute(arguments: [keptChanges])
    }

    /// Copies the write-ahead log into the database file (without waiting for readers), as
    /// the derived writes defer it; returns how long that took.
    package func checkpoint() async throws -> Duration {
        try await database.writeWithoutTransaction { db in
            let clock = ContinuousClock()
            let start = clock.now
            try db.checkpoint(.passive)
            return start.duration(to: clock.now)
        }
    }

    /// WAL pages after which a derived write copies the log into the database (SQLite's
    /// default is 1,000). Each such checkpoint syncs twice, and pages that later commits
    /// rewrite (FTS5 merges rewrite many) are copied every time, so bulk indexing defers it
    /// to `checkpoint()` at the end, with this bound on the log's size meanwhile.
    static let derivedCheckpointPages = 16384

    /// Runs a transaction that writes only derived data (index rows, queue state) without
    /// waiting for the disk at commit (`synchronous = NORMAL`). A power cut can lose the last
    /// few such commits, never consistency: the lost jobs are simply done again. Writes that
    /// acknowledge user data keep the connection's full durability, and their sync also
    /// makes every earlier commit in the log durable.
    private func writeDerived<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writeDerivedTimed(body).0
    }

    private func writeDerivedTimed<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> (T, Duration) {
        try await database.writeWithoutTransaction { db in
            let clock = ContinuousClock()
            let start = clock.now
            let previous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 2
            let previousCheckpoint = try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1000
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = \(Self.derivedCheckpointPages)")
            defer {
                try? db.execute(sql: "PRAGMA synchronous = \(previous); PRAGMA wal_autocheckpoint = \(previousCheckpoint)")
            }
            var result: T?
            try db.inTransaction {
                result = try body(db)
                return .commit
            }
            return (result!, start.duration(to: clock.now))
        }
    }

    /// Writes one blob's rows, numbered from `number` (see `SearchIndexSchema`), then how its
    /// extraction ended; with `replacing`, its earlier rows go first. They are found by their
    /// rowid range, never by reading the FTS table: any read of an FTS5 table flushes its
    /// pending inserts into a new segment, and doing that once per document makes bulk
    /// indexing several times slower.
    private static func store(
        _ result: ExtractionResult, for blob: BlobID, number: Int64, replacing: Bool, pairs: Bool, at now: Int64, in db: Database
    ) throws {
        let text = result.text
        let first = number << SearchIndexSchema.pageBits
        if replacing {
            if pairs {
                try db.cachedStatement(sql: PairIndex.deleteSQL(from: "?", to: "?"))
                    .execute(arguments: [first, first + Int64(SearchIndexSchema.maximumPages - 1)])
            }
            try db.cachedStatement(sql: "DELETE FROM bodyText WHERE rowid BETWEEN ? AND ?")
                .execute(arguments: [first, first + Int64(SearchIndexSchema.maximumPages - 1)])
        }
        if let text {
            let insert = try db.cachedStatement(sql: "INSERT INTO bodyText (rowid, title, body) VALUES (?, ?, ?)")
            var heading = [text.title, text.author].compactMap { $0 }.joined(separator: " — ")
            func add(_ row: Int64, _ title: String?, _ body: String?) throws {
                try insert.execute(arguments: [row, title, body])
                if pairs { try PairIndex.insert(row: row, title: title, body: body, in: db) }
            }
            for (index, page) in text.pages.enumerated().prefix(SearchIndexSchema.maximumPages) where page.hasVisibleText {
                try add(first + Int64(index), heading.isEmpty ? nil : heading, page)
                heading = ""
            }
            if !heading.isEmpty {
                try add(first, heading, nil)
            }
        }
        try db.cachedStatement(sql: """
            INSERT INTO blobText (number, blobId, paged, outcome, detail, mediaType, pageCount, characters, truncated,
                title, author, description, extractedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (number) DO UPDATE SET paged = excluded.paged, outcome = excluded.outcome,
                detail = excluded.detail, mediaType = excluded.mediaType, pageCount = excluded.pageCount,
                characters = excluded.characters, truncated = excluded.truncated, title = excluded.title,
                author = excluded.author, description = excluded.description, extractedAt = excluded.extractedAt
            """).execute(arguments: [
                number, blob.description, text?.hasPageNumbers ?? false, result.outcome.rawValue, result.detail,
                result.mediaType, text?.pageCount ?? 0, text?.textBytes ?? 0, text?.truncated ?? false, text?.title,
                text?.author, text?.description, now,
            ])
    }

    /// How the blob's extraction ended, or `nil` when it has not been extracted.
    package func extraction(of blob: BlobID) async throws -> StoredExtraction? {
        try await extractions(of: [blob])[blob]
    }

    /// How the extraction of each of these blobs ended; blobs not yet extracted are absent.
    package func extractions(of blobs: Set<BlobID>) async throws -> [BlobID: StoredExtraction] {
        try await database.longRead(through: readGate) { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM blobText WHERE blobId = ?")
            var found: [BlobID: StoredExtraction] = [:]
            for blob in blobs {
                guard let row = try Row.fetchOne(statement, arguments: [blob.description]) else { continue }
                found[blob] = StoredExtraction(
                    outcome: ExtractionOutcome(rawValue: row["outcome"]) ?? .crashed, mediaType: row["mediaType"],
                    pageCount: row["pageCount"], characters: row["characters"], truncated: row["truncated"],
                    title: row["title"], detail: row["detail"])
            }
            return found
        }
    }
}

/// Names the process that holds a job: `host:pid`.
enum JobOwner {
    static let current = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    /// Whether `owner` is a process of this host that has ended.
    static func isDead(_ owner: String) -> Bool {
        guard let colon = owner.lastIndex(of: ":"), owner[..<colon] == ProcessInfo.processInfo.hostName,
            let pid = Int32(owner[owner.index(after: colon)...])
        else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

