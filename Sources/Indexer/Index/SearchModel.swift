import Repository

/// Who is searching: the principals whose grants count, whether they are logged in, and
/// whether they administer the site (and so may read everything).
package struct Viewer: Sendable, Equatable {
    package var principalIDs: Set<String>
    package var isLoggedIn: Bool
    package var isAdministrator: Bool

    package static let anonymous = Viewer(principalIDs: [], isLoggedIn: false)

    /// The caller's side of the one item rule.
    package var rule: ItemAccessRule { ItemAccessRule(isLoggedIn: isLoggedIn, isAdministrator: isAdministrator) }

    package init(principalIDs: Set<String>, isLoggedIn: Bool, isAdministrator: Bool = false) {
        self.principalIDs = principalIDs
        self.isLoggedIn = isLoggedIn
        self.isAdministrator = isAdministrator
    }
}

/// A library: the items in which any of `principalIDs` holds one of `roles`.
package struct LibraryScope: Sendable, Equatable {
    package var principalIDs: Set<String>
    package var roles: Set<ContentRole>

    package init(principalIDs: Set<String>, roles: Set<ContentRole>) {
        self.principalIDs = principalIDs
        self.roles = roles
    }
}

/// What results are ordered by.
package enum SearchSort: Sendable, Equatable {
    /// Best match first for a full-text query; newest first otherwise.
    case relevance
    case lastModified
    case created
    case name
}

/// One search.
package struct SearchRequest: Sendable, Equatable {
    package var query: SearchQuery
    package var viewer: Viewer
    package var limit: Int
    package var offset: Int
    /// Only items in this library (besides being readable).
    package var scope: LibraryScope?
    /// Only items carrying every one of these tags.
    package var tags: [String] = []
    /// Only items of this media type; a trailing `*` makes it a prefix.
    package var mimeType: String?
    package var sort = SearchSort.relevance
    package var ascending = false
    /// How many of the most common tags among everything found to count (0: none).
    package var facetLimit = 0
    /// Whether to read the found items' records (`SearchResults.records`) in the search's
    /// own transaction.
    package var withRecords = false

    package init(query: SearchQuery, viewer: Viewer, limit: Int = 10, offset: Int = 0) {
        self.query = query
        self.viewer = viewer
        self.limit = limit
        self.offset = offset
    }
}

/// A tag and how many of the items found carry it.
package struct TagCount: Sendable, Equatable {
    package var tag: String
    package var count: Int

    package init(tag: String, count: Int) {
        self.tag = tag
        self.count = count
    }
}

/// One item found.
package struct SearchHit: Sendable, Equatable {
    package var itemID: String
    /// bm25 of the item's best-matching row (lower is better), kept for debugging.
    package var score: Double
    /// The best passage, as plain text with the matched terms between `highlightStart` and
    /// `highlightEnd`; `nil` for `.all` searches.
    package var snippet: String?
    /// The PDF pages the query matched on, in order; empty for other documents.
    package var pages: [Int]
    /// The item's catalog stamp (`SearchCatalog.Entry.stamp`), when its record in
    /// `SearchResults.records` is known to be as of that stamp: what is made of the record
    /// may be kept until the stamp changes. `nil` otherwise.
    package var stamp: Int64? = nil

    package static let highlightStart: Character = "\u{2}"
    package static let highlightEnd: Character = "\u{3}"

    /// The snippet as HTML: text escaped, matches in `<b>`.
    package var snippetHTML: String? {
        snippet.map { snippet in
            // Byte by byte: every character that changes is ASCII, and UTF-8 never uses an
            // ASCII byte inside a longer character. Runs of unchanged bytes are copied whole.
            var text = snippet
            return text.withUTF8 { bytes in
                var html: [UInt8] = []
                html.reserveCapacity(bytes.count + 32)
                var run = 0
                for (index, byte) in bytes.enumerated() {
                    let replacement: StaticString
                    switch byte {
                    case 0x02: replacement = "<b>"
                    case 0x03: replacement = "</b>"
                    case UInt8(ascii: "<"): replacement = "&lt;"
                    case UInt8(ascii: ">"): replacement = "&gt;"
                    case UInt8(ascii: "&"): replacement = "&amp;"
                    case UInt8(ascii: "\""): replacement = "&quot;"
                    case UInt8(ascii: "'"): replacement = "&#39;"
                    default: continue
                    }
                    html.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                    replacement.withUTF8Buffer { html.append(contentsOf: $0) }
                    run = index + 1
                }
                html.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
                return String(decoding: html, as: UTF8.self)
            }
        }
    }

    /// The snippet without highlight marks.
    package var plainSnippet: String? {
        snippet.map { $0.filter { $0 != Self.highlightStart && $0 != Self.highlightEnd } }
    }
}

/// A page of results, the exact number of items the viewer may read that match, and the
/// most common tags among all of them (when asked for).
package struct SearchResults: Sendable, Equatable {
    package var total: Int
    package var hits: [SearchHit]
    package var facets: [TagCount] = []
    /// The hits' items, when the request asked for them.
    package var records: [String: ItemRecord] = [:]

    package init(total: Int, hits: [SearchHit], facets: [TagCount] = [], records: [String: ItemRecord] = [:]) {
        self.total = total
        self.hits = hits
        self.facets = facets
        self.records = records
    }
}

/// How extraction of a blob ended, as the index recorded it.
package struct StoredExtraction: Sendable, Equatable {
    package var outcome: ExtractionOutcome
    package var mediaType: String
    package var pageCount: Int
    package var characters: Int
    package var truncated: Bool
    package var title: String?
    package var detail: String?
}

/// Escaping text for HTML.
package enum HTML {
    /// The entity for a character HTML gives a meaning to, else `nil`.
    package static func entity(for character: Character) -> String? {
        switch character {
        case "<": "&lt;"
        case ">": "&gt;"
        case "&": "&amp;"
        case "\"": "&quot;"
        case "'": "&#39;"
        default: nil
        }
    }

    /// `text` with every such character replaced by its entity.
    package static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if let entity = entity(for: character) { out += entity } else { out.append(character) }
        }
        return out
    }
}
