import Foundation
import GRDB
import TestSupport
import Testing

@testable import Indexer

@Suite struct QueryParserTests {
    let parser = QueryParser()

    @Test(arguments: [
        ("photosynthesis", #""photosynthesis""#),
        ("cell membrane", #"("cell" AND "membrane")"#),
        ("cell AND membrane", #"("cell" AND "membrane")"#),
        ("cell && membrane", #"("cell" AND "membrane")"#),
        ("cell OR membrane", #"("cell" OR "membrane")"#),
        ("cell || membrane", #"("cell" OR "membrane")"#),
        ("+cell +membrane", #"("cell" AND "membrane")"#),
        (#""cell membrane""#, #""cell membrane""#),
        ("photo*", #""photo" *"#),
        ("(cell OR tissue) membrane", #"(("cell" OR "tissue") AND "membrane")"#),
        ("title:enzyme", #""enzyme""#),
        ("enzyme^2 protein~1", #"("enzyme" AND "protein")"#),
        ("e-mail", #""e mail""#),
        (#"say \"hi\""#, #"("say" AND "hi")"#),
        ("((unclosed", #""unclosed""#),
        ("stray) paren", #"("stray" AND "paren")"#),
    ])
    func theLuceneSubsetBecomesQuotedFTS5(input: String, expected: String) throws {
        #expect(try parser.parse(input) == .match(expression: expected))
    }

    @Test(arguments: [
        ("cell -virus", #""cell""#, #""virus""#),
        ("cell NOT virus", #""cell""#, #""virus""#),
        ("cell !virus -germ", #""cell""#, #"("virus" OR "germ")"#),
        ("(cell -virus) tissue", #"("cell" AND "tissue")"#, #""virus""#),
        ("(cell OR (tissue -virus))", #"("cell" OR ("tissue" NOT "virus"))"#, nil),
    ])
    func topLevelExclusionsApplyToWholeItems(input: String, expected: String, excluding: String?) throws {
        #expect(try parser.parse(input) == .match(expression: expected, excluding: excluding))
    }

    @Test(arguments: ["", "   ", "!!!", "()", "\"\"", "-", "*?*", "AND OR"])
    func nothingSearchableIsEmpty(input: String) throws {
        let parsed = try parser.parse(input)
        #expect(parsed == .empty || parsed == .all, "\(parsed)")
    }

    @Test func aLoneStarListsEverything() throws {
        #expect(try parser.parse("*") == .all)
        #expect(try parser.parse(" *:* ") == .all)
    }

    @Test(arguments: ["-virus", "NOT virus", "cell OR -virus", String(repeating: "(", count: 40) + "x"])
    func onlyExclusionsOrDeepNestingAreInvalid(input: String) {
        #expect(throws: InvalidQuery.self) { try parser.parse(input) }
    }

    @Test func overlongQueriesAreInvalid() {
        #expect(throws: InvalidQuery.self) { try parser.parse(String(repeating: "a ", count: 1001)) }
        #expect(throws: InvalidQuery.self) { try parser.parse((0..<65).map { "w\($0)" }.joined(separator: " ")) }
    }

    /// Thousands of random and adversarial strings: each parses to something FTS5 runs, or to
    /// `.empty`, `.all` or `InvalidQuery`. Nothing else, and never an FTS5 syntax error.
    @Test func noInputEverCausesAnFTS5Error() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')")
            try db.execute(sql: "INSERT INTO t VALUES ('cell membrane e mail', 'photon and quantum')")
        }
        let alphabet = Array("abc AND OR NOT ()\"*-+!&|:^~\\[]{}/?éß日本 \u{0}\t\n'`;,.") + ["\u{FEFF}", "\u{200B}"]
        let fragments = ["AND", "OR", "NOT", "(", ")", "\"", "*", "-", "+", "NEAR(", "col:", "^", "{", "}", "\\", "&&", "||", "!"]
        var generator = SplitMix(seed: 0x0A4E)
        var inputs: [String] = fragments + fragments.map { "x \($0) y" }
        for _ in 0..<4000 {
            let length = Int(generator.next() % 24)
            var s = ""
            for _ in 0..<length {
                if generator.next() % 4 == 0 {
                    s += fragments[Int(generator.next() % UInt64(fragments.count))] + " "
                } else {
                    s.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
                }
            }
            inputs.append(s)
        }
        var matched = 0
        for input in inputs {
            let parsed: SearchQuery
            do {
                parsed = try parser.parse(input)
            } catch {
                continue
            }
            guard case .match(let expression, let exclusion) = parsed else { continue }
            matched += 1
            for fts in [expression] + (exclusion.map { [$0] } ?? []) {
                do {
                    _ = try db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE t MATCH ?", arguments: [fts]) }
                } catch {
                    Issue.record("\(input.debugDescription) → \(fts.debugDescription): \(error)")
                }
            }
        }
        #expect(matched > 1000, "the generator produced too few searchable queries")
    }
}
