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
            let total = found.count
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
            let page = ordered[offset..<min(ordered.count, offset + max(0, min(request.limit, 1000)))]
            var hits: [SearchHit] = []
            for key in page {
                let hit = found[key]!
                var snippet: String?
                if case .match(let expression, _) = request.query, let row = hit.bestRow {
                    let table = hit.bestIsBody ? "bodyText" : "itemText"
                    snippet = try String.fetchOne(
                        db.cachedStatement(sql: """
                            SELECT snippet(\(table), -1, char(2), char(3), '…', 24) FROM \(table)
                            WHERE \(table) MATCH ? AND rowid = ?
                            """),
                        arguments: [expression, row])
                }
                hits.append(SearchHit(
                    itemID: snapshot.entries[key]!.id, score: hit.score ?? 0, snippet: snippet, pages: hit.pages.sorted()))
            }
            return SearchResults(total: total, hits: hits, facets: facets)
        }
    }

    /// The queries that find matching rows: FTS5 alone, with no join or filter that could
    /// turn the full-text tables into per-row lookups.
    static let matchStatements = [
        "SELECT rowid FROM itemText WHERE itemText MATCH ?",
        "SELECT rowid FROM bodyText WHERE bodyText MATCH ?",
    ]

    /// What is known of one item found.
    struct Found {
        /// The item's own fields matched (`itemText` rowid = the item's key).
        var itemMatched = false
        /// Matching body rows, newest last as they come from FTS5.
        var bodyRows: [Int64] = []
        var pages: Set<Int> = []
        var score: Double?
        var bestRow: Int64?
        var bestIsBody = false
    }

    /// The readable items in scope that match, by key.
    static func find(_ request: SearchRequest, snapshot: SearchCatalog.Snapshot, in db: Database) throws -> [Int64: Found] {
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
        var found: [Int64: Found] = [:]
        switch request.query {
        case .empty:
            return [:]
        case .all:
            for (key, entry) in snapshot.entries where admits(entry) { found[key] = Found() }
        case .match(let expression, let exclusion):
            var admitted: [Int64: Bool] = [:]
            func admitsKey(_ key: Int64) -> Bool {
                if let known = admitted[key] { return known }
                let answer = snapshot.entries[key].map(admits) ?? false
                admitted[key] = answer
                return answer
            }
            let cursor1 = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[0]), arguments: [expression])
            while let key = try cursor1.next() {
                guard admitsKey(key) else { continue }
                found[key, default: Found()].itemMatched = true
            }
            let cursor2 = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[1]), arguments: [expression])
            while let row = try cursor2.next() {
                guard let blob = snapshot.blobs[row >> SearchIndexSchema.pageBits], let keys = snapshot.itemsOfBlob[blob.id] else { continue }
                for key in keys where admitsKey(key) {
                    found[key, default: Found()].bodyRows.append(row)
                    if blob.paged { found[key]!.pages.insert(Int(row & Int64(SearchIndexSchema.maximumPages - 1)) + 1) }
                }
            }
            if let exclusion {
                let cursor3 = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[0]), arguments: [exclusion])
                while let key = try cursor3.next() {
                    found[key] = nil
                }
                let cursor4 = try Int64.fetchCursor(db.cachedStatement(sql: matchStatements[1]), arguments: [exclusion])
                while let row = try cursor4.next() {
                    guard let blob = snapshot.blobs[row >> SearchIndexSchema.pageBits] else { continue }
                    for key in snapshot.itemsOfBlob[blob.id] ?? [] { found[key] = nil }
                }
            }
        }
        return found
    }

    /// Scores found items by BM25 (lower is better): every matching item row, and the newest
    /// body rows of found items (see `rankedRows`).
    static func rank(_ found: inout [Int64: Found], expression: String, in db: Database) throws {
        if found.contains(where: { $0.value.itemMatched }) {
            let cursor5 = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT rowid, rank FROM itemText WHERE itemText MATCH ?"), arguments: [expression])
            while let row = try cursor5.next() {
                let key: Int64 = row[0]
                guard found[key] != nil else { continue }
                let score: Double = row[1]
                if found[key]!.score.map({ score < $0 }) ?? true {
                    found[key]!.score = score
                    found[key]!.bestRow = key
                    found[key]!.bestIsBody = false
                }
            }
        }
        // The lowest rowid worth ranking: the `rankedRows`-th newest readable row.
        var rows: [Int64] = []
        for hit in found.values { rows += hit.bodyRows }
        guard !rows.isEmpty else { return }
        rows.sort(by: >)
        var lowest = rows[min(rows.count, rankedRows) - 1]
        // Never scan more than `maximumRankedRange` matching rows for them.
        let matching = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM bodyText WHERE bodyText MATCH ? AND rowid >= ?"),
            arguments: [expression, lowest]) ?? 0
        if matching > maximumRankedRange {
            lowest = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT rowid FROM bodyText WHERE bodyText MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"),
                arguments: [expression, maximumRankedRange - 1]) ?? lowest
        }
        var owners: [Int64: [Int64]] = [:]
        for (key, hit) in found { for row in hit.bodyRows where row >= lowest { owners[row, default: []].append(key) } }
        let cursor6 = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT rowid, rank FROM bodyText WHERE bodyText MATCH ? AND rowid >= ?"),
            arguments: [expression, lowest])
        while let row = try cursor6.next() {
            let id: Int64 = row[0]
            guard let keys = owners[id] else { continue }
            let score: Double = row[1]
            for key in keys where found[key]!.score.map({ score < $0 }) ?? true {
                found[key]!.score = score
                found[key]!.bestRow = id
                found[key]!.bestIsBody = true
            }
        }
        // Items left unscored still get a snippet from their newest matching row.
        for (key, hit) in found where hit.bestRow == nil {
            found[key]!.bestRow = hit.bodyRows.max()
            found[key]!.bestIsBody = true
        }
    }

    /// The found items' keys in the order asked for; ties (and unscored items) go newest
    /// first, then by key, so pages never overlap.
    static func order(_ found: [Int64: Found], snapshot: SearchCatalog.Snapshot, request: SearchRequest) -> [Int64] {
        let entries = snapshot.entries
        func newer(_ a: Int64, _ b: Int64) -> Bool {
            let (x, y) = (entries[a]!, entries[b]!)
            return x.lastModifiedAt != y.lastModifiedAt ? x.lastModifiedAt > y.lastModifiedAt : a > b
        }
        let keys = Array(found.keys)
        switch request.sort {
        case .relevance:
            guard case .match = request.query else { return keys.sorted(by: newer) }
            return keys.sorted { a, b in
                switch (found[a]!.score, found[b]!.score) {
                case let (x?, y?): x != y ? x < y : newer(a, b)
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): newer(a, b)
                }
            }
        case .lastModified, .created, .name:
            return keys.sorted { a, b in
                let (x, y) = (entries[a]!, entries[b]!)
                let ascending = request.ascending
                switch request.sort {
                case .lastModified where x.lastModifiedAt != y.lastModifiedAt:
                    return ascending ? x.lastModifiedAt < y.lastModifiedAt : x.lastModifiedAt > y.lastModifiedAt
                case .created where x.createdAt != y.createdAt:
                    return ascending ? x.createdAt < y.createdAt : x.createdAt > y.createdAt
                case .name:
                    let order = x.name.localizedStandardCompare(y.name)
                    if order != .orderedSame { return ascending ? order == .orderedAscending : order == .orderedDescending }
                    return a < b
                default:
                    return a < b
                }
            }
        }
    }
}
