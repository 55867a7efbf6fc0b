import Foundation
import GRDB
import TestSupport
import Testing

@testable import Indexer
@testable import Repository

@Suite struct PairIndexTests {
    /// The pair tokenizer emits a token for each two adjacent words of its list (after the
    /// body's own folding and stemming), and nothing else; a query phrase becomes one token.
    @Test func thePairTokenizerEmitsAdjacentCommonWordsOnly() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let (document, query, none) = try await f.index.database.read { db in
            let tokenizer = try db.makeTokenizer(
                FTS5TokenizerDescriptor(components: [PairTokenizer.name, "of the"] + PairIndex.baseTokenizer))
            return (
                try tokenizer.tokenize(document: "The cat of THE hat; of... the Théâtre of the").map(\.token),
                try tokenizer.tokenize(query: "of the").map(\.token),
                try tokenizer.tokenize(document: "the cat of").map(\.token)
            )
        }
        #expect(document == ["of the", "of the", "of the"])
        #expect(query == ["of the"])
        #expect(none == [])
    }

    /// Once the body has enough pages, the common words are chosen and every phrase of two of
    /// them is answered from the pairs: exactly the items whose text has the phrase, for each
    /// viewer, through re-extraction and deletion, with the pair index intact throughout.
    @Test func phrasesOfCommonWordsAreFoundExactlyThroughThePairs() async throws {
        let f = try await SearchFixture(pairMinimumPages: 40)
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        var random = SplitMix(seed: 11)
        let common = ["alpha", "beta", "gamma", "delta"]
        var texts: [String: [String]] = [:]
        var visibility: [String: Visibility] = [:]
        var items: [String: ContentItem] = [:]
        for n in 0..<60 {
            let words = (0..<Int.random(in: 20...60, using: &random)).map { _ in
                Bool.random(using: &random) ? common.randomElement(using: &random)! : "w\(Int.random(in: 0..<5000, using: &random))"
            }
            let name = "doc\(n).txt"
            texts[name] = words
            visibility[name] = Bool.random(using: &random) ? .public : .private
            items[name] = try await f.put(name, text: words.joined(separator: " ") + ".", owner: owner, visibility: visibility[name]!)
        }
        try await f.extractAll()
        let chosen = try await f.index.database.read { db in try PairIndex.words(in: db) }
        #expect(Set(chosen ?? []) == Set(common))

        func check(_ phrases: [[String]], pairs: Bool) async throws {
            for phrase in phrases {
                let expression = "\"\(phrase.joined(separator: " "))\""
                let covered = try await f.index.database.read { db in try PairIndex.covers(expression, in: db) }
                #expect(covered == pairs, "\(expression)")
                for user in [owner, nil] {
                    let expected = Set(texts.filter { name, words in
                        (user != nil || visibility[name] == .public)
                            && words.indices.dropLast(phrase.count - 1).contains { Array(words[$0..<($0 + phrase.count)]) == phrase }
                    }.keys)
                    let results = try await f.search(expression, as: user, limit: 100)
                    var names = Set<String>()
                    for hit in results.hits { names.insert(try await f.site.metadata.item(id: hit.itemID)?.name ?? "?") }
                    #expect(names == expected, "\(expression) as \(user?.loginName ?? "anonymous")")
                    #expect(results.total == expected.count)
                }
            }
        }
        func intact() async throws {
            try await f.index.database.write { db in
                try db.execute(sql: "INSERT INTO bodyPairs (bodyPairs) VALUES ('integrity-check')")
            }
        }
        let pairs = [["alpha", "beta"], ["beta", "alpha"], ["gamma", "gamma"], ["delta", "alpha"]]
        try await check(pairs, pairs: true)
        try await check([["alpha", "beta", "gamma"], ["alpha", "w1"]], pairs: false)
        try await intact()

        // Every blob extracted again (its rows replaced), and a third of the items deleted.
        try await f.site.metadata.database.write { db in try db.execute(sql: "UPDATE extractionJob SET state = 'pending'") }
        try await f.extractAll()
        for name in texts.keys.sorted().prefix(20) {
            try await f.site.metadata.deleteItem(id: items[name]!.id)
            texts[name] = nil
        }
        _ = try await f.site.collectGarbage()
        try await intact()
        try await check(pairs, pairs: true)
    }

    /// Below the threshold, no words are chosen and phrases go to the body index alone.
    @Test func aSmallIndexHasNoPairs() async throws {
        let f = try await SearchFixture(pairMinimumPages: 40)
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("a.txt", text: "alpha beta alpha beta", owner: owner)
        try await f.extractAll()
        let (words, table) = try await f.index.database.read { db in (try PairIndex.words(in: db), try PairIndex.exists(in: db)) }
        #expect(words == nil)
        #expect(!table)
        #expect(try await f.search("\"alpha beta\"").total == 1)
    }

    /// A site opened without the index's connection set-up cannot hold the pair index (a
    /// blob's deletion would fail): preparing the index says so instead.
    @Test func anIndexOverConnectionsWithoutItsSetUpRefusesToStart() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-pairs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let site = try await Site.open(dataDirectory: root, passwordHasher: PasswordHasher(costExponent: 10))
        let error = #expect(throws: RepositoryError.self) { try SQLiteSearchIndex(metadata: site.metadata).prepare() }
        #expect("\(error!)".contains("prepareDatabase"))
    }
}
