import GRDB

/// The full-text index's tables. They are derived data: everything in them can be rebuilt from
/// the blobs and the metadata, so instead of migrating them, a change of `formatVersion`
/// drops and rebuilds them, re-queueing every blob for extraction.
///
/// - `itemText` (FTS5) has one row per item: its name, description, tags and, for a Sakai
///   doc, its pages' text (`DocumentTextFunction`), mapped to the item by `itemRow`. Triggers
///   keep it in step with `contentItem` and `contentTag`, so a renamed, retagged or edited
///   item is found under its new words in the very next query.
/// - `bodyText` (FTS5) has one row per page of a PDF or chunk of an HTML or text body (the
///   document's own title on the first). Body rows belong to a blob, not an item, so a blob
///   shared by many items is indexed once. A row's id says whose it is: the blob's `number`
///   in `blobText` times 2^20, plus the page (from 0), so no table is needed to map hits to
///   blobs and pages, and a blob's rows are one rowid range.
/// - `bodyPairs` (FTS5, once the body is large enough) holds the pairs of adjacent common
///   words of the body rows, for phrases of common words (see `PairIndex`).
/// - `blobText` records, per blob, its number and how extraction ended. Like the body rows,
///   it is removed by a trigger when its blob is (a foreign key would cost a lookup per
///   indexed document). Numbers are never reused.
/// - `searchChange` logs every item whose searchable facts changed (its row, grants, tags,
///   current version), so that an in-memory catalog of them (`SearchCatalog`) can catch up
///   with the database exactly, before each query, by reading only what changed.
///
/// The two FTS tables are apart because they live differently: item rows are few and
/// rewritten whenever an item changes, body rows are many and only ever appended or dropped
/// whole. Keeping the body table to two columns also keeps bulk indexing close to the speed
/// of a bare FTS5 insert.
///
/// Tokenizer: `porter` over `unicode61` with diacritics removed. Stemming lets "lectures" find
/// "lecture", and folding lets "cafe" find "café"; both matter more to people searching course
/// material than exact word forms. Porter is an English stemmer: other languages are still
/// matched word for word, only less forgivingly. Two- and three-character prefix indexes keep
/// prefix queries (`photo*`) off a full scan of the vocabulary.
enum SearchIndexSchema {
    static let formatVersion = 4

    /// Body rows of a blob: `number << pageBits | page`.
    static let pageBits: Int64 = 20
    static let maximumPages = 1 << 20

    /// bm25 weights of an item's name, description, tags and doc pages, and of a body's title
    /// and text: an item's own fields outrank words deep in its body. Searches rank with these (see
    /// `RankFunction`); they are also each table's `rank`, for queries by hand.
    static let itemRankWeights = [10.0, 4.0, 6.0, 1.0]
    static let bodyRankWeights = [5.0, 1.0]

    /// A table's `rank` setting for `weights`.
    static func rankSetting(_ weights: [Double]) -> String {
        "bm25(\(weights.map { String($0) }.joined(separator: ", ")))"
    }

