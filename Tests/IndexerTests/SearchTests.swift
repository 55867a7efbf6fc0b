import Foundation
import GRDB
import TestSupport
import Testing

@testable import Indexer
@testable import Repository

@Suite struct RankingTests {
    /// The item's own name weighs more than a word somewhere in another item's body.
    @Test func aNameMatchOutranksABodyMatch() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("river-notes.txt", text: "Notes on river ecology and a passing zebrafish mention.", owner: owner)
        try await f.put("zebrafish.txt", text: "Notes on laboratory animals in general.", owner: owner)
        try await f.extractAll()
        #expect(try await f.names("zebrafish") == ["zebrafish.txt", "river-notes.txt"])
    }

    /// bm25: a short text about the word beats a long text that mentions it once.
    @Test func aFocusedTextOutranksAPassingMention() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let filler = Array(repeating: "general remarks about the course and its reading list", count: 40).joined(separator: " ")
        try await f.put("long.txt", text: filler + " mitochondria " + filler, owner: owner)
        try await f.put("focused.txt", text: "Mitochondria: what mitochondria do, and why mitochondria matter.", owner: owner)
        try await f.extractAll()
        #expect(try await f.names("mitochondria") == ["focused.txt", "long.txt"])
    }

    @Test func stemmingAndFoldingFindOtherWordForms() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("a.txt", text: "Three lectures on the café crème economy.", owner: owner)
        try await f.extractAll()
        #expect(try await f.names("lecture") == ["a.txt"])
        #expect(try await f.names("creme cafe") == ["a.txt"])
        #expect(try await f.names("econom*") == ["a.txt"])
    }

    @Test func aPhraseNeedsItsWordsTogether() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("together.txt", text: "the cell membrane is thin", owner: owner)
        try await f.put("apart.txt", text: "the membrane of each cell is thin", owner: owner)
        try await f.extractAll()
        #expect(try await f.names("\"cell membrane\"") == ["together.txt"])
        #expect(Set(try await f.names("cell membrane")) == ["together.txt", "apart.txt"])
        // An exclusion removes items that have the word anywhere: here, in the name.
        #expect(try await f.names("cell -apart") == ["together.txt"])
        #expect(try await f.names("cell -thin").isEmpty)
    }

    /// The search's own ranking function scores every row exactly as FTS5's `bm25()` does,
    /// whether it is told the match count (one phrase) or counts each phrase itself.
    @Test func theRankFunctionAgreesWithFTS5sBM25() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        var random = SplitMix(seed: 17)
        let words = ["cell", "membrane", "protein", "river", "delta", "sediment", "theory", "proof"]
        for n in 0..<40 {
            let length = 5 + Int(random.next() % 60)
            let text = (0..<length).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
            try await f.put("doc-\(n).txt", text: text, owner: owner)
        }
        try await f.extractAll()
        let weights = SearchIndexSchema.bodyRankWeights.map { String($0) }.joined(separator: ", ")
        for expression in ["\"cell\"", "\"cell membrane\"", "\"pro\" *", "\"river\" AND \"delta\"", "\"theory\" OR \"proof\""] {
            try await f.index.database.read { db in
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM bodyText WHERE bodyText MATCH ?", arguments: [expression])!
                #expect(count > 0)
                let rows = try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT bm25(bodyText, \(weights)), \(RankFunction.name)(bodyText, ?, \(weights)), \(RankFunction.name)(bodyText, NULL, \(weights)) FROM bodyText WHERE bodyText MATCH ?"),
                    arguments: [count, expression])
                #expect(rows.count == count)
                for row in rows {
                    let expected: Double = row[0]
                    #expect(abs((row[1] as Double) - expected) < 1e-9, "\(expression)")
                    #expect(abs((row[2] as Double) - expected) < 1e-9, "\(expression)")
                }
            }
        }
    }

    /// The search's snippet function: a short text comes back whole, exactly as FTS5's own
    /// `snippet()` gives it; a long one as a window of 24 tokens of the original text around
    /// its matches, each phrase marked as one span, with ellipses where text was cut.
    @Test func snippetsShowTheMatchesInAWindowOfTheOriginalText() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let short = "The cell membrane, thin; and the cell's wall."
        try await f.put("short.txt", text: short, owner: owner)
        let words = (0..<300).map { "word\($0)" }
        var long = words
        long[150] = "quasar"
        long[152] = "nebula"
        long[290] = "quasar"
        long[40] = "pulsar"
        long[41] = "remnant"
        try await f.put("long.txt", text: long.joined(separator: " ") + ".", owner: owner)
        try await f.extractAll()
        func both(_ expression: String) async throws -> [(String, String)] {
            try await f.index.database.read { db in
                try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT snippet(bodyText, -1, '[', ']', '…', 24), \(SnippetFunction.name)(bodyText, '[', ']', '…', 24) FROM bodyText WHERE bodyText MATCH ?"),
                    arguments: [expression]
                ).map { ($0[0], $0[1]) }
            }
        }
        for expression in ["\"cell\"", "\"cell membrane\"", "\"thin\" AND \"wall\"", "\"membran\" *"] {
            for (theirs, ours) in try await both(expression) {
                #expect(ours == theirs, "\(expression)")
            }
        }
        let quasar = try #require(try await both("\"quasar\" AND \"nebula\"").first?.1)
        #expect(quasar.hasPrefix("…") && quasar.hasSuffix("…"))
        #expect(quasar.contains("[quasar] word151 [nebula]"))
        let plain = quasar.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "").trimmingCharacters(in: ["…"])
        #expect(plain.split(separator: " ").count == 24)
        #expect(long.joined(separator: " ").contains(plain))
        let phrase = try #require(try await both("\"pulsar remnant\"").first?.1)
        #expect(phrase.contains("[pulsar remnant]"))
        // A page that is nothing but matches: the first window, every token marked.
        try await f.put("echo.txt", text: Array(repeating: "echo", count: 5_000).joined(separator: " "), owner: owner)
        try await f.extractAll()
        let echo = try #require(try await both("\"echo\"").first?.1)
        #expect(echo == Array(repeating: "[echo]", count: 24).joined(separator: " ") + "…")
        // A window that reaches the end keeps the text after the last token.
        let end = try #require(try await both("\"word299\"").first?.1)
        #expect(end.hasSuffix("[word299]."))
        #expect(end.hasPrefix("…"))
    }

    @Test func pdfHitsCarryTheirPageNumbersAndMarkedSnippets() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("three.pdf", data: try Data(contentsOf: URL(fileURLWithPath: CorpusFiles.golden("three-pages.pdf"))), owner: owner)
        try await f.put("page.html", text: "<html><body><p>A zebrafish &lt;script&gt; note</p></body></html>", owner: owner)
        try await f.extractAll()
        let results = try await f.search("zebrafish")
        #expect(results.total == 2)
        let pdf = try #require(results.hits.first { $0.pages == [3] })
        #expect(pdf.snippetHTML?.contains("<b>Zebrafish</b>") == true)
        let html = try #require(results.hits.first { $0.itemID != pdf.itemID })
        #expect(html.pages.isEmpty)
        #expect(html.snippetHTML == "A <b>zebrafish</b> &lt;script&gt; note")
        #expect(try await f.search("mitochondria").hits.map(\.pages) == [[2]])
    }
}

