import Foundation
import GRDB
import Repository

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
        return try await database.longRead(through: readGate) { db in
            let snapshot = try catalog.snapshot(in: db)
            var found = try Self.find(request, snapshot: snapshot, in: db)
            var facets: [TagCount] = []
            if request.facetLimit > 0 {
                var counts: [String: Int] = [:]
                for key in found.keys { for tag in snapshot.entries[key]!.tags { counts[tag, default: 0] += 1 } }
                facets = counts.map { TagCount(tag: $0.key, count: $0.value) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.tag < $1.tag }
                    .prefix(request.facetLimit).map { $0 }
            }
            if case .match(let expression, _) = request.query, request.sort == .relevance {
                try Self.rank(&found, expression: expression, in: db)
            }
            let ordered = Self.order(found, snapshot: snapshot, request: request)
            let offset = min(max(0, request.offset), ordered.count)
            let page = Array(ordered[offset..<min(ordered.count, offset + max(0, min(request.limit, 1000)))])
            let pages = found.pages(of: page, snapshot: snapshot)
            var hits: [SearchHit] = []
            for key in page {
                var snippet: String?
                if case .match(let expression, _) = request.query {
                    let row = found.bestRow[key] >= 0 ? found.bestRow[key] : found.newestRow[key]
                    let table = found.bestRow[key] >= 0 && !found.bestIsBody[key] || row < 0 ? "itemText" : "bodyText"
                    snippet = try String.fetchOne(
                        db.cachedStatement(sql: """
                            SELECT snippet(\(table), -1, char(2), char(3), '…', 24) FROM \(table)
                            WHERE \(table) MATCH ? AND rowid = ?
                            """),
                        arguments: [expression, row < 0 ? Int64(key) : row])
                }
                let score = found.score[key]
                hits.append(SearchHit(
                    itemID: snapshot.entries[key]!.id, score: score.isFinite ? score : 0, snippet: snippet,
                    pages: pages[key, default: []].sorted()))
            }
            return SearchResults(total: found.keys.count, hits: hits, facets: facets)
        }
    }

    /// The queries that find matching rows: FTS5 alone, with no join or filter that could
    /// turn the full-text tables into per-row lookups.
    static let matchStatements = [
        "SELECT rowid FROM itemText WHERE itemText MATCH ?",
        "SELECT rowid FROM bodyText WHERE bodyText MATCH ?",
    ]

    /// The items found, in arrays indexed by item key (see `SearchCatalog`).
    struct Found {
        /// 0: not looked at, 1: left out, 2: found.
        var state: [UInt8]
        /// The keys found, in the order met.
        var keys: [Int] = []
        /// Body rows of found items, ascending as FTS5 returns them, with their item.
        var bodyHits: [(row: Int64, key: Int)] = []
        var score: [Double]
        var bestRow: [Int64]
        var bestIsBody: [Bool]
        var newestRow: [Int64]

        init(count: Int) {
            state = Array(repeating: 0, count: count)
            score = Array(repeating: .infinity, count: count)
            bestRow = Array(repeating: -1, count: count)
            bestIsBody = Array(repeating: false, count: count)
            newestRow = Array(repeating: -1, count: count)
        }

        /// The matched page numbers of some items (of paged blobs only).
        func pages(of keys: [Int], snapshot: SearchCatalog.Snapshot) -> [Int: Set<Int>] {
            let wanted = Set(keys)
            var pages: [Int: Set<Int>] = [:]
            for hit in bodyHits where wanted.contains(hit.key) {
                guard snapshot.blob(Int(hit.row >> SearchIndexSchema.pageBits))?.paged == true else { continue }
                pages[hit.key, default: []].insert(Int(hit.row & Int64(SearchIndexSchema.maximumPages - 1)) + 1)
            }
            return pages
        }
    }

    /// The readable items in scope that match.
    static func find(_ request: SearchRequest, snapshot: SearchCatalog.Snapshot, in db: Database) throws -> Found {
        let viewer = request.viewer
        let tags = Set(request.tags)
        let mimePrefix = request.mimeType.flatMap { $0.hasSuffix("*") ? String($0.dropLast()) : nil }
        func admits(_ entry: SearchCatalog.Entry) -> Bool {
            if let scope = request.scope,
                !entry.grants.contains(where: { scope.roles.contains($0.role) && scope.principalIDs.contains($0.principalID) })
            {
                return false
            }
            if !tags.isEmpty, !tags.isSubset(of: entry.tags) { return false }
            if let mimeType = request.mimeType {
                if let mimePrefix { if !entry.mimeType.hasPrefix(mimePrefix) { return false } } else if entry.mimeType != mimeType { return false }
            }
            if viewer.isAdministrator || entry.visibility == .public || (entry.visibility == .loggedIn && viewer.isLoggedIn) {
                return true
            }
            return entry.grants.contains { viewer.principalIDs.contains($0.principalID) }
        }
        var found = Found(count: snapshot.entries.count)
        /// Whether the item is found, deciding on first sight.
        func admitsKey(_ key: Int) -> Bool {
            guard key >= 0, key < found.state.count else { return false }
            if found.state[key] == 0 {
                let admitted = snapshot.entries[key].map(admits) ?? false
                found.state[key] = admitted ? 2 : 1
                if admitted { found.keys.append(key) }
            }
            return found.state[key] == 2
        }
        switch request.query {
        case .empty:
            break
        case .all:
            for key in snapshot.entries.indices { _ = admitsKey(key) }
        case .match(let expression, let exclusion):
            if let exclusion {
                // Excluded items are left out before anything is found.
                let items = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[0]), arguments: [exclusion])
                while let key = try items.next() {
                    if key < found.state.count { found.state[Int(key)] = 1 }
                }
                let bodies = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[1]), arguments: [exclusion])
                while let row = try bodies.next() {
                    for key in snapshot.blob(Int(row >> SearchIndexSchema.pageBits))?.items ?? [] { found.state[key] = 1 }
                }
            }
            let items = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[0]), arguments: [expression])
            while let key = try items.next() { _ = admitsKey(Int(key)) }
            let bodies = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[1]), arguments: [expression])
            while let row = try bodies.next() {
                guard let blob = snapshot.blob(Int(row >> SearchIndexSchema.pageBits)) else { continue }
                for key in blob.items where admitsKey(key) {
                    found.bodyHits.append((row, key))
                    found.newestRow[key] = row
                }
            }
        }
        return found
    }

    /// Scores found items by BM25 (lower is better): every matching item row, and the newest
    /// body rows of found items (see `rankedRows`).
    static func rank(_ found: inout Found, expression: String, in db: Database) throws {
        let itemRanks = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT rowid, rank FROM itemText WHERE itemText MATCH ?"), arguments: [expression])
        while let row = try itemRanks.next() {
            let key = Int(row[0] as Int64)
            guard key < found.state.count, found.state[key] == 2 else { continue }
            let score: Double = row[1]
            if score < found.score[key] {
                found.score[key] = score
                found.bestRow[key] = Int64(key)
                found.bestIsBody[key] = false
            }
        }
        guard !found.bodyHits.isEmpty else { return }
        // The lowest rowid worth ranking: the `rankedRows`-th newest row of a found item
        // (rows come in ascending order), but never more than `maximumRankedRange` matching
        // rows to scan for them.
        var lowest = found.bodyHits[max(0, found.bodyHits.count - rankedRows)].row
        let matching = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM bodyText WHERE bodyText MATCH ? AND rowid >= ?"),
            arguments: [expression, lowest]) ?? 0
        if matching > maximumRankedRange {
            lowest = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT rowid FROM bodyText WHERE bodyText MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"),
                arguments: [expression, maximumRankedRange - 1]) ?? lowest
        }
        var owners: [Int64: [Int]] = [:]
        for hit in found.bodyHits.reversed() {
            if hit.row < lowest { break }
            owners[hit.row, default: []].append(hit.key)
        }
        let bodyRanks = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT rowid, rank FROM bodyText WHERE bodyText MATCH ? AND rowid >= ?"),
            arguments: [expression, lowest])
        while let row = try bodyRanks.next() {
            let id: Int64 = row[0]
            guard let keys = owners[id] else { continue }
            let score: Double = row[1]
            for key in keys where score < found.score[key] {
                found.score[key] = score
                found.bestRow[key] = id
                found.bestIsBody[key] = true
            }
        }
    }

    /// The found items' keys in the order asked for; ties (and unscored items) go newest
    /// first, then by key, so pages never overlap.
    static func order(_ found: Found, snapshot: SearchCatalog.Snapshot, request: SearchRequest) -> [Int] {
        struct Sortable {
            var key: Int
            var score: Double
            var modified: Int64
            var created: Int64
        }
        var items = found.keys.map { key in
            let entry = snapshot.entries[key]!
            return Sortable(key: key, score: found.score[key], modified: entry.lastModifiedAt, created: entry.createdAt)
        }
        func newer(_ a: Sortable, _ b: Sortable) -> Bool {
            a.modified != b.modified ? a.modified > b.modified : a.key > b.key
        }
        let ascending = request.ascending
        switch request.sort {
        case .relevance:
            if case .match = request.query {
                items.sort { $0.score != $1.score ? $0.score < $1.score : newer($0, $1) }
            } else {
                items.sort(by: newer)
            }
        case .lastModified:
            items.sort { $0.modified != $1.modified ? (ascending ? $0.modified < $1.modified : $0.modified > $1.modified) : $0.key < $1.key }
        case .created:
            items.sort { $0.created != $1.created ? (ascending ? $0.created < $1.created : $0.created > $1.created) : $0.key < $1.key }
        case .name:
            let names = Dictionary(uniqueKeysWithValues: found.keys.map { ($0, snapshot.entries[$0]!.name) })
            items.sort { a, b in
                let order = names[a.key]!.localizedStandardCompare(names[b.key]!)
                if order != .orderedSame { return ascending ? order == .orderedAscending : order == .orderedDescending }
                return a.key < b.key
            }
        }
        return items.map(\.key)
    }
}
