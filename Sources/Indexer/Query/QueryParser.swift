import Foundation

/// Parses the query dialect the OAE UI sends (a subset of Lucene's) into a safe FTS5 expression.
///
/// Understood: words, `AND`, `OR`, `NOT`, `&&`, `||`, `!`, `+word`, `-word`, "quoted phrases",
/// trailing `*` prefixes, parentheses, and backslash escapes. Lucene features FTS5 has no use
/// for are dropped: `field:` prefixes, `^boost` and `~fuzz` suffixes, range brackets. Bare words
/// are ANDed, as in the UI's searches.
///
/// Every token in the output is a quoted FTS5 string, so no input can inject FTS5 syntax: the
/// result is always a valid expression, `.empty`, `.all`, or `InvalidQuery` (only a query with
/// nothing but exclusions, or one beyond the size limits).
package struct QueryParser: Sendable {
    package static let maximumLength = 2000
    package static let maximumTerms = 64
    package static let maximumDepth = 16

    package init() {}

    package func parse(_ input: String) throws(InvalidQuery) -> SearchQuery {
        guard input.count <= Self.maximumLength else {
            throw InvalidQuery(reason: "longer than \(Self.maximumLength) characters")
        }
        let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "*" || trimmed == "*:*" { return .all }
        var parser = Parser(tokens: QueryLexer.tokens(of: input))
        guard let node = try parser.parseQuery() else { return .empty }
        guard parser.termCount <= Self.maximumTerms else {
            throw InvalidQuery(reason: "more than \(Self.maximumTerms) terms")
        }
        // Exclusions at the top level apply to whole items, not to single rows.
        let parts = node.conjuncts
        let excluded = parts.compactMap { part -> QueryNode? in
            if case .not(let inner) = part { return inner }
            return nil
        }
        let included = parts.filter { if case .not = $0 { return false } else { return true } }
        let exclusion = try QueryNode.or(excluded).fts5()
        guard let expression = try QueryNode.and(included).fts5() else {
            if exclusion != nil {
                throw InvalidQuery(reason: "a query needs at least one word to look for, not only words to exclude")
            }
            return .empty
        }
        return .match(expression: expression, excluding: exclusion)
    }
}

/// The query as a tree.
indirect enum QueryNode: Equatable {
    case term(String, prefix: Bool)
    case phrase([String])
    case and([QueryNode])
    case or([QueryNode])
    case not(QueryNode)

    /// The operands of a top-level AND, flattened; a single operand otherwise.
    var conjuncts: [QueryNode] {
        if case .and(let children) = self { return children.flatMap(\.conjuncts) }
        return [self]
    }

    /// The FTS5 text, or `nil` when nothing searchable is left. Throws for an expression that
    /// only excludes.
    func fts5() throws(InvalidQuery) -> String? {
        switch self {
        case .term(let word, let prefix):
            return Self.quote(word) + (prefix ? " *" : "")
        case .phrase(let words):
            return words.isEmpty ? nil : Self.quote(words.joined(separator: " "))
        case .or(let children):
            var parts: [String] = []
            for child in children {
                if case .not = child { throw InvalidQuery(reason: "OR with an excluded term matches almost everything") }
                if let part = try child.fts5() { parts.append(part) }
            }
            if parts.isEmpty { return nil }
            return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " OR ") + ")"
        case .and(let children):
            var included: [String] = []
            var excluded: [String] = []
            for child in children {
                if case .not(let inner) = child {
                    if let part = try inner.fts5() { excluded.append(part) }
                } else if let part = try child.fts5() {
                    included.append(part)
                }
            }
            if included.isEmpty {
                if excluded.isEmpty { return nil }
                throw InvalidQuery(reason: "a query needs at least one word to look for, not only words to exclude")
            }
            var text = included.count == 1 ? included[0] : "(" + included.joined(separator: " AND ") + ")"
            for part in excluded { text = "(\(text) NOT \(part))" }
            return text
        case .not(let inner):
            return try QueryNode.and([.not(inner)]).fts5()
        }
    }

    /// An FTS5 string literal: double quotes around, inner double quotes doubled.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

enum QueryToken: Equatable {
    case word(String, prefix: Bool)
    case phrase(String)
    case and, or, not
    case required, excluded
    case open, close
}

/// Splits query text into tokens.
enum QueryLexer {
    /// Characters that end a word (Lucene's special characters, less those handled in words).
    private static let breaking: Set<Character> = ["(", ")", "\"", "{", "}", "[", "]", "^", "~"]

    /// Operators that are one character wherever they stand.
    private static let singleCharacterTokens: [Character: QueryToken] = [
        "(": .open, ")": .close, "!": .not, "+": .required, "-": .excluded,
    ]

