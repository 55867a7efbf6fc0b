import Foundation
import GRDB
import Repository

extension SQLiteSearchIndex {
    /// Finds the items the viewer may read, in the order asked for, with the exact total and
    /// the tag counts of everything found.
    ///
    /// For a full-text query the FTS5 match runs first and drives the plan; each hit is mapped
    /// to its item (an item row directly, a body row through the items whose current version
    /// holds that blob), and only then filtered by a correlated check of the item's visibility
    /// and grants, the library scope, tags and media type. Results, total, facets and snippets
    /// therefore only ever concern readable items, and a change of sharing shows in the next
    /// query.
    package func search(_ request: SearchRequest) async throws -> SearchResults {
        if request.query == .empty { return SearchResults(total: 0, hits: []) }
        let statement = Self.statement(for: request)
        return try await database.longRead(through: readGate) { db in
            let rows = try Row.fetchAll(
                db, sql: "\(statement.sql) SELECT *, count(*) OVER () AS total FROM found ORDER BY \(Self.order(request)) LIMIT :limit OFFSET :offset",
                arguments: statement.arguments)
            // Past the last page there is no row to carry the window count: count apart.
            let total = try rows.first.map { $0["total"] as Int }
                ?? Int.fetchOne(db, sql: "\(statement.sql) SELECT count(*) FROM found", arguments: statement.arguments) ?? 0
            var facets: [TagCount] = []
            if request.facetLimit > 0, total > 0 {
                facets = try Row.fetchAll(
                    db,
                    sql: """
                        \(statement.sql)
                        SELECT t.name, count(*) AS n FROM found f
                        JOIN contentTag ct ON ct.itemId = f.itemId JOIN tag t ON t.id = ct.tagId
                        GROUP BY t.id ORDER BY n DESC, t.name LIMIT :facetLimit
                        """,
                    arguments: statement.arguments
                ).map { TagCount(tag: $0["name"], count: $0["n"]) }
            }
            var hits: [SearchHit] = []
            for row in rows {
                var snippet: String?
                if case .match(let expression, _) = request.query, let bestRow = row["bestRow"] as Int64? {
                    let table = (row["bestKind"] as String) == "body" ? "bodyText" : "itemText"
                    snippet = try String.fetchOne(
                        db.cachedStatement(sql: """
                            SELECT snippet(\(table), -1, char(2), char(3), '…', 24) FROM \(table)
                            WHERE \(table) MATCH ? AND rowid = ?
                            """),
                        arguments: [expression, bestRow])
                }
                let pages = (row["pages"] as String?).map { $0.split(separator: ",").compactMap { Int($0) }.sorted() } ?? []
                hits.append(SearchHit(itemID: row["itemId"], score: row["best"] ?? 0, snippet: snippet, pages: pages))
            }
            return SearchResults(total: total, hits: hits, facets: facets)
        }
    }

