import GRDB

/// The full-text index's tables. They are derived data: everything in them can be rebuilt from
/// the blobs and the metadata, so instead of migrating them, a change of `formatVersion`
/// drops and rebuilds them, re-queueing every blob for extraction.
///
/// - `searchText` (FTS5) has one row per item (its name, description and tags) and one row per
///   page of a PDF or chunk of an HTML or text body (`title` on the first, `body` on each).
///   Body rows belong to a blob, not an item, so a blob shared by many items is indexed once.
/// - `searchRow` maps each FTS row to its item or to its blob and page.
/// - `blobText` records, per blob, how extraction ended.
///
/// Tokenizer: `porter` over `unicode61` with diacritics removed. Stemming lets "lectures" find
/// "lecture", and folding lets "cafe" find "café"; both matter more to people searching course
/// material than exact word forms. Porter is an English stemmer: other languages are still
/// matched word for word, only less forgivingly. Two- and three-character prefix indexes keep
/// prefix queries (`photo*`) off a full scan of the vocabulary.
///
/// Item rows are kept in step with `contentItem` and `contentTag` by triggers, so a renamed or
/// retagged item is found under its new words in the very next query.
enum SearchIndexSchema {
    static let formatVersion = 1

    /// bm25 weights of name, description, tags, title and body: an item's own fields outrank
    /// words deep in its body.
    static let rankWeights = "bm25(10.0, 4.0, 6.0, 5.0, 1.0)"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("index-v1-createSetting") { db in
            try db.execute(sql: "CREATE TABLE indexSetting (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
        }
        return migrator
    }

    /// Brings the index tables to `formatVersion`, rebuilding them when they are of another.
    /// Returns whether it rebuilt.
    @discardableResult
    static func prepare(_ db: Database) throws -> Bool {
        let stored = try Int.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM indexSetting WHERE key = 'formatVersion'")
        guard stored != formatVersion else { return false }
        for trigger in ["contentItem_index_insert", "contentItem_index_update", "contentItem_index_delete",
                        "contentTag_index_insert", "contentTag_index_delete", "blob_index_delete"] {
            try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)")
        }
        for table in ["searchText", "searchRow", "blobText"] {
            try db.execute(sql: "DROP TABLE IF EXISTS \(table)")
        }
        try create(db)
        // Every blob is extracted again under the new format.
        try db.execute(sql: """
            INSERT INTO extractionJob (blobId, state, enqueuedAt)
            SELECT id, 'pending', createdAt FROM blob WHERE true
            ON CONFLICT (blobId) DO UPDATE SET state = 'pending', attempts = 0, startedAt = NULL,
                finishedAt = NULL, leaseExpiresAt = NULL, outcome = NULL, detail = NULL
            """)
        try db.execute(
            sql: "INSERT INTO indexSetting (key, value) VALUES ('formatVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [String(formatVersion)])
        return true
    }

    private static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE blobText (
                blobId TEXT PRIMARY KEY NOT NULL REFERENCES blob(id) ON DELETE CASCADE,
                outcome TEXT NOT NULL,
                detail TEXT,
                mediaType TEXT NOT NULL,
                pageCount INTEGER NOT NULL DEFAULT 0,
                characters INTEGER NOT NULL DEFAULT 0,
                truncated INTEGER NOT NULL DEFAULT 0,
                title TEXT,
                author TEXT,
                description TEXT,
                extractedAt INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE searchRow (
                id INTEGER PRIMARY KEY,
                itemId TEXT,
                blobId TEXT,
                page INTEGER,
                CHECK ((itemId IS NULL) != (blobId IS NULL))
            );
            CREATE UNIQUE INDEX searchRow_item ON searchRow(itemId) WHERE itemId IS NOT NULL;
            CREATE INDEX searchRow_blob ON searchRow(blobId, page) WHERE blobId IS NOT NULL;
            CREATE VIRTUAL TABLE searchText USING fts5(
                name, description, tags, title, body,
                tokenize = 'porter unicode61 remove_diacritics 2',
                prefix = '2 3'
            );
            INSERT INTO searchText (searchText, rank) VALUES ('rank', '\(rankWeights)');

            CREATE TRIGGER contentItem_index_insert AFTER INSERT ON contentItem BEGIN
                INSERT INTO searchRow (itemId) VALUES (new.id);
                INSERT INTO searchText (rowid, name, description, tags)
                VALUES ((SELECT id FROM searchRow WHERE itemId = new.id), new.name, new.description, '');
            END;
            CREATE TRIGGER contentItem_index_update AFTER UPDATE OF name, description ON contentItem BEGIN
                UPDATE searchText SET name = new.name, description = new.description
                WHERE rowid = (SELECT id FROM searchRow WHERE itemId = new.id);
            END;
            CREATE TRIGGER contentItem_index_delete AFTER DELETE ON contentItem BEGIN
                DELETE FROM searchText WHERE rowid = (SELECT id FROM searchRow WHERE itemId = old.id);
                DELETE FROM searchRow WHERE itemId = old.id;
            END;
            CREATE TRIGGER contentTag_index_insert AFTER INSERT ON contentTag BEGIN
                UPDATE searchText SET tags = (
                    SELECT coalesce(group_concat(t.name, ' '), '') FROM contentTag ct JOIN tag t ON t.id = ct.tagId
                    WHERE ct.itemId = new.itemId)
                WHERE rowid = (SELECT id FROM searchRow WHERE itemId = new.itemId);
            END;
            CREATE TRIGGER contentTag_index_delete AFTER DELETE ON contentTag BEGIN
                UPDATE searchText SET tags = (
                    SELECT coalesce(group_concat(t.name, ' '), '') FROM contentTag ct JOIN tag t ON t.id = ct.tagId
                    WHERE ct.itemId = old.itemId)
                WHERE rowid = (SELECT id FROM searchRow WHERE itemId = old.itemId);
            END;
            CREATE TRIGGER blob_index_delete AFTER DELETE ON blob BEGIN
                DELETE FROM searchText WHERE rowid IN (SELECT id FROM searchRow WHERE blobId = old.id);
                DELETE FROM searchRow WHERE blobId = old.id;
            END;
            """)
        // Items that exist already get their rows now.
        try db.execute(sql: "INSERT INTO searchRow (itemId) SELECT id FROM contentItem")
        try db.execute(sql: """
            INSERT INTO searchText (rowid, name, description, tags)
            SELECT r.id, i.name, i.description, coalesce((
                SELECT group_concat(t.name, ' ') FROM contentTag ct JOIN tag t ON t.id = ct.tagId WHERE ct.itemId = i.id), '')
            FROM searchRow r JOIN contentItem i ON i.id = r.itemId
            """)
    }
}