    static func tokens(of input: String) -> [QueryToken] {
        var tokens: [QueryToken] = []
        var chars = Array(input)
        chars.append(" ")
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            if let token = singleCharacterTokens[c] {
                tokens.append(token)
                i += 1
                continue
            }
            switch c {
            case "\"":
                var j = i + 1
                var text = ""
                while j < chars.count - 1, chars[j] != "\"" {
                    if chars[j] == "\\", j + 1 < chars.count - 1 { j += 1 }
                    text.append(chars[j])
                    j += 1
                }
                tokens.append(.phrase(text))
                i = j + 1
                // A proximity or boost suffix after a phrase (`"a b"~3`, `"a"^2`) is dropped.
                while i < chars.count, chars[i] == "~" || chars[i] == "^" || chars[i].isNumber || chars[i] == "." {
                    i += 1
                }
                continue
            case "&" where i + 1 < chars.count && chars[i + 1] == "&":
                tokens.append(.and)
                i += 2
                continue
            case "|" where i + 1 < chars.count && chars[i + 1] == "|":
                tokens.append(.or)
                i += 2
                continue
            case "{", "}", "[", "]", "^", "~":
                i += 1
                // Boost and fuzz values are numbers that belong to the operator.
                if c == "^" || c == "~" {
                    while i < chars.count, chars[i].isNumber || chars[i] == "." { i += 1 }
                }
                continue
            default:
                break
            }
            // A word runs to white space or a breaking character; backslash escapes one.
            var word = ""
            while i < chars.count, !chars[i].isWhitespace, !breaking.contains(chars[i]) {
                if chars[i] == "\\", i + 1 < chars.count - 1 {
                    word.append(chars[i + 1])
                    i += 2
                    continue
                }
                word.append(chars[i])
                i += 1
            }
            switch word {
            case "AND": tokens.append(.and)
            case "OR": tokens.append(.or)
            case "NOT": tokens.append(.not)
            case "TO": break  // inside a range: [a TO b] keeps a and b as words
            default:
                // `field:value` searches the value; `*` only means a prefix at the end.
                var value = Substring(word)
                if let colon = value.lastIndex(of: ":") { value = value[value.index(after: colon)...] }
                let prefix = value.hasSuffix("*")
                let cleaned = value.filter { $0 != "*" && $0 != "?" }
                if !cleaned.isEmpty { tokens.append(.word(String(cleaned), prefix: prefix)) }
            }
        }
        return tokens
    }
}

/// A recursive-descent parser over the tokens: OR binds loosest, then AND (explicit or
/// implied between neighbours), then NOT and the `+`/`-` prefixes.
struct Parser {
    private var tokens: [QueryToken]
    private var position = 0
    private var depth = 0
    private(set) var termCount = 0

    init(tokens: [QueryToken]) { self.tokens = tokens }

    mutating func parseQuery() throws(InvalidQuery) -> QueryNode? {
        var node: QueryNode?
        while position < tokens.count {
            // Stray closing parentheses at the top level are ignored.
            if tokens[position] == .close {
                position += 1
                continue
            }
            guard let next = try parseOr() else { continue }
            node = node.map { .and([$0, next]) } ?? next
        }
        return node
    }

    private mutating func parseOr() throws(InvalidQuery) -> QueryNode? {
        var parts: [QueryNode] = []
        if let first = try parseAnd() { parts.append(first) }
        while position < tokens.count, tokens[position] == .or {
            position += 1
            if let next = try parseAnd() { parts.append(next) }
        }
        if parts.isEmpty { return nil }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    private mutating func parseAnd() throws(InvalidQuery) -> QueryNode? {
        var parts: [QueryNode] = []
        while position < tokens.count {
            switch tokens[position] {
            case .or, .close:
                return parts.isEmpty ? nil : (parts.count == 1 ? parts[0] : .and(parts))
            case .and:
                position += 1
            default:
                if let unary = try parseUnary() { parts.append(unary) }
            }
        }
        return parts.isEmpty ? nil : (parts.count == 1 ? parts[0] : .and(parts))
    }

    private mutating func parseUnary() throws(InvalidQuery) -> QueryNode? {
        switch tokens[position] {
        case .not, .excluded:
            position += 1
            guard position < tokens.count, let inner = try parseUnary() else { return nil }
            if case .not(let doubled) = inner { return doubled }
            return .not(inner)
        case .required:
            position += 1
            guard position < tokens.count else { return nil }
            return try parseUnary()
        default:
            return try parsePrimary()
        }
    }

    private mutating func parsePrimary() throws(InvalidQuery) -> QueryNode? {
        let token = tokens[position]
        position += 1
        switch token {
        case .word(let text, let prefix):
            let words = Self.words(in: text)
            termCount += words.count
            if words.isEmpty { return nil }
            if words.count == 1 { return .term(words[0], prefix: prefix) }
            // "e-mail" or "c++" is several tokens to FTS5: search them as a phrase.
            return .phrase(words)
        case .phrase(let text):
            let words = Self.words(in: text)
            termCount += words.count
            return words.isEmpty ? nil : .phrase(words)
        case .open:
            depth += 1
            defer { depth -= 1 }
            guard depth <= QueryParser.maximumDepth else {
                throw InvalidQuery(reason: "parentheses nested deeper than \(QueryParser.maximumDepth)")
            }
            let inner = try parseOr()
            // A missing closing parenthesis is forgiven.
            if position < tokens.count, tokens[position] == .close { position += 1 }
            return inner
        default:
            return nil
        }
    }

    /// The runs of letters and digits in `text`: what FTS5's tokenizer will see as tokens.
    static func words(in text: String) -> [String] {
        text.split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }
}