@Suite struct VisibilityTests {
    /// The catalog keeps up to four grantees of an item beside its entry; a fifth and sixth
    /// still count.
    @Test func everyGranteeOfAWidelySharedItemFindsIt() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        var readers: [User] = []
        for n in 0..<6 { readers.append(try await f.user("reader\(n)")) }
        let outsider = try await f.user("outsider")
        let item = try await f.put("shared.txt", text: "pulsar notes", owner: owner, visibility: .private)
        try await f.extractAll()
        for reader in readers {
            #expect(try await f.search("pulsar", as: reader).total == 0)
            try await f.grant(item, to: reader.id)
        }
        for reader in [owner] + readers {
            #expect(try await f.names("pulsar", as: reader) == ["shared.txt"], "\(reader.loginName)")
        }
        #expect(try await f.search("pulsar", as: outsider).total == 0)
        #expect(try await f.search("pulsar").total == 0)
    }

    /// Tag counts come from the catalog's compact tag lanes, and from the entry for an item
    /// with more tags than the lanes hold.
    @Test func tagFacetsCountEveryTagOfWhatIsFound() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let many = try await f.put("many.txt", text: "comet notes", owner: owner)
        let few = try await f.put("few.txt", text: "comet sketch", owner: owner)
        let hidden = try await f.put("hidden.txt", text: "comet secret", owner: owner, visibility: .private)
        try await f.put("other.txt", text: "asteroid", owner: owner)
        try await f.site.metadata.changeItemTags(itemID: many.id, add: ["a", "b", "c", "d", "e", "f"], remove: [])
        try await f.site.metadata.changeItemTags(itemID: few.id, add: ["a", "f"], remove: [])
        try await f.site.metadata.changeItemTags(itemID: hidden.id, add: ["a", "secret"], remove: [])
        try await f.extractAll()
        var request = SearchRequest(query: try QueryParser().parse("comet"), viewer: .anonymous, limit: 10)
        request.facetLimit = 50
        let facets = try await f.index.search(request).facets
        #expect(facets == [
            TagCount(tag: "a", count: 2), TagCount(tag: "f", count: 2), TagCount(tag: "b", count: 1),
            TagCount(tag: "c", count: 1), TagCount(tag: "d", count: 1), TagCount(tag: "e", count: 1),
        ])
        try await f.site.metadata.changeItemTags(itemID: many.id, add: [], remove: ["a", "b", "c"])
        #expect(try await f.index.search(request).facets == [
            TagCount(tag: "f", count: 2), TagCount(tag: "a", count: 1), TagCount(tag: "d", count: 1), TagCount(tag: "e", count: 1),
        ])
    }

    /// A catalog further behind than the change log reaches (the log is trimmed) is loaded
    /// again whole, so a change it never saw still counts.
    @Test func aCatalogBehindATrimmedLogReloadsWhole() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let item = try await f.put("report.txt", text: "nebula survey", owner: owner, visibility: .public)
        try await f.extractAll()
        #expect(try await f.search("nebula").total == 1)
        try await f.site.metadata.updateItem(id: item.id, ItemChange(visibility: .private), by: owner.id)
        // The log loses that change, and moves on by as many changes as make a reload.
        try await f.index.database.write { db in
            try db.execute(sql: "DELETE FROM searchChange")
            for _ in 0..<SearchCatalog.reloadThreshold {
                try db.execute(sql: "INSERT INTO searchChange (itemId) VALUES ('gone')")
            }
        }
        #expect(try await f.search("nebula").total == 0, "a change missing from the log was missed")
        #expect(try await f.search("nebula", as: owner).total == 1)
    }

    @Test func searchFindsOnlyWhatTheViewerMayRead() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let alice = try await f.user("alice")
        let bob = try await f.user("bob")
        let open = try await f.put("open.txt", text: "quasar public", owner: alice, visibility: .public)
        let members = try await f.put("members.txt", text: "quasar members", owner: alice, visibility: .loggedIn)
        let secret = try await f.put("secret.txt", text: "quasar secret", owner: alice, visibility: .private)
        try await f.extractAll()

        #expect(Set(try await f.names("quasar")) == ["open.txt"])
        #expect(try await f.search("quasar").total == 1)
        #expect(Set(try await f.names("quasar", as: bob)) == ["open.txt", "members.txt"])
        #expect(Set(try await f.names("quasar", as: alice)) == ["open.txt", "members.txt", "secret.txt"])
        #expect(try await f.search("secret", as: bob).total == 0, "the private item's words leak")

        // A grant shows in the very next query, and so does its removal.
        try await f.grant(secret, to: bob.id)
        #expect(try await f.search("secret", as: bob).total == 1)
        try await f.site.metadata.database.write { db in try db.execute(sql: "DELETE FROM contentGrant WHERE principalId = ?", arguments: [bob.id]) }
        #expect(try await f.search("secret", as: bob).total == 0)
        _ = (open, members)
    }

    @Test func groupGrantsReachMembersThroughNestedGroups() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let alice = try await f.user("alice")
        let carol = try await f.user("carol")
        let item = try await f.put("course.txt", text: "syllabus for the course", owner: alice, visibility: .private)
        try await f.extractAll()
        try await f.site.metadata.database.write { db in
            for id in ["physics", "physics-member"] {
                try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'group', 0, 0)", arguments: [id])
            }
            try db.execute(sql: "INSERT INTO userGroup (id) VALUES ('physics')")
            try db.execute(sql: "INSERT INTO userGroup (id, parentId, roleId) VALUES ('physics-member', 'physics', 'member')")
            try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES ('physics-member', ?, 0)", arguments: [carol.id])
            try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES ('physics', 'physics-member', 0)")
        }
        #expect(try await f.search("syllabus", as: carol).total == 0)
        try await f.grant(item, to: "physics")
        #expect(try await f.search("syllabus", as: carol).total == 1)
    }

    @Test func aSharedBlobIsExtractedOnceAndFoundAsEveryItem() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let pdf = try Data(contentsOf: URL(fileURLWithPath: CorpusFiles.golden("three-pages.pdf")))
        for i in 0..<50 {
            try await f.put("copy-\(i).pdf", data: pdf, owner: owner)
        }
        let jobs = try await f.index.claimJobs(limit: 100, lease: 60)
        #expect(jobs.count == 1)
        try await f.index.store(await f.workers.extract(jobs[0]), for: jobs[0])
        let results = try await f.search("zebrafish", limit: 100)
        #expect(results.total == 50)
        #expect(results.hits.count == 50)
        #expect(results.hits.allSatisfy { $0.pages == [3] })
    }

    @Test func renamesAndTagsAreSearchableAtOnce() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let item = try await f.put("draft.txt", text: "body words", owner: owner)
        try await f.site.metadata.database.write { db in
            try db.execute(sql: "UPDATE contentItem SET name = 'final-thesis.txt' WHERE id = ?", arguments: [item.id])
            try db.execute(sql: "INSERT INTO tag (name, createdAt) VALUES ('astronomy', 0)")
            try db.execute(sql: "INSERT INTO contentTag (itemId, tagId) SELECT ?, id FROM tag WHERE name = 'astronomy'", arguments: [item.id])
        }
        #expect(try await f.search("thesis").total == 1)
        #expect(try await f.search("draft").total == 0)
        #expect(try await f.search("astronomy").total == 1)
        try await f.site.metadata.deleteItem(id: item.id)
        #expect(try await f.search("thesis").total == 0)
    }

    @Test func pagingReturnsTheRestAndAnEmptyPagePastTheEnd() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        for i in 0..<7 { try await f.put("n\(i).txt", text: "nebula \(i)", owner: owner) }
        try await f.extractAll()
        let query = try QueryParser().parse("nebula")
        let first = try await f.index.search(SearchRequest(query: query, viewer: .anonymous, limit: 5, offset: 0))
        let second = try await f.index.search(SearchRequest(query: query, viewer: .anonymous, limit: 5, offset: 5))
        let past = try await f.index.search(SearchRequest(query: query, viewer: .anonymous, limit: 5, offset: 10))
        #expect(first.total == 7 && second.total == 7 && past.total == 7)
        #expect(first.hits.count == 5 && second.hits.count == 2 && past.hits.isEmpty)
        #expect(Set(first.hits.map(\.itemID)).isDisjoint(with: second.hits.map(\.itemID)))
        let all = try await f.index.search(SearchRequest(query: .all, viewer: .anonymous, limit: 100))
        #expect(all.total == 7)
    }
}

