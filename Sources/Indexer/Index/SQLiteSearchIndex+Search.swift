import Foundation
import GRDB
import GRDBSQLite
import Repository
import Synchronization

extension SQLiteSearchIndex {
    /// Rows ranked by BM25 per query: the most recently indexed matching rows of readable
    /// items, up to this many, and never more than `maximumRankedRange` matching rows scanned
    /// for them. See `search(_:)`.
    static let rankedRows = 2_000
    static let maximumRankedRange = 20_000

    /// Finds the items the viewer may read, in the order asked for, with the exact total and
    /// the tag counts of everything found.
    ///
    /// The full-text tables are asked only for the ids of matching rows (FTS5 drives; no
    /// table is scanned). Each hit is mapped to its items (an item row directly, a body row
    /// through its blob: the rowid says which) and filtered by visibility, grants, library
    /// scope, tags and media type in the `SearchCatalog`, which is caught up with the database
    /// first, in the same read transaction. Results, total, facets and snippets therefore only
    /// ever concern readable items, and a change of sharing shows in the next query.
    ///
    /// Ranking: BM25 is computed for the matching rows of readable items, newest first, up
    /// to `rankedRows` of them (and scanning at most `maximumRankedRange` matching rows). A
    /// query with fewer matches, which is nearly every query, is ranked exactly; for a term in
    /// most documents (where BM25's inverse document frequency is near zero anyway) the best
    /// of the most recent matches come first, then the rest, newest first. The total, the
    /// facets and the other sort orders are always exact.
    package func search(_ request: SearchRequest) async throws -> SearchResults {
        if request.query == .empty { return SearchResults(total: 0, hits: []) }
        let catalog = catalog
        let recordCache = recordCache
        let helper = ScanHelper(database: database, gate: readGate)
        return try await database.longRead(through: readGate) { db in
            let snapshot = try catalog.snapshot(in: db)
            var found = try Self.find(request, snapshot: snapshot, helper: helper, in: db)
            var facets: [TagCount] = []
            if request.facetLimit > 0 {
                facets = snapshot.tagCounts(of: found.keys).map { TagCount(tag: $0.key, count: $0.value) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.tag < $1.tag }
                    .prefix(request.facetLimit).map { $0 }
            }
            if case .match(let expression, _) = request.query, request.sort == .relevance {
                try Self.rank(&found, expression: expression, helper: helper, in: db)
            }
            let ordered = Self.order(found, snapshot: snapshot, request: request)
            let offset = min(max(0, request.offset), ordered.count)
            let page = Array(ordered[offset..<min(ordered.count, offset + max(0, min(request.limit, 1000)))])
            let pages = found.pages(of: page, snapshot: snapshot)
            var snippets: [Int: String] = [:]
            if case .match(let expression, _) = request.query {
                snippets = try Self.snippets(of: page, found: found, expression: expression, helper: helper, in: db)
            }
            var hits = page.map { slot in
                let score = found.score[slot]
                let entry = snapshot.entries[found.keys[slot]]!
                return SearchHit(
                    itemID: entry.id, score: score.isFinite ? score : 0, snippet: snippets[slot],
                    pages: pages[slot, default: []].sorted(), stamp: entry.stamp)
            }
            var records: [String: ItemRecord] = [:]
            if request.withRecords {
                try Self.records(of: &hits, into: &records, cache: recordCache, snapshot: snapshot, in: db)
            }
            return SearchResults(total: found.keys.count, hits: hits, facets: facets, records: records)
        }
    }

    /// The records of a page's items: kept ones whose stamp is unchanged, the others read.
    /// A record read here is as of this transaction, which may be older than the catalog
    /// (another query may have caught it up further): it is kept, and its hit keeps its
    /// stamp, only when the two agree.
    static func records(
        of hits: inout [SearchHit], into records: inout [String: ItemRecord], cache: StampedCache<ItemRecord>,
        snapshot: SearchCatalog.Snapshot, in db: Database
    ) throws {
        var missing: [String] = []
        for hit in hits {
            if let stamp = hit.stamp, let record = cache.value(hit.itemID, at: stamp) {
                records[hit.itemID] = record
            } else {
                missing.append(hit.itemID)
            }
        }
        guard !missing.isEmpty else { return }
        let read = try SQLiteMetadataStore.fetchItemRecords(ids: missing, in: db)
        records.merge(read) { kept, _ in kept }
        for index in hits.indices where read[hits[index].itemID] != nil {
            if snapshot.readerSeq == snapshot.changeSeq, let stamp = hits[index].stamp {
                cache.store(read[hits[index].itemID]!, for: hits[index].itemID, at: stamp)
            } else {
                hits[index].stamp = nil
            }
        }
    }

