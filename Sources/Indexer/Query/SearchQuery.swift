/// A parsed search: what the index is asked for.
package enum SearchQuery: Sendable, Equatable {
    /// Nothing to look for (blank input, or only punctuation): no results.
    case empty
    /// Everything the caller may read (`*`), newest first.
    case all
    /// A full-text match. `expression` is safe FTS5 syntax in which every token is quoted.
    /// It is evaluated per indexed row (an item's own fields, or one page of its body);
    /// `excluding`, when present, removes every item any of whose rows matches it, so that
    /// `-word` excludes documents that mention the word anywhere.
    case match(expression: String, excluding: String? = nil)
}

/// Why a query string cannot be searched.
package struct InvalidQuery: Error, Equatable, Sendable, CustomStringConvertible {
    package let reason: String
    package var description: String { "invalid query: \(reason)" }
}