@Suite struct IndexMaintenanceTests {
    /// An item index from before doc-page text gains its `pages` column at the next start,
    /// without re-extracting any body: item fields and body words are found as before.
    @Test func anItemIndexWithoutDocPagesIsRebuiltAlone() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("kestrel.txt", text: "hovering falcons", owner: owner)
        try await f.extractAll()
        try await f.site.metadata.database.write { db in
            for trigger in SearchIndexSchema.itemTextTriggers { try db.execute(sql: "DROP TRIGGER \(trigger)") }
            try db.execute(sql: """
                DROP TABLE itemText;
                CREATE VIRTUAL TABLE itemText USING fts5(name, description, tags, \(SearchIndexSchema.tokenizer));
                """)
        }
        #expect(try f.index.prepare() == false)
        let columns = try await f.index.database.read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('itemText')") }
        #expect(columns == ["name", "description", "tags", "pages"])
        #expect(try await f.index.unfinishedJobCount() == 0)
        #expect(try await f.names("kestrel", as: owner) == ["kestrel.txt"])
        #expect(try await f.names("falcons", as: owner) == ["kestrel.txt"])
        try await f.put("merlin.txt", text: "small falcons", owner: owner)
        try await f.extractAll()
        #expect(try await f.names("merlin", as: owner) == ["merlin.txt"])
    }

    /// Warming up (catalog and reader connections) beside a burst of searches neither
    /// blocks them nor changes what they find.
    @Test(.timeLimit(.minutes(1))) func warmingUpBesideSearchesBlocksNothing() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        for n in 0..<30 { try await f.put("doc-\(n).txt", text: "shared word and number \(n)", owner: owner) }
        try await f.extractAll()
        let expected = try await f.search("shared").total
        #expect(expected == 30)
        try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                try await f.index.warmUp()
                return nil
            }
            for _ in 0..<8 { group.addTask { try await f.search("shared").total } }
            for try await total in group {
                if let total { #expect(total == expected) }
            }
        }
        try await f.index.warmUp()
        #expect(try await f.search("number").total == 30)
    }

    /// A scan that turns out long hands the far half of the rows ahead to another reader;
    /// together they find every matching row once, in order.
    @Test func aLongScanSplitAcrossTwoReadersFindsEveryRowOnce() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        for n in 0..<120 {
            try await f.put("doc-\(n).txt", text: "common words in document \(n)" + (n % 3 == 0 ? " and a rarer one" : ""), owner: owner)
        }
        try await f.extractAll()
        let helper = SQLiteSearchIndex.ScanHelper(database: f.index.database, gate: f.index.readGate)
        for expression in ["\"common\"", "\"rarer\"", "\"common words\""] {
            let (expected, split) = try await f.index.database.read { db in
                let expected = try SQLiteSearchIndex.rowIDs(SQLiteSearchIndex.matchStatements[1], expression, in: db)
                let below = try Int64.fetchOne(db, sql: "SELECT max(number) + 1 FROM blobText")! << SearchIndexSchema.pageBits
                return (expected, try SQLiteSearchIndex.bodyRowIDs(expression, below: below, helper: helper, splitAfter: 10, in: db))
            }
            #expect(split.split)
            #expect(split.rows == expected, "\(expression)")
            #expect(expected.count >= 40)
        }
    }

    /// The full-text tables are only ever asked for their matches: visibility is decided per
    /// hit in the catalog, never by handing FTS5 a `rowid IN (subquery)` filter, which would
    /// turn it into one lookup per readable row.
    @Test func theFullTextMatchDrivesTheQueryPlan() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        for statement in SQLiteSearchIndex.matchStatements {
            let plan = try await f.site.metadata.database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement, arguments: ["\"x\""]).map { $0["detail"] as String }
            }
            // FTS5 names its plan in the index string: `M` for a MATCH, `=` for a rowid lookup.
            #expect(plan.count == 1 && plan[0].hasPrefix("SCAN") && plan[0].contains("VIRTUAL TABLE INDEX"), "plan: \(plan)")
            #expect(plan.allSatisfy { $0.contains(":M") && !$0.contains("=") }, "plan: \(plan)")
        }
    }

    @Test func aNewIndexFormatRebuildsEverything() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        try await f.put("a.txt", text: "pulsar timing", owner: owner)
        try await f.extractAll()
        #expect(try await f.search("pulsar").total == 1)
        try await f.site.metadata.database.write { db in
            try db.execute(sql: "UPDATE indexSetting SET value = '0' WHERE key = 'formatVersion'")
        }
        #expect(try f.index.prepare())
        #expect(try await f.index.unfinishedJobCount() == 1)
        #expect(try await f.search("a.txt").total == 1, "item fields come back at once")
        #expect(try await f.search("timing").total == 0)
        try await f.extractAll()
        #expect(try await f.search("timing").total == 1)
        #expect(try f.index.prepare() == false)
    }

    @Test func gcRemovesTheTextOfARemovedBlob() async throws {
        let f = try await SearchFixture()
        defer { f.cleanUp() }
        let owner = try await f.user("owner")
        let item = try await f.put("a.txt", text: "magnetar flare", owner: owner)
        try await f.extractAll()
        try await f.site.metadata.deleteItem(id: item.id)
        _ = try await f.site.collectGarbage()
        let rows = try await f.site.metadata.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM bodyText") }
        #expect(rows == 0)
        #expect(try await f.index.extraction(of: item.blobID!) == nil)
    }
}