    /// Snippets are cut from the body rows of a page in one pass over the matching rows
    /// between the page's lowest and highest row, when there are at most this many of them;
    /// beyond that, each row is looked up on its own. (A lookup costs about as much as
    /// stepping over a thousand matching rows.)
    static let snippetScanLimit = 1_000

    /// The best snippet of each slot of a page: from its best-scoring row, else its newest
    /// matching body row, else its item's own fields.
    static func snippets(
        of page: [Int], found: Found, expression: String, helper: ScanHelper? = nil, in db: Database
    ) throws -> [Int: String] {
        var snippets: [Int: String] = [:]
        var bodyRows: [Int64: [Int]] = [:]
        for slot in page {
            let best = found.bestRow[slot]
            let row = best >= 0 ? best : found.newestRow[slot]
            if row >= 0 && (best < 0 || found.bestIsBody[slot]) {
                bodyRows[row, default: []].append(slot)
            } else {
                snippets[slot] = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT \(snippet("itemText")) FROM itemText WHERE itemText MATCH ? AND rowid = ?"),
                    arguments: [expression, Int64(found.keys[slot])])
            }
        }
        // From 16 rows up, in two halves: snippets are most of a small query's work.
        let matchRows = found.matchRows
        var texts: [Int64: String] = [:]
        for part in try inHalves(bodyRows.keys.sorted(), from: 16, helper: helper, in: db, { rows, db in
            try bodySnippets(of: rows, matchRows: matchRows, expression: expression, in: db)
        }) {
            texts.merge(part) { first, _ in first }
        }
        for (row, slots) in bodyRows {
            for slot in slots { snippets[slot] = texts[row] }
        }
        return snippets
    }

    /// Snippets of some matching body rows (ascending): cut in one pass over the matching
    /// rows between the lowest and the highest when there are few enough of them, else
    /// looked up one by one.
    static func bodySnippets(of rows: [Int64], matchRows: [Int64], expression: String, in db: Database) throws -> [Int64: String] {
        guard let lowest = rows.first, let highest = rows.last else { return [:] }
        var snippets: [Int64: String] = [:]
        let between = matchRows.firstIndex(after: highest) - matchRows.firstIndex(after: lowest - 1)
        if between <= snippetScanLimit {
            let list = "[" + rows.map { String($0) }.joined(separator: ",") + "]"
            let cursor = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT rowid, CASE WHEN rowid IN (SELECT value FROM json_each(?)) THEN \(snippet("bodyText")) END
                    FROM bodyText WHERE bodyText MATCH ? AND rowid BETWEEN ? AND ?
                    """),
                arguments: [list, expression, lowest, highest])
            while let row = try cursor.next() {
                if let snippet: String = row[1] { snippets[row[0]] = snippet }
            }
        } else {
            for row in rows {
                snippets[row] = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT \(snippet("bodyText")) FROM bodyText WHERE bodyText MATCH ? AND rowid = ?"),
                    arguments: [expression, row])
            }
        }
        return snippets
    }

    /// The snippet of `table`'s best column (see `SnippetFunction`): up to 24 tokens, matches
    /// between STX and ETX (`SearchHit.snippetHTML` turns them into markup).
    private static func snippet(_ table: String) -> String {
        "\(SnippetFunction.name)(\(table), char(2), char(3), '…', 24)"
    }

    /// Which of `ids` the viewer may read, from the catalog (caught up first).
    package func readableItems(_ ids: Set<String>, viewer: Viewer) async throws -> Set<String> {
        let catalog = catalog
        // A long read: the catalog may have to load first.
        return try await database.longRead(through: readGate) { db in
            let snapshot = try catalog.snapshot(in: db)
            let bits = snapshot.principalSet(viewer.principalIDs)
            let opens = SearchCatalog.Snapshot.Opens(viewer.rule)
            return ids.filter { id in snapshot.keys[id].map { snapshot.readable($0, by: viewer, opens: opens, bits: bits) } ?? false }
        }
    }

    /// Gets searches ready before the first one arrives: loads the catalog and, on every
    /// reader connection at once, registers the search functions and runs a small
    /// query through both full-text tables (a connection's first search otherwise pays for
    /// all of that). Readers busy at the time are left as they are.
    package func warmUp() async throws {
        let catalog = catalog
        _ = try await database.longRead(through: readGate) { db in try catalog.snapshot(in: db) }
        // Only readers free right now: searches that arrive meanwhile keep the others.
        var readers = 0
        while readers < database.configuration.maximumReaderCount, readGate.tryEnter() { readers += 1 }
        let gate = readGate
        defer { for _ in 0..<readers { gate.leave() } }
        let database = database
        let arrived = DispatchGroup()
        let finished = DispatchGroup()
        for _ in 0..<readers {
            arrived.enter()
            finished.enter()
            // A thread each: they wait for one another, which would stall a queue's few workers.
            Thread.detachNewThread {
                var hasArrived = false
                func arrive() {
                    if !hasArrived {
                        hasArrived = true
                        arrived.leave()
                    }
                }
                defer {
                    arrive()
                    finished.leave()
                }
                _ = try? database.read { db in
                    for table in ["itemText", "bodyText"] {
                        _ = try Row.fetchAll(
                            db.cachedStatement(
                                sql: "SELECT rowid, \(RankFunction.name)(\(table), NULL), \(Self.snippet(table)) FROM \(table) WHERE \(table) MATCH ? LIMIT 1"),
                            arguments: ["a*"])
                    }
                    // Holding this connection until the others have theirs spreads the work
                    // over every reader.
                    arrive()
                    _ = arrived.wait(timeout: .now() + 1)
                }
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            finished.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// The queries that find matching rows: FTS5 alone, with no join or filter that could
    /// turn the full-text tables into per-row lookups.
    static let matchStatements = [
        "SELECT rowid FROM itemText WHERE itemText MATCH ?",
        "SELECT rowid FROM bodyText WHERE bodyText MATCH ?",
    ]

    /// The rowids a one-column statement returns. This is the hot loop of a search (a hundred
    /// thousand rows for a common word), so it steps SQLite directly rather than through a
    /// cursor of values.
    static func rowIDs(_ sql: String, _ expression: String, in db: Database) throws -> [Int64] {
        try rowIDs(sql, [expression], in: db)
    }

    static func rowIDs(_ sql: String, _ arguments: StatementArguments, in db: Database) throws -> [Int64] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        var rows: [Int64] = []
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: rows.append(sqlite3_column_int64(handle, 0))
            case SQLITE_DONE: sqlite3_reset(handle); return rows
            default:
                let code = sqlite3_reset(handle)
                throw error(code, sql, db)
            }
        }
    }

    /// After this many matching body rows, a scan hands the far part of what is left to a
    /// second reader (see `bodyRowIDs`).
    static let rowsBeforeSplit = 4_096

    /// A second reader connection for half of a query's work, when one is free: the far
    /// half of a long scan (a search for a common word or phrase), or half of a page's
    /// snippets. A query then uses two cores.
    struct ScanHelper: Sendable {
        let database: DatabasePool
        let gate: ReadGate

        /// Starts `sql` (one rowid column) on another reader, or returns `nil` when every
        /// reader is busy. The result waits for it.
        func start(_ sql: String, _ arguments: StatementArguments) -> (@Sendable (Database) throws -> [Int64])? {
            start { db in try SQLiteSearchIndex.rowIDs(sql, arguments, in: db) }
        }

        /// Starts `work` in a read on another reader, or returns `nil` when every reader is
        /// busy. The result waits for it, unless the work has not started by then (the
        /// machine's other cores are busy): then the caller does it itself, in its own read.
        func start<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) -> (@Sendable (Database) throws -> T)? {
            guard gate.tryEnter() else { return nil }
            /// nil: not started; false: taken by the helper; true: taken back by the caller.
            let claim = Mutex<Bool?>(nil)
            let result = Mutex<Result<T, any Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global(qos: .userInitiated).async { [database, gate] in
                defer { gate.leave() }
                let mine = claim.withLock { state -> Bool in
                    guard state == nil else { return false }
                    state = false
                    return true
                }
                guard mine else { return }
                let value = Result { try database.read(work) }
                result.withLock { $0 = value }
                done.signal()
            }
            return { db in
                let takenBack = claim.withLock { state -> Bool in
                    guard state == nil else { return false }
                    state = true
                    return true
                }
                if takenBack { return try work(db) }
                done.wait()
                return try result.withLock { $0! }.get()
            }
        }
    }

    /// `work` over `rows` (ascending), in two halves when there are at least `minimum` of them
    /// and the helper has a reader free: the upper half there, the lower one here, at once.
    /// Returns the parts' results, lowest rows first.
    static func inHalves<T: Sendable>(
        _ rows: [Int64], from minimum: Int, helper: ScanHelper?, in db: Database,
        _ work: @escaping @Sendable ([Int64], Database) throws -> T
    ) throws -> [T] {
        if rows.count >= minimum, let helper {
            let upperHalf = Array(rows[(rows.count / 2)...])
            if let upper = helper.start({ db in try work(upperHalf, db) }) {
                let lower = try work(Array(rows[..<(rows.count / 2)]), db)
                return [lower, try upper(db)]
            }
        }
        return [try work(rows, db)]
    }

    /// Every body row matching `expression`, ascending; `below` bounds the rowids of the
    /// blobs the catalog knows. Once a scan has found `rowsBeforeSplit` rows, it asks the
    /// helper to scan the far part of the rowids still ahead (a little more than half) and
    /// stops itself there. Matches of common words are spread evenly over the rowids, so the
    /// two parts take about as long. The helper reads in its own transaction; rows of blobs indexed since
    /// the catalog's snapshot are ignored by the caller, as they would be anyway.
    static func bodyRowIDs(
        _ expression: String, below limit: Int64, helper: ScanHelper?, splitAfter: Int = rowsBeforeSplit, in db: Database
    ) throws -> (rows: [Int64], split: Bool) {
        let scan = try startBodyScan(expression, below: limit, helper: helper, splitAfter: splitAfter, in: db)
        guard let far = scan.far else { return (scan.near, false) }
        return (scan.near + (try far(db)), true)
    }

    /// `bodyRowIDs` in two parts: the rows this connection found, and the far half's rows
    /// still to come from the helper (to be asked for with this connection), so that the
    /// caller can work on the first part meanwhile.
    ///
    /// With `pairs`, the rows come from `bodyPairs` (the expression is a phrase of two common
    /// words: see `PairIndex`), the same rows at a fraction of the cost.
    static func startBodyScan(
        _ expression: String, pairs: Bool = false, below limit: Int64, helper: ScanHelper?, splitAfter: Int = rowsBeforeSplit,
        in db: Database
    ) throws -> (near: [Int64], far: (@Sendable (Database) throws -> [Int64])?) {
        let sql = pairs ? "SELECT rowid FROM \(PairIndex.table) WHERE \(PairIndex.table) MATCH ?" : matchStatements[1]
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments([expression])
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var rows: [Int64] = []
        var stop = Int64.max
        var far: (@Sendable (Database) throws -> [Int64])?
        while true {
            let code = sqlite3_step(handle)
            guard code == SQLITE_ROW else {
                guard code == SQLITE_DONE else { throw Self.error(code, sql, db) }
                break
            }
            let row = sqlite3_column_int64(handle, 0)
            if row >= stop { break }
            rows.append(row)
            if rows.count == splitAfter, let helper, limit - row > 2 {
                // A little past the middle: this thread also goes through its rows while the
                // helper is still scanning (about an eighth of a scan's cost).
                let middle = row + (limit - row) * 15 / 32
                if let started = helper.start("\(sql) AND rowid >= ?", [expression, middle]) {
                    far = started
                    stop = middle
                }
            }
        }
        return (rows, far)
    }

    private static func error(_ code: Int32, _ sql: String, _ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
    }

    /// The items found. `state`, indexed by item key (see `SearchCatalog`), says whether an
    /// item was looked at and, when found, where its facts are in the other arrays, which hold
    /// found items only (so a query's memory follows its hits, not the site's size).
    struct Found {
        /// 0: not looked at, -1: left out, n > 0: found, in slot n - 1.
        var state: [Int32]
        /// The keys found, by slot.
        var keys: [Int] = []
        var score: [Double] = []
        var bestRow: [Int64] = []
        var bestIsBody: [Bool] = []
        var newestRow: [Int64] = []
        /// Body rows of found items, ascending as FTS5 returns them, with their item's slot.
        var bodyHits: [(row: Int64, slot: Int)] = []
        /// Every matching body row, readable or not, ascending.
        var matchRows: [Int64] = []
        /// How many item rows match, readable or not.
        var itemMatchCount = 0

        init(count: Int) {
            state = Array(repeating: 0, count: count)
        }

        /// The slot of a found item, or `nil`.
        func slot(_ key: Int) -> Int? {
            key >= 0 && key < state.count && state[key] > 0 ? Int(state[key]) - 1 : nil
        }

        mutating func add(_ key: Int) {
            keys.append(key)
            score.append(.infinity)
            bestRow.append(-1)
            bestIsBody.append(false)
            newestRow.append(-1)
            state[key] = Int32(keys.count)
        }

        /// The matched page numbers of some found items, by slot (of paged blobs only).
        func pages(of slots: [Int], snapshot: SearchCatalog.Snapshot) -> [Int: Set<Int>] {
            var wanted = Array(repeating: false, count: keys.count)
            for slot in slots { wanted[slot] = true }
            var pages: [Int: Set<Int>] = [:]
            for hit in bodyHits where wanted[hit.slot] {
                guard snapshot.blob(Int(hit.row >> SearchIndexSchema.pageBits))?.paged == true else { continue }
                pages[hit.slot, default: []].insert(Int(hit.row & Int64(SearchIndexSchema.maximumPages - 1)) + 1)
            }
            return pages
        }
    }

    /// The readable items in scope that match.
    static func find(_ request: SearchRequest, snapshot: SearchCatalog.Snapshot, helper: ScanHelper? = nil, in db: Database) throws -> Found {
        let viewer = request.viewer
        let tags = Set(request.tags)
        let mimePrefix = request.mimeType.flatMap { $0.hasSuffix("*") ? String($0.dropLast()) : nil }
        /// Whether an item passes the request's scope, tags and media type.
        func passesFilters(_ entry: SearchCatalog.Entry) -> Bool {
            if let scope = request.scope,
                !entry.grants.contains(where: { scope.roles.contains($0.role) && scope.principalIDs.contains($0.principalID) })
            {
                return false
            }
            if !tags.isEmpty, !tags.isSubset(of: entry.tags) { return false }
            if let mimeType = request.mimeType {
                if let mimePrefix { if !entry.mimeType.hasPrefix(mimePrefix) { return false } } else if entry.mimeType != mimeType { return false }
            }
            return true
        }
        var found = Found(count: snapshot.entries.count)
        let filtered = request.scope != nil || !tags.isEmpty || request.mimeType != nil
        let viewerBits = snapshot.principalSet(viewer.principalIDs)
        let opens = SearchCatalog.Snapshot.Opens(viewer.rule)
        /// Decides an item on first sight: readable (the catalog's one rule), then, when the
        /// request filters, by its entry.
        func decide(_ key: Int, _ found: inout Found) {
            if snapshot.readable(key, by: viewer, opens: opens, bits: viewerBits) && (!filtered || passesFilters(snapshot.entries[key]!)) {
                found.add(key)
            } else {
                found.state[key] = -1
            }
        }
        let count = found.state.count
        switch request.query {
        case .empty:
            break
        case .all:
            for key in 0..<count { decide(key, &found) }
        case .match(let expression, let exclusion):
            if let exclusion {
                // Excluded items are left out before anything is found.
                for key in try rowIDs(matchStatements[0], exclusion, in: db) where key >= 0 && key < count { found.state[Int(key)] = -1 }
                for row in try rowIDs(matchStatements[1], exclusion, in: db) {
                    for key in snapshot.blob(Int(row >> SearchIndexSchema.pageBits))?.items ?? [] { found.state[key] = -1 }
                }
            }
            let itemRows = try rowIDs(matchStatements[0], expression, in: db)
            found.itemMatchCount = itemRows.count
            for key in itemRows where key >= 0 && key < count {
                if found.state[Int(key)] == 0 { decide(Int(key), &found) }
            }
            let scan = try startBodyScan(
                expression, pairs: try PairIndex.covers(expression, in: db),
                below: Int64(snapshot.blobs.count) << SearchIndexSchema.pageBits, helper: helper, in: db)
            /// Notes a body row's hit on an item, deciding the item on first sight.
            func hit(_ key: Int, _ row: Int64, _ found: inout Found) {
                if found.state[key] == 0 { decide(key, &found) }
                let state = found.state[key]
                if state > 0 {
                    found.bodyHits.append((row, Int(state) - 1))
                    found.newestRow[Int(state) - 1] = row
                }
            }
            func hits(_ rows: [Int64], _ found: inout Found) {
                snapshot.blobItem.withUnsafeBufferPointer { blobItem in
                    for row in rows {
                        let number = Int(row >> SearchIndexSchema.pageBits)
                        guard number < blobItem.count else { continue }
                        let item = blobItem[number]
                        if item >= 0 {
                            hit(Int(item), row, &found)
                        } else if item == -2 {
                            for key in snapshot.blobs[number]!.items { hit(key, row, &found) }
                        }
                    }
                }
            }
            // The near rows are gone through while the helper may still be scanning the far ones.
            hits(scan.near, &found)
            found.matchRows = scan.near
            if let far = scan.far {
                let more = try far(db)
                hits(more, &found)
                found.matchRows += more
            }
        }
        return found
    }

    /// Column weights as SQL arguments.
    private static func weights(_ weights: [Double]) -> String {
        weights.map { String($0) }.joined(separator: ", ")
    }

    /// Scores found items by BM25 (lower is better): every matching item row, and the newest
    /// body rows of found items (see `rankedRows`).
    static func rank(_ found: inout Found, expression: String, helper: ScanHelper? = nil, in db: Database) throws {
        if found.keys.isEmpty { return }
        if found.itemMatchCount > 0 {
            let itemRanks = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT rowid, \(RankFunction.name)(itemText, ?, \(weights(SearchIndexSchema.itemRankWeights))) FROM itemText WHERE itemText MATCH ?"),
                arguments: [found.itemMatchCount, expression])
            while let row = try itemRanks.next() {
                let key = Int(row[0] as Int64)
                guard let slot = found.slot(key) else { continue }
                let score: Double = row[1]
                if score < found.score[slot] {
                    found.score[slot] = score
                    found.bestRow[slot] = Int64(key)
                    found.bestIsBody[slot] = false
                }
            }
        }
        guard !found.bodyHits.isEmpty else { return }
        // The lowest rowid worth ranking: the `rankedRows`-th newest row of a found item
        // (rows come in ascending order), but never more than `maximumRankedRange` matching
        // rows to scan for them.
        var lowest = found.bodyHits[max(0, found.bodyHits.count - rankedRows)].row
        if found.matchRows.count > maximumRankedRange {
            lowest = max(lowest, found.matchRows[found.matchRows.count - maximumRankedRange])
        }
        var owners: [Int64: [Int]] = [:]
        for hit in found.bodyHits.reversed() {
            if hit.row < lowest { break }
            owners[hit.row, default: []].append(hit.slot)
        }
        // The rows to score, in two halves when there are many.
        let count = found.matchRows.count
        let scores = try inHalves(owners.keys.sorted(), from: 256, helper: helper, in: db) { rows, db in
            try bodyScores(of: rows, matchCount: count, expression: expression, in: db)
        }.joined()
        for (id, score) in scores {
            for slot in owners[id] ?? [] where score < found.score[slot] {
                found.score[slot] = score
                found.bestRow[slot] = id
                found.bestIsBody[slot] = true
            }
        }
    }

    /// BM25 scores of some matching body rows (ascending), from one pass over the matching
    /// rows between the first and the last. (The `+` keeps SQLite from turning the list into
    /// one full-text lookup per row instead of the range.)
    static func bodyScores(of rows: [Int64], matchCount: Int, expression: String, in db: Database) throws -> [(Int64, Double)] {
        guard let first = rows.first, let last = rows.last else { return [] }
        let list = "[" + rows.map { String($0) }.joined(separator: ",") + "]"
        let cursor = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                SELECT rowid, \(RankFunction.name)(bodyText, ?, \(weights(SearchIndexSchema.bodyRankWeights))) FROM bodyText
                WHERE bodyText MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN (SELECT value FROM json_each(?))
                """),
            arguments: [matchCount, expression, first, last, list])
        var scores: [(Int64, Double)] = []
        scores.reserveCapacity(rows.count)
        while let row = try cursor.next() { scores.append((row[0], row[1])) }
        return scores
    }

    /// The found items' slots in the order asked for, as far as the page asked for; ties (and
    /// unscored items) go newest first, then by slot, so pages never overlap.
    static func order(_ found: Found, snapshot: SearchCatalog.Snapshot, request: SearchRequest) -> [Int] {
        struct Sortable {
            /// The slot (named `key` for the comparisons' sake).
            var key: Int
            var score: Double
            var modified: Int64
            var created: Int64
        }
        let items = found.keys.indices.map { slot in
            let key = found.keys[slot]
            return Sortable(key: slot, score: found.score[slot], modified: snapshot.lastModified[key], created: snapshot.created[key])
        }
        func newer(_ a: Sortable, _ b: Sortable) -> Bool {
            a.modified != b.modified ? a.modified > b.modified : a.key > b.key
        }
        let ascending = request.ascending
        let needed = max(0, request.offset) + max(0, min(request.limit, 1000))
        let ordered: [Sortable]
        switch request.sort {
        case .relevance:
            if case .match = request.query {
                ordered = firsts(needed, of: items) { $0.score != $1.score ? $0.score < $1.score : newer($0, $1) }
            } else {
                ordered = firsts(needed, of: items, by: newer)
            }
        case .lastModified:
            ordered = firsts(needed, of: items) {
                $0.modified != $1.modified ? (ascending ? $0.modified < $1.modified : $0.modified > $1.modified) : $0.key < $1.key
            }
        case .created:
            ordered = firsts(needed, of: items) {
                $0.created != $1.created ? (ascending ? $0.created < $1.created : $0.created > $1.created) : $0.key < $1.key
            }
        case .name:
            let names = found.keys.map { snapshot.entries[$0]!.name }
            ordered = firsts(needed, of: items) { a, b in
                let order = names[a.key].localizedStandardCompare(names[b.key])
                if order != .orderedSame { return ascending ? order == .orderedAscending : order == .orderedDescending }
                return a.key < b.key
            }
        }
        return ordered.map(\.key)
    }

    /// The first `count` elements in `precedes` order (all of them, sorted, when `count` is
    /// not much smaller): a bounded heap instead of sorting a hundred thousand results to show
    /// twenty-five.
    static func firsts<T>(_ count: Int, of items: [T], by precedes: (T, T) -> Bool) -> [T] {
        guard count > 0 else { return [] }
        if count * 8 >= items.count { return Array(items.sorted(by: precedes).prefix(count)) }
        // A max-heap (by `precedes`) of the best `count` so far: its root is the worst of them.
        var heap: [T] = []
        heap.reserveCapacity(count)
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1, right = left + 1
                var worst = parent
                if left < heap.count, precedes(heap[worst], heap[left]) { worst = left }
                if right < heap.count, precedes(heap[worst], heap[right]) { worst = right }
                if worst == parent { return }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
        for item in items {
            if heap.count < count {
                heap.append(item)
                var child = heap.count - 1
                while child > 0, precedes(heap[(child - 1) / 2], heap[child]) {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if precedes(item, heap[0]) {
                heap[0] = item
                siftDown(0)
            }
        }
        return heap.sorted(by: precedes)
    }
}

extension [Int64] {
    /// In an ascending array, the index of the first element greater than `value`.
    func firstIndex(after value: Int64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