    /// The `WITH` clauses that define `found`: the matching items the viewer may read, within
    /// the scope and filters, with their best score, best row and matched pages. Arguments are
    /// named, so that each clause can be added or left out.
    static func statement(for request: SearchRequest) -> (sql: String, arguments: StatementArguments) {
        var arguments: [String: (any DatabaseValueConvertible)?] = [
            "loggedIn": request.viewer.isLoggedIn, "administrator": request.viewer.isAdministrator,
            "principals": SQLiteMetadataStore.jsonArray(request.viewer.principalIDs.sorted()),
            "limit": max(0, min(request.limit, 1000)), "offset": max(0, request.offset),
            "facetLimit": max(0, request.facetLimit),
        ]
        var clauses: [String] = []
        var filters = [readable]
        let matched: String
        switch request.query {
        case .empty, .all:
            matched = """
                matched AS (SELECT i.id AS itemId, NULL AS best, NULL AS bestRow, NULL AS bestKind, NULL AS pages
                            FROM contentItem i)
                """
        case .match(let expression, let exclusion):
            arguments["expression"] = expression
            clauses.append("""
                itemMatch AS MATERIALIZED (SELECT rowid AS rid, rank AS score FROM itemText WHERE itemText MATCH :expression),
                bodyMatch AS MATERIALIZED (SELECT rowid AS rid, rank AS score FROM bodyText WHERE bodyText MATCH :expression),
                itemHit AS (\(itemsOf(items: "itemMatch", bodies: "bodyMatch")))
                """)
            if let exclusion {
                arguments["exclusion"] = exclusion
                clauses.append("""
                    excludedItemMatch AS MATERIALIZED (SELECT rowid AS rid, 0 AS score FROM itemText WHERE itemText MATCH :exclusion),
                    excludedBodyMatch AS MATERIALIZED (SELECT rowid AS rid, 0 AS score FROM bodyText WHERE bodyText MATCH :exclusion),
                    excludedItem AS (\(itemsOf(items: "excludedItemMatch", bodies: "excludedBodyMatch")))
                    """)
                filters.append("i.id NOT IN (SELECT itemId FROM excludedItem)")
            }
            // SQLite returns `bestRow` and `bestKind` from the row that gives `min(score)`.
            matched = """
                matched AS (SELECT h.itemId AS itemId, min(h.score) AS best, h.rid AS bestRow, h.kind AS bestKind,
                                   group_concat(DISTINCT h.page) AS pages
                            FROM itemHit h GROUP BY h.itemId)
                """
        }
        clauses.append(matched)
        if let scope = request.scope {
            arguments["members"] = SQLiteMetadataStore.jsonArray(scope.principalIDs.sorted())
            arguments["roles"] = SQLiteMetadataStore.jsonArray(scope.roles.map(\.rawValue).sorted())
            filters.append("""
                EXISTS (SELECT 1 FROM contentGrant g WHERE g.itemId = i.id
                        AND g.role IN (SELECT value FROM json_each(:roles))
                        AND g.principalId IN (SELECT value FROM json_each(:members)))
                """)
        }
        if !request.tags.isEmpty {
            arguments["tags"] = SQLiteMetadataStore.jsonArray(Set(request.tags).sorted())
            arguments["tagCount"] = Set(request.tags).count
            filters.append("""
                (SELECT count(*) FROM contentTag ct JOIN tag t ON t.id = ct.tagId
                 WHERE ct.itemId = i.id AND t.name IN (SELECT value FROM json_each(:tags))) = :tagCount
                """)
        }
        if let mimeType = request.mimeType {
            if mimeType.hasSuffix("*") {
                let prefix = mimeType.dropLast().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                arguments["mimeType"] = prefix + "%"
                filters.append("i.mimeType LIKE :mimeType ESCAPE '\\'")
            } else {
                arguments["mimeType"] = mimeType
                filters.append("i.mimeType = :mimeType")
            }
        }
        clauses.append("""
            found AS (SELECT m.itemId, m.best, m.bestRow, m.bestKind, m.pages, i.name, i.createdAt, i.lastModifiedAt
                      FROM matched m JOIN contentItem i ON i.id = m.itemId
                      WHERE \(filters.joined(separator: "\n AND ")))
            """)
        return ("WITH " + clauses.joined(separator: ",\n"), StatementArguments(arguments))
    }

    /// The ORDER BY of a search: relevance for a full-text query (by recency otherwise), or
    /// the field asked for; the item id breaks ties, so pages never overlap.
    static func order(_ request: SearchRequest) -> String {
        let direction = request.ascending ? "ASC" : "DESC"
        switch request.sort {
        case .relevance:
            if case .match = request.query { return "best, itemId" }
            return "lastModifiedAt DESC, itemId"
        case .lastModified: return "lastModifiedAt \(direction), itemId"
        case .created: return "createdAt \(direction), itemId"
        case .name: return "name COLLATE NOCASE \(direction), itemId"
        }
    }

    /// Whether contentItem `i` is readable by the viewer (`:loggedIn`, `:administrator`,
    /// `:principals`).
    static let readable = """
        (:administrator
            OR i.visibility = 'public'
            OR (i.visibility = 'logged-in' AND :loggedIn)
            OR EXISTS (SELECT 1 FROM contentGrant g
                       WHERE g.itemId = i.id AND g.principalId IN (SELECT value FROM json_each(:principals))))
        """

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
}
