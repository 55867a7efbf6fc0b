import Foundation
import GRDB
import Repository

extension SQLiteSearchIndex {
    /// Finds the items the viewer may read, best first.
    ///
    /// The FTS5 match runs first and drives the plan; each hit is mapped to its item (an item
    /// row directly, a body row through the items whose current version holds that blob), and
    /// only then filtered by a correlated check of the item's visibility and grants. Results,
    /// total and snippets therefore only ever concern readable items, and a change of sharing
    /// shows in the next query.
    package func search(_ request: SearchRequest) async throws -> SearchResults {
        let principals = SQLiteMetadataStore.jsonArray(request.viewer.principalIDs.sorted())
        let limit = max(0, min(request.limit, 1000))
        let offset = max(0, request.offset)
        switch request.query {
        case .empty:
            return SearchResults(total: 0, hits: [])
        case .all:
            return try await database.longRead(through: readGate) { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT i.id, count(*) OVER () AS total FROM contentItem i
                        WHERE \(Self.readable)
                        ORDER BY i.lastModifiedAt DESC, i.id LIMIT ? OFFSET ?
                        """,
                    arguments: [request.viewer.isLoggedIn, principals, limit, offset])
                // Past the last page there is no row to carry the window count: count apart.
                let total = try rows.first.map { $0["total"] as Int }
                    ?? Self.count(
                        db, sql: "SELECT count(*) FROM contentItem i WHERE \(Self.readable)",
                        arguments: [request.viewer.isLoggedIn, principals])
                return SearchResults(
                    total: total, hits: rows.map { SearchHit(itemID: $0["id"], score: 0, snippet: nil, pages: []) })
            }
        case .match(let expression, let exclusion):
            return try await database.longRead(through: readGate) { db in
                let sql = Self.matchQuery(excluding: exclusion != nil)
                var arguments: StatementArguments = [expression, expression]
                if let exclusion { arguments += [exclusion, exclusion] }
                arguments += [request.viewer.isLoggedIn, principals]
                let rows = try Row.fetchAll(db, sql: sql + " ORDER BY best, itemId LIMIT ? OFFSET ?", arguments: arguments + [limit, offset])
                let total: Int
                if let first = rows.first {
                    total = first["total"]
                } else {
                    total = try Self.count(db, sql: "SELECT count(*) FROM (\(sql))", arguments: arguments)
                }
                var hits: [SearchHit] = []
                for row in rows {
                    let table = (row["bestKind"] as String) == "body" ? "bodyText" : "itemText"
                    let snippet = try String.fetchOne(
                        db.cachedStatement(sql: """
                            SELECT snippet(\(table), -1, char(2), char(3), '…', 24) FROM \(table)
                            WHERE \(table) MATCH ? AND rowid = ?
                            """),
                        arguments: [expression, row["bestRow"] as Int64])
                    let pages = (row["pages"] as String?).map { $0.split(separator: ",").compactMap { Int($0) }.sorted() } ?? []
                    hits.append(SearchHit(itemID: row["itemId"], score: row["best"], snippet: snippet, pages: pages))
                }
                return SearchResults(total: total, hits: hits)
            }
        }
    }

    /// Whether contentItem `i` is readable; arguments: is-logged-in, JSON array of principals.
    static let readable = """
        (i.visibility = 'public'
            OR (i.visibility = 'logged-in' AND ?)
            OR EXISTS (SELECT 1 FROM contentGrant g
                       WHERE g.itemId = i.id AND g.principalId IN (SELECT value FROM json_each(?))))
        """

    /// Matching readable items with their best score, best row and matched pages; arguments:
    /// the FTS5 expression twice (items, bodies), the exclusion expression twice when
    /// `excluding`, then those of `readable`. SQLite returns `bestRow` and `bestKind` from
    /// the row that gives `min(score)`.
    static func matchQuery(excluding: Bool) -> String {
        """
        WITH itemMatch AS MATERIALIZED (
            SELECT rowid AS rid, rank AS score FROM itemText WHERE itemText MATCH ?
        ),
        bodyMatch AS MATERIALIZED (
            SELECT rowid AS rid, rank AS score FROM bodyText WHERE bodyText MATCH ?
        ),
        itemHit AS (\(itemsOf(items: "itemMatch", bodies: "bodyMatch")))\(excluding ? """
            ,
            excludedItemMatch AS MATERIALIZED (SELECT rowid AS rid, 0 AS score FROM itemText WHERE itemText MATCH ?),
            excludedBodyMatch AS MATERIALIZED (SELECT rowid AS rid, 0 AS score FROM bodyText WHERE bodyText MATCH ?),
            excludedItem AS (\(itemsOf(items: "excludedItemMatch", bodies: "excludedBodyMatch")))
            """ : "")
        SELECT h.itemId AS itemId, min(h.score) AS best, h.rid AS bestRow, h.kind AS bestKind,
               group_concat(DISTINCT h.page) AS pages, count(*) OVER () AS total
        FROM itemHit h JOIN contentItem i ON i.id = h.itemId
        WHERE \(readable)\(excluding ? " AND h.itemId NOT IN (SELECT itemId FROM excludedItem)" : "")
        GROUP BY h.itemId
        """
    }

    /// Maps FTS hits (`rid`, `score`) to items: an item row directly, a body row through the
    /// items whose current version holds that blob.
    private static func itemsOf(items: String, bodies: String) -> String {
        """
            SELECT r.itemId AS itemId, h.score AS score, h.rid AS rid, 'item' AS kind, NULL AS page
            FROM \(items) h JOIN itemRow r ON r.id = h.rid
            UNION ALL
            SELECT v.itemId, h.score, h.rid, 'body', r.page
            FROM \(bodies) h JOIN bodyRow r ON r.id = h.rid
            JOIN contentVersion v ON v.blobId = r.blobId
            JOIN contentItem c ON c.id = v.itemId AND c.currentVersion = v.number
        """
    }

    private static func count(_ db: Database, sql: String, arguments: StatementArguments) throws -> Int {
        try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
    }
}
