/// Who is searching: the principals whose grants count, and whether they are logged in.
package struct Viewer: Sendable, Equatable {
    package var principalIDs: Set<String>
    package var isLoggedIn: Bool

    package static let anonymous = Viewer(principalIDs: [], isLoggedIn: false)

    package init(principalIDs: Set<String>, isLoggedIn: Bool) {
        self.principalIDs = principalIDs
        self.isLoggedIn = isLoggedIn
    }
}

/// One search.
package struct SearchRequest: Sendable, Equatable {
    package var query: SearchQuery
    package var viewer: Viewer
    package var limit: Int
    package var offset: Int

    package init(query: SearchQuery, viewer: Viewer, limit: Int = 10, offset: Int = 0) {
        self.query = query
        self.viewer = viewer
        self.limit = limit
        self.offset = offset
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

    package static let highlightStart: Character = "\u{2}"
    package static let highlightEnd: Character = "\u{3}"

    /// The snippet as HTML: text escaped, matches in `<b>`.
    package var snippetHTML: String? {
        snippet.map { text in
            var html = ""
            for character in text {
                switch character {
                case Self.highlightStart: html += "<b>"
                case Self.highlightEnd: html += "</b>"
                default: html += HTML.entity(for: character) ?? String(character)
                }
            }
            return html
        }
    }

    /// The snippet without highlight marks.
    package var plainSnippet: String? {
        snippet.map { $0.filter { $0 != Self.highlightStart && $0 != Self.highlightEnd } }
    }
}

/// A page of results and the exact number of items the viewer may read that match.
package struct SearchResults: Sendable, Equatable {
    package var total: Int
    package var hits: [SearchHit]
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