    static let tokenizer = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"

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
        guard stored != formatVersion else {
            try createChangeTriggers(db)
            try upgradeItemText(db)
            return false
        }
        for trigger in itemTextTriggers + ["blob_index_delete"] + changeTriggers.map(\.name) {
            try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)")
        }
        for table in ["searchText", "searchRow", "itemText", "itemRow", PairIndex.table, "bodyText", "bodyRow", "blobText", "searchChange"] {
            try db.execute(sql: "DROP TABLE IF EXISTS \(table)")
        }
        try db.execute(sql: "DELETE FROM indexSetting WHERE key = 'pairWords'")
        try create(db)
        // Every blob is extracted again under the new format.
        try db.execute(sql: """
            INSERT INTO extractionJob (blobId, state, enqueuedAt)
            SELECT id, 'pending', createdAt FROM blob WHERE true
            ON CONFLICT (blobId) DO UPDATE SET state = 'pending', attempts = 0, startedAt = NULL,
                finishedAt = NULL, leaseExpiresAt = NULL, owner = NULL
            """)
        try db.execute(
            sql: "INSERT INTO indexSetting (key, value) VALUES ('formatVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [String(formatVersion)])
        return true
    }

    /// The searchable tags of an item: its tag names, space-separated ('' for none).
    private static func tagList(of itemID: String) -> String {
        """
        (SELECT coalesce(group_concat(t.name, ' '), '') FROM contentTag ct JOIN tag t ON t.id = ct.tagId \
        WHERE ct.itemId = \(itemID))
        """
    }

    /// The triggers that log changed items in `searchChange`.
    static let changeTriggers: [(name: String, event: String, item: String)] = [
        ("contentItem_change_insert", "AFTER INSERT ON contentItem", "new.id"),
        ("contentItem_change_update", "AFTER UPDATE ON contentItem", "new.id"),
        ("contentItem_change_delete", "AFTER DELETE ON contentItem", "old.id"),
        ("contentGrant_change_insert", "AFTER INSERT ON contentGrant", "new.itemId"),
        ("contentGrant_change_update", "AFTER UPDATE ON contentGrant", "new.itemId"),
        ("contentGrant_change_delete", "AFTER DELETE ON contentGrant", "old.itemId"),
        ("contentTag_change_insert", "AFTER INSERT ON contentTag", "new.itemId"),
        ("contentTag_change_delete", "AFTER DELETE ON contentTag", "old.itemId"),
        // Comments change no search fact, but they are part of the item's record that search
        // pages show (its comment count), which is kept by catalog stamp (`StampedCache`).
        ("comment_change_insert", "AFTER INSERT ON comment", "new.itemId"),
        ("comment_change_delete", "AFTER DELETE ON comment", "old.itemId"),
    ]

    /// Creates the change triggers that are missing (an index made before some of them).
    static func createChangeTriggers(_ db: Database) throws {
        for trigger in changeTriggers {
            try db.execute(
                sql: "CREATE TRIGGER IF NOT EXISTS \(trigger.name) \(trigger.event) BEGIN INSERT INTO searchChange (itemId) VALUES (\(trigger.item)); END")
        }
    }

    /// The trigger that drops a deleted blob's body rows (and their pairs, once `bodyPairs`
    /// exists: see `PairIndex`), replacing any earlier one.
    static func createBlobDeleteTrigger(pairs: Bool, in db: Database) throws {
        let first = "((SELECT number FROM blobText WHERE blobId = old.id) << \(pageBits))"
        let last = "(\(first) + \(maximumPages - 1))"
        try db.execute(sql: """
            DROP TRIGGER IF EXISTS blob_index_delete;
            CREATE TRIGGER blob_index_delete AFTER DELETE ON blob BEGIN
                \(pairs ? PairIndex.deleteSQL(from: first, to: last) + ";" : "")
                DELETE FROM bodyText WHERE rowid BETWEEN \(first) AND \(last);
                DELETE FROM blobText WHERE blobId = old.id;
            END;
            """)
    }

    private static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE blobText (
                number INTEGER PRIMARY KEY AUTOINCREMENT,
                blobId TEXT NOT NULL UNIQUE,
                paged INTEGER NOT NULL DEFAULT 0,
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
            );
            CREATE TABLE itemRow (
                id INTEGER PRIMARY KEY,
                itemId TEXT NOT NULL UNIQUE
            );
            CREATE TABLE searchChange (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                itemId TEXT NOT NULL
            );
            CREATE VIRTUAL TABLE bodyText USING fts5(title, body, \(tokenizer));
            INSERT INTO bodyText (bodyText, rank) VALUES ('rank', '\(rankSetting(bodyRankWeights))');
            """)
        try createBlobDeleteTrigger(pairs: false, in: db)
        try createChangeTriggers(db)
        // Items that exist already get their rows now.
        try db.execute(sql: "INSERT INTO itemRow (itemId) SELECT id FROM contentItem")
        try createItemText(db)
    }

    /// The triggers that keep `itemText` in step with the items.
    static let itemTextTriggers = [
        "contentItem_index_insert", "contentItem_index_update", "contentItem_index_delete", "contentTag_index_insert",
        "contentTag_index_delete",
    ]

    /// `itemText`, its triggers, and a row for every item in `itemRow`. A Sakai doc's page
    /// text (`DocumentTextFunction`) is its fourth column.
    private static func createItemText(_ db: Database) throws {
        try db.execute(sql: """
            CREATE VIRTUAL TABLE itemText USING fts5(name, description, tags, pages, \(tokenizer));
            INSERT INTO itemText (itemText, rank) VALUES ('rank', '\(rankSetting(itemRankWeights))');
            CREATE TRIGGER contentItem_index_insert AFTER INSERT ON contentItem BEGIN
                INSERT INTO itemRow (itemId) VALUES (new.id);
                INSERT INTO itemText (rowid, name, description, tags, pages)
                VALUES ((SELECT id FROM itemRow WHERE itemId = new.id), new.name, new.description, '',
                    \(DocumentTextFunction.name)(new.properties));
            END;
            CREATE TRIGGER contentItem_index_update AFTER UPDATE OF name, description, properties ON contentItem BEGIN
                UPDATE itemText SET name = new.name, description = new.description,
                    pages = \(DocumentTextFunction.name)(new.properties)
                WHERE rowid = (SELECT id FROM itemRow WHERE itemId = new.id);
            END;
            CREATE TRIGGER contentItem_index_delete AFTER DELETE ON contentItem BEGIN
                DELETE FROM itemText WHERE rowid = (SELECT id FROM itemRow WHERE itemId = old.id);
                DELETE FROM itemRow WHERE itemId = old.id;
            END;
            CREATE TRIGGER contentTag_index_insert AFTER INSERT ON contentTag BEGIN
                UPDATE itemText SET tags = \(tagList(of: "new.itemId"))
                WHERE rowid = (SELECT id FROM itemRow WHERE itemId = new.itemId);
            END;
            CREATE TRIGGER contentTag_index_delete AFTER DELETE ON contentTag BEGIN
                UPDATE itemText SET tags = \(tagList(of: "old.itemId"))
                WHERE rowid = (SELECT id FROM itemRow WHERE itemId = old.itemId);
            END;
            INSERT INTO itemText (rowid, name, description, tags, pages)
            SELECT r.id, i.name, i.description, \(tagList(of: "i.id")), \(DocumentTextFunction.name)(i.properties)
            FROM itemRow r JOIN contentItem i ON i.id = r.itemId;
            """)
    }

    /// Rebuilds `itemText` (one row per item: quick) when it predates its `pages` column,
    /// keeping the body index and the item keys.
    private static func upgradeItemText(_ db: Database) throws {
        let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('itemText')")
        guard !columns.contains("pages") else { return }
        for trigger in itemTextTriggers { try db.execute(sql: "DROP TRIGGER IF EXISTS \(trigger)") }
        try db.execute(sql: "DROP TABLE itemText")
        try createItemText(db)
    }
}
