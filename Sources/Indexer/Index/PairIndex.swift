import Foundation
import GRDB
import Synchronization

/// An index of adjacent pairs of common words (`bodyPairs`), so that a phrase of two common
/// words is one list lookup instead of a walk through both words' positions.
///
/// FTS5 checks a phrase by reading every position of its words in every row that holds them
/// all. For two words each on three pages in four (the commonest words of any language) at
/// 100,000 pages, that is millions of positions, about 60 ms of CPU. `bodyPairs` holds, per
/// body row, the pairs of adjacent words that are both in a list of common words (see
/// `PairTokenizer`), so the rows with the phrase `"of the"` are the rows holding the token
/// `of the`, exactly. It keeps no positions and no text of its own: it reads `bodyText` as
/// its content (to rebuild itself or delete a row), and only pairs of common words go in, a
/// small fraction of the body's tokens. (Its content is `bodyText`'s own content table, as
/// FTS5 cannot read another FTS5 table as its content; hence its columns' names.)
///
/// The common words are chosen from the body index itself once it has `minimumPages` pages:
/// every word found on at least `minimumShare` of them, up to `maximumWords`, the most
/// widespread first. Until then phrases are matched by FTS5 alone, which at that size is
/// fast anyway. The list is fixed from then on (it is part of the table's declaration, so
/// every connection tokenizes alike); a rebuilt index chooses again.
///
/// A search uses the pairs for a query that is a single phrase of two common words (the
/// others read `bodyText` as before); ranking and snippets then read `bodyText` for the
/// pages they need only.
enum PairIndex {
    static let table = "bodyPairs"
    static let minimumShare = 0.1
    static let maximumWords = 100

    /// The base tokenizer of the pairs: the body's own.
    static let baseTokenizer = ["porter", "unicode61", "remove_diacritics", "2"]

    /// The common words, or `nil` while they are not chosen yet (an empty list when the body
    /// had none).
    static func words(in db: Database) throws -> [String]? {
        try storedList(in: db).map { $0.split(separator: " ").map(String.init) }
    }

    /// The common words as stored: one string, space-separated.
    private static func storedList(in db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM indexSetting WHERE key = 'pairWords'"))
    }

    /// Whether body rows go into `bodyPairs` too.
    static func exists(in db: Database) throws -> Bool {
        try db.tableExists(table)
    }

    /// Chooses the common words and builds `bodyPairs` from the body rows there are, when the
    /// body has `minimumPages` pages and no choice was made yet. Returns whether it did.
    @discardableResult
    static func createIfDue(minimumPages: Int, in db: Database) throws -> Bool {
        guard try words(in: db) == nil else { return false }
        let pages = try Int.fetchOne(db, sql: "SELECT count(*) FROM bodyText_docsize") ?? 0
        guard pages >= minimumPages, pages > 0 else { return false }
        try db.execute(sql: "CREATE VIRTUAL TABLE temp.bodyVocabulary USING fts5vocab(main, 'bodyText', 'row')")
        let chosen = try String.fetchAll(
            db, sql: "SELECT term FROM temp.bodyVocabulary WHERE doc >= ? ORDER BY doc DESC, term LIMIT ?",
            arguments: [max(1, Int((Double(pages) * minimumShare).rounded(.up))), maximumWords])
        try db.execute(sql: "DROP TABLE temp.bodyVocabulary")
        // Stems of `unicode61` never hold spaces or quotes, so the list quotes safely.
        let words = chosen.filter { !$0.contains(" ") && !$0.contains("\"") && !$0.contains("'") }
        try db.execute(
            sql: "INSERT INTO indexSetting (key, value) VALUES ('pairWords', ?)", arguments: [words.joined(separator: " ")])
        guard !words.isEmpty else { return true }
        // The list is one argument, quoted (FTS5 reads only single quotes there, doubled in SQL).
        let tokenizer = ([PairTokenizer.name, "''" + words.joined(separator: " ") + "''"] + baseTokenizer).joined(separator: " ")
        try db.execute(sql: """
            CREATE VIRTUAL TABLE \(table) USING fts5(
                c0, c1, content = 'bodyText_content', content_rowid = 'id', detail = none, columnsize = 0,
                tokenize = '\(tokenizer)');
            INSERT INTO \(table) (\(table)) VALUES ('rebuild');
            """)
        try SearchIndexSchema.createBlobDeleteTrigger(pairs: true, in: db)
        return true
    }

    /// Adds body rows, as they were just inserted into `bodyText`.
    static func insert(row: Int64, title: String?, body: String?, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO \(table) (rowid, c0, c1) VALUES (?, ?, ?)")
            .execute(arguments: [row, title, body])
    }

    /// Removes the body rows in a rowid range, before they leave `bodyText` (their text is
    /// needed to find their pairs).
    static func deleteSQL(from first: String, to last: String) -> String {
        """
        INSERT INTO \(table) (\(table), rowid, c0, c1)
        SELECT 'delete', id, c0, c1 FROM bodyText_content WHERE id BETWEEN \(first) AND \(last)
        """
    }

    /// The common words as a set, parsed once per stored list.
    private static let parsed = Mutex<(list: String, set: Set<Substring>)>(("", []))

    /// Whether `expression` (from `QueryParser`) can be matched in `bodyPairs`: a single
    /// quoted phrase that the body's tokenizer turns into two words, both common.
    static func covers(_ expression: String, in db: Database) throws -> Bool {
        let inner = expression.utf8.dropFirst().dropLast()
        // Quick refusals first: this runs for every query.
        guard expression.utf8.count > 4, expression.utf8.first == UInt8(ascii: "\""), expression.utf8.last == UInt8(ascii: "\""),
            !inner.contains(UInt8(ascii: "\"")), inner.contains(where: { !(0x30...0x39).contains($0) && !(0x61...0x7a).contains($0) })
        else { return false }
        guard let list = try storedList(in: db), !list.isEmpty else { return false }
        let common = parsed.withLock { parsed in
            if parsed.list != list { parsed = (list, Set(list.split(separator: " "))) }
            return parsed.set
        }
        let tokens = try baseTokens(of: String(expression.dropFirst().dropLast()), in: db)
        return tokens.count == 2 && tokens.allSatisfy { common.contains(Substring($0)) }
    }

    /// The tokens the body's tokenizer makes of `text`, as a query.
    static func baseTokens(of text: String, in db: Database) throws -> [String] {
        let tokenizer = try db.makeTokenizer(FTS5TokenizerDescriptor(components: baseTokenizer))
        return try tokenizer.tokenize(query: text).map(\.token)
    }
}
