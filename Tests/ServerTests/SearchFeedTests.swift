import Foundation
import GRDB
import Indexer
import Repository
import Server
import Testing
import TestSupport

extension LiveServer {
    /// Waits until every upload so far is extracted and indexed.
    func extracted() async {
        await service.extraction?.idle()
    }
}

extension HTTPSession {
    /// A feed's envelope.
    func feed(_ path: String, _ query: [(String, String)] = []) async throws -> [String: Any] {
        let answer = try await get(HTTPSession.target(path, query))
        guard answer.status == 200 else { throw POSIXError(.EIO) }
        return answer.object
    }
}

/// The ids, total and tag counts of a feed's envelope.
struct FeedContent: Equatable, CustomStringConvertible {
    var ids: Set<String>
    var total: Int
    var facets: [String: Int]

    init(_ envelope: [String: Any]) {
        ids = Set((envelope["results"] as? [[String: Any]] ?? []).compactMap { $0["_path"] as? String })
        total = envelope["total"] as? Int ?? -1
        let fields = (envelope["facet_fields"] as? [[String: Any]])?.first?["tagname"] as? [[String: Int]] ?? []
        facets = fields.reduce(into: [:]) { counts, entry in counts.merge(entry) { a, _ in a } }
    }

    init(ids: Set<String>, facets: [String: Int]) {
        self.ids = ids
        total = ids.count
        self.facets = facets
    }

    var description: String { "\(total) \(ids.sorted()) \(facets)" }

    /// The same ids and total, for a feed that counts no tags.
    var withoutFacets: FeedContent { FeedContent(ids: ids, facets: [:]) }
}

@Suite struct SearchFeedTests {
    static let sample = PoolTests.sample

    /// The text people write in a Sakai doc's pages is searchable like an upload's, with a
    /// snippet, and an edited page is found by its new words only; an unsaved draft is not.
    @Test func aSakaiDocIsFoundByTheTextOfItsPages() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let structure = #"{"page1":{"_ref":"id7731","_order":0,"_title":"Field notes"}}"#
            let created = try await alice.post("/system/pool/createfile", [
                ("structure0", structure), ("mimeType", "x-sakai/document"), ("sakai:schemaversion", "2"),
            ])
            let id = try #require((created.object["_contentItem"] as? [String: Any])?["poolId"] as? String)
            func save(_ html: String) async throws {
                let page: [String: Any] = [
                    "id7731": [
                        "rows": ["__array__0__": ["id": "id1", "columns": ["__array__0__": ["width": 1, "elements": "id2"]]]],
                        "id2": ["htmlblock": ["content": html]],
                        "autosave": ["id2": ["htmlblock": ["content": "<p>An unsaved draftword.</p>"]]],
                    ]
                ]
                let content = String(decoding: try JSONSerialization.data(withJSONObject: page), as: UTF8.self)
                #expect(try await alice.post("/p/\(id)", [
                    (":operation", "import"), (":contentType", "json"), (":merge", "true"), (":replace", "true"),
                    (":replaceProperties", "true"), (":content", content),
                ]).status == 200)
            }
            func found(_ word: String) async throws -> [[String: Any]] {
                try await alice.feed("/var/search/pool/all.json", [("q", word)])["results"] as? [[String: Any]] ?? []
            }
            try await save("<p>We saw a <em>quillfeather</em> by the &lt;estuary&gt;.</p>")
            let hits = try await found("quillfeather")
            #expect(hits.map { $0["_path"] as? String } == [id])
            #expect((hits.first?["snippet"] as? String)?.contains("<b>quillfeather</b> by the &lt;estuary&gt;") == true,
                    "\(hits.first?["snippet"] ?? "none")")
            #expect(try await found("em").isEmpty, "markup is not text")
            #expect(try await found("draftword").isEmpty, "an unsaved draft is not the page")
            try await save("<p>Then a marshwren.</p>")
            #expect(try await found("quillfeather").isEmpty)
            #expect(try await found("marshwren").map { $0["_path"] as? String } == [id])
        }
    }

    /// A result's item properties are kept between searches, so every change to the item
    /// (name, description, tags, sharing, comments) must show in the very next search, and
    /// nothing of one viewer (`sakai:canmanage`) may reach another.
    @Test func aResultShowsEveryChangeToItsItemAtOnce() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let (bob, bobID) = try await server.register("bob")
            let id = try await alice.uploadOne("notes.txt", Array("The quillwort survey notes.\n".utf8))
            try await alice.setPermissions(id, "everyone")
            await server.extracted()
            func result(_ session: HTTPSession) async throws -> [String: Any] {
                let envelope = try await session.feed("/var/search/pool/all.json", [("q", "quillwort")])
                return try #require((envelope["results"] as? [[String: Any]])?.first)
            }
            for _ in 0..<2 {
                #expect(try await result(alice)["sakai:canmanage"] as? Bool == true)
                #expect(try await result(bob)["sakai:canmanage"] as? Bool == false)
            }
            #expect(try await alice.post("/p/\(id)", [("sakai:pooled-content-file-name", "survey.txt"), ("sakai:description", "field data")]).status == 200)
            var shown = try await result(bob)
            #expect(shown["sakai:pooled-content-file-name"] as? String == "survey.txt")
            #expect(shown["sakai:description"] as? String == "field data")
            #expect(try await alice.post("/p/\(id)", [(":operation", "tag"), ("key", "/tags/botany")]).status == 200)
            #expect(try await result(bob)["sakai:tags"] as? [String] == ["botany"])
            #expect(try await bob.post("/p/\(id).comments", [("comment", "Useful")]).status == 201)
            #expect(try await result(alice)["commentCount"] as? Int == 1)
            #expect(try await alice.post("/p/\(id).members.html", [(":manager", bobID)]).status == 200)
            shown = try await result(bob)
            #expect(shown["sakai:canmanage"] as? Bool == true)
            #expect((shown["sakai:pooled-content-manager"] as? [String])?.contains(bobID) == true)
        }
    }

    @Test func wordsInsideEachUploadedDocumentFindItWithASnippetAndThePDFPage() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let pdf = try Array(Data(contentsOf: Self.sample.appendingPathComponent("biology/biology-lecture-3.pdf")))
            let html = Array("<html><head><title>Field trip</title></head><body><p>We counted quandoptera by the river.</p></body></html>".utf8)
            let text = Array("Reading list: the zyxtrellium papers, then the rest.\n".utf8)
            var ids: [String: String] = [:]
            for (name, bytes) in [("lecture.pdf", pdf), ("trip.html", html), ("reading.txt", text)] {
                let id = try await alice.uploadOne(name, bytes)
                try await alice.post("/p/\(id)", [("sakai:permissions", "everyone"), ("sakai:description", "course material")])
                try await alice.setPermissions(id, "everyone")
                ids[name] = id
            }
            await server.extracted()

            let (bob, _) = try await server.register("bob")
            for (word, name) in [("mitochondria", "lecture.pdf"), ("quandoptera", "trip.html"), ("zyxtrellium", "reading.txt")] {
                let answer = try await bob.get(HTTPSession.target("/var/search/pool/all.json", [("q", word), ("items", "10")]))
                #expect(answer.status == 200)
                // The envelope's keys come in the order the UI's parsers were written against.
                let text = answer.text
                let positions = ["\"items\":", "\"results\":", "\"facet_fields\":", "\"total\":"].map { text.range(of: $0)?.lowerBound }
                #expect(positions.allSatisfy { $0 != nil } && positions.map { $0! } == positions.map { $0! }.sorted(), "\(text.prefix(80))")
                let envelope = answer.object
                #expect(envelope["total"] as? Int == 1, "\(word)")
                let result = try #require((envelope["results"] as? [[String: Any]])?.first)
                #expect(result["_path"] as? String == ids[name])
                #expect((result["snippet"] as? String)?.lowercased().contains("<b>\(word)</b>") == true, "\(result["snippet"] ?? "none")")
                if name == "lecture.pdf" { #expect(result["pages"] as? [Int] == [2]) }
            }
            // Anonymous visitors find none of them: they are for logged-in users.
            let anonymous = try await server.session().feed("/var/search/pool/all.json", [("q", "mitochondria")])
            #expect(FeedContent(anonymous).total == 0)
        }
    }

    /// The landing page's activity feed: uploads by others on items the caller may read,
    /// newest first, each with its item, the activity and who did it; the total is exact.
    @Test func theActivityFeedShowsWhatOthersDidToReadableItems() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let (bob, bobID) = try await server.register("bob")
            let open = try await alice.uploadOne("open.txt", Array("shared words".utf8))
            try await alice.setPermissions(open, "public")
            let closed = try await alice.uploadOne("closed.txt", Array("private words".utf8))
            let bobs = try await bob.uploadOne("bobs.txt", Array("bob words".utf8))
            try await bob.setPermissions(bobs, "public")

            func feed(_ session: HTTPSession, _ query: String = "items=12") async throws -> (paths: [String], total: Int?, results: [[String: Any]]) {
                let reply = try await session.get("/var/search/activity/all.json?\(query)")
                #expect(reply.status == 200)
                let results = reply.object["results"] as? [[String: Any]] ?? []
                return (results.compactMap { $0["_path"] as? String }, reply.object["total"] as? Int, results)
            }
            let anonymous = try await feed(server.session())
            #expect(anonymous.paths == [bobs, open])
            #expect(anonymous.total == 2)
            let first = try #require(anonymous.results.first)
            #expect(first["sakai:activityMessage"] as? String == "CREATED_FILE")
            #expect(first["sakai:activity-actor"] as? String == bobID)
            #expect(first["sakai:pooled-content-file-name"] as? String == "bobs.txt")
            #expect((first["who"] as? [String: Any])?["userid"] as? String == bobID)
            #expect(!String(decoding: try JSONSerialization.data(withJSONObject: anonymous.results), as: UTF8.self).contains("\"bob\""))

            #expect(try await feed(bob).paths == [open], "bob's own activity and alice's private item are left out")
            #expect(try await feed(alice).paths == [bobs])
            #expect(try await bob.post("/p/\(closed).members.html", [(":viewer", bobID)]).status == 404)
            #expect(try await alice.post("/p/\(closed).members.html", [(":viewer", bobID)]).status == 200)
            let shared = try await feed(bob)
            #expect(shared.paths == [closed, open])
            #expect(shared.total == 2)
            let second = try await feed(bob, "items=1&page=1")
            #expect(second.paths == [open])
            #expect(second.total == 2)
            // A page too far to count is refused, as on every feed.
            #expect(try await bob.get("/var/search/activity/all.json?items=25&page=\(Int.max / 2)").status == 400)
        }
    }

    /// The landing page's featured content and the tag cloud show only readable items:
    /// featured items are the described or tagged ones, the cloud counts every readable tag.
    @Test func featuredContentAndTheTagCloudShowOnlyReadableItems() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let described = try await alice.uploadOne("described.txt", Array("one".utf8))
            #expect(try await alice.post("/p/\(described)", [("sakai:description", "A described file")]).status == 200)
            try await alice.setPermissions(described, "public")
            let tagged = try await alice.uploadOne("tagged.txt", Array("two".utf8))
            #expect(try await alice.post("/p/\(tagged)", [(":operation", "tag"), ("key", "/tags/physics")]).status == 200)
            try await alice.setPermissions(tagged, "public")
            let plain = try await alice.uploadOne("plain.txt", Array("three".utf8))
            try await alice.setPermissions(plain, "public")
            let secret = try await alice.uploadOne("secret.txt", Array("four".utf8))
            #expect(try await alice.post("/p/\(secret)", [(":operation", "tag"), ("key", "/tags/secret"), ("key", "/tags/physics")]).status == 200)
            #expect(try await alice.post("/p/\(secret)", [("sakai:description", "private")]).status == 200)

            let anonymous = server.session()
            let featured = try await anonymous.get("/var/search/public/random-content.json?page=0&items=10&tag=&type=c")
            #expect(featured.status == 200)
            let paths = Set((featured.object["results"] as? [[String: Any]] ?? []).compactMap { $0["_path"] as? String })
            #expect(paths == [described, tagged])
            #expect(featured.object["total"] as? Int == 2)
            #expect((try await alice.get("/var/search/public/random-content.json?items=1").object["results"] as? [Any])?.count == 1)

            func cloud(_ session: HTTPSession) async throws -> [String: Int] {
                let reply = try await session.get("/var/search/public/tagcloud.json")
                #expect((reply.object["results"] as? [Any])?.isEmpty == true)
                let tags = ((reply.object["facet_fields"] as? [[String: Any]])?.first?["tagname"] as? [[String: Int]]) ?? []
                return tags.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
            }
            #expect(try await cloud(anonymous) == ["physics": 1])
            #expect(try await cloud(alice) == ["physics": 2, "secret": 1])
        }
    }

    /// The autosuggest and people/group search: names match by their words' beginnings, never
    /// login names or e-mail; a members-only group shows to its members only.
    @Test func peopleAndGroupsAreFoundByNameOnly() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("asmith", first: "Alice", last: "Smith", email: "alice@example.org")
            let (_, bobID) = try await server.register("bjones", first: "Bob", last: "Jones-Smith")
            let (carol, carolID) = try await server.register("cwong", first: "Carol", last: "Wong")
            try await server.site.metadata.database.write { db in
                for (id, title, visibility) in [("g-physics", "Physics 101", "public"), ("g-secret", "Secret Physics Club", "members-only")] {
                    try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'group', 0, 0)", arguments: [id])
                    try db.execute(sql: "INSERT INTO userGroup (id, title, visibility) VALUES (?, ?, ?)", arguments: [id, title, visibility])
                }
                try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES ('g-secret', ?, 0)", arguments: [carolID])
                // Members-only: the group names itself a viewer, so its members see it.
                try db.execute(sql: "INSERT INTO groupViewer (groupId, principalId) VALUES ('g-secret', 'g-secret')")
            }
            // Groups are made in the database (their API comes later); logging in again makes
            // the server forget the memberships it had kept for her.
            #expect(try await carol.post("/system/sling/formlogin", [
                ("sakaiauth:login", "1"), ("sakaiauth:un", "cwong"), ("sakaiauth:pw", "a long enough password"),
            ]).status == 200)
            func ids(_ session: HTTPSession, _ target: String) async throws -> (ids: [String], total: Int?) {
                let reply = try await session.get(target)
                #expect(reply.status == 200, "\(target)")
                let results = reply.object["results"] as? [[String: Any]] ?? []
                return (results.compactMap { ($0["rep:userId"] ?? $0["sakai:group-id"]) as? String }, reply.object["total"] as? Int)
            }
            // By last name: Jones-Smith, then Smith.
            #expect(try await ids(alice, "/var/search/usersgroups.json?q=smi&page=0&items=15").ids == [bobID, aliceID])
            #expect(try await ids(alice, "/var/search/users.json?q=smi%20AND%20ali").ids == [aliceID])
            #expect(try await ids(alice, "/var/search/users.json?q=car%20OR%20bob").ids == [bobID, carolID])
            #expect(try await ids(alice, "/var/search/users.json?q=asmith").ids.isEmpty, "login names are private")
            #expect(try await ids(alice, "/var/search/users.json?q=example").ids.isEmpty, "e-mail addresses are private")
            #expect(try await ids(alice, "/var/search/usersgroups.json?q=physics").ids == ["g-physics"])
            #expect(try await ids(carol, "/var/search/groups.json?q=physics").ids == ["g-physics", "g-secret"])
            let everyone = try await ids(carol, "/var/search/usersgroups-all.json?items=2&page=1")
            #expect(everyone.total == 5)
            #expect(everyone.ids == [carolID, "g-physics"])
            // participants: the members of a group, if the caller may see it.
            try await server.site.metadata.database.write { db in
                try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES ('g-physics-manager', 'group', 0, 0)")
                try db.execute(sql: "INSERT INTO userGroup (id, parentId, roleId, title) VALUES ('g-physics-manager', 'g-physics', 'manager', '')")
                try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES ('g-physics', ?, 0)", arguments: [bobID])
                try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES ('g-physics-manager', ?, 0)", arguments: [aliceID])
            }
            #expect(try await ids(alice, "/var/search/groupmembers-all.json?group=g-physics&sortOn=lastName").ids == [bobID, aliceID])
            #expect(try await ids(alice, "/var/search/groupmembers.json?group=g-physics&q=ali").ids == [aliceID])
            #expect(try await ids(carol, "/var/search/groupmembers-all.json?group=g-secret").ids == [carolID])
            #expect(try await alice.get("/var/search/groupmembers-all.json?group=g-secret").status == 404)
            #expect(try await alice.get("/var/search/groupmembers-all.json").status == 400)
            #expect(try await ids(alice, "/var/search/usersgroups-all.json").ids.contains("g-physics-manager") == false, "role groups are not listed")
            // "All": content, then people, then groups, one page over the three.
            let notes = try await alice.uploadOne("notes.txt", Array("physics notes".utf8))
            try await alice.setPermissions(notes, "public")
            let general = try await carol.get("/var/search/general.json?q=physics&items=10")
            let results = general.object["results"] as? [[String: Any]] ?? []
            #expect(results.compactMap { ($0["_path"] ?? $0["sakai:group-id"]) as? String } == [notes, "g-physics", "g-secret"])
            #expect(general.object["total"] as? Int == 3)
            #expect((results.first?["permissions"] as? [String: Bool]) == ["set_property": false, "read": true, "remove": false])
            #expect(results.first?["jcr:data"] as? Int == 13)
            let secondPage = try await carol.get("/var/search/general-all.json?items=2&page=1").object
            #expect((secondPage["results"] as? [[String: Any]])?.compactMap { $0["rep:userId"] as? String } == [aliceID, carolID])
            #expect(secondPage["total"] as? Int == 6)
            let alices = try await alice.get("/var/search/users.json?q=alice")
            let mine = try #require((alices.object["results"] as? [[String: Any]])?.first)
            #expect(((mine["basic"] as? [String: Any])?["elements"] as? [String: Any])?["email"] != nil, "her own e-mail shows to her")
            let seen = try await carol.get("/var/search/users.json?q=alice").text
            #expect(!seen.contains("alice@example.org") && !seen.contains("asmith"))
        }
    }

    /// 3akai-ux's person templates read `counts.contentCount` and showed "No results" when it
    /// was missing: every person map, in every feed, carries `/system/me`'s counts.
    @Test func everyPersonMapCarriesItsCounts() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice", first: "Alice", last: "Archer")
            let (bob, _) = try await server.register("bob", first: "Bob", last: "Baker")
            let id = try await alice.uploadOne("notes.txt", Array("notes".utf8))
            try await alice.setPermissions(id, "public")
            #expect(try await alice.post("/p/\(id).comments", [("comment", "mine")]).status == 201)
            func counts(_ person: [String: Any]?) -> [String: Any]? { person?["counts"] as? [String: Any] }
            let people = try await bob.feed("/var/search/users.json", [("q", "Archer")])["results"] as? [[String: Any]] ?? []
            #expect(people.count == 1 && counts(people.first)?["contentCount"] as? Int == 1)
            #expect(counts(people.first)?["contactsCount"] as? Int == 0 && counts(people.first)?["membershipsCount"] as? Int == 0)
            let all = try await bob.feed("/var/search/usersgroups-all.json")["results"] as? [[String: Any]] ?? []
            #expect(all.allSatisfy { counts($0)?["contentCount"] != nil }, "\(all)")
            let members = try await bob.get("/p/\(id).members.json").object["managers"] as? [[String: Any]]
            #expect(counts(members?.first)?["contentCount"] as? Int == 1)
            let comments = try await bob.get("/p/\(id).comments").object["comments"] as? [[String: Any]]
            #expect(counts(comments?.first)?["contentCount"] as? Int == 1)
            let me = try await bob.get("/system/me").object["profile"] as? [String: Any]
            #expect(Set(counts(me)?.keys.map { $0 } ?? []) == Set(counts(people.first)?.keys.map { $0 } ?? []), "the same shape as /system/me")
        }
    }

    @Test func aNewVersionReplacesTheSearchableText() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let id = try await alice.uploadOne("draft.txt", Array("the first draft mentions vorpalite".utf8))
            await server.extracted()
            #expect(FeedContent(try await alice.feed("/var/search/pool/all.json", [("q", "vorpalite")])).ids == [id])
            #expect(try await alice.upload([("draft.txt", Array("the second draft mentions jabberwock".utf8))], to: "/system/pool/createfile.\(id)").status == 200)
            await server.extracted()
            #expect(FeedContent(try await alice.feed("/var/search/pool/all.json", [("q", "vorpalite")])).total == 0)
            #expect(FeedContent(try await alice.feed("/var/search/pool/all.json", [("q", "jabberwock")])).ids == [id])
        }
    }

    @Test func pagingSortingAndFiltersCoverEveryItemOnce() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            var ids: [String] = []
            for n in 0..<7 {
                let id = try await alice.uploadOne("file-\(n).txt", Array("shared word number \(n)".utf8))
                try await alice.post("/p/\(id)", [(":operation", "tag"), ("key", n % 2 == 0 ? "/tags/even" : "/tags/odd")])
                ids.append(id)
            }
            await server.extracted()
            var seen: [String] = []
            for page in 0..<3 {
                let envelope = try await alice.feed(
                    "/var/search/pool/manager-viewer.json",
                    [("items", "3"), ("page", "\(page)"), ("sortOn", "filename"), ("sortOrder", "asc")])
                #expect(envelope["total"] as? Int == 7)
                #expect(envelope["items"] as? Int == 3)
                seen += (envelope["results"] as? [[String: Any]] ?? []).compactMap { $0["_path"] as? String }
            }
            #expect(seen == ids, "sorted by file name, each exactly once")
            let past = try await alice.feed("/var/search/pool/manager-viewer.json", [("items", "3"), ("page", "9")])
            #expect((past["results"] as? [Any])?.isEmpty == true && past["total"] as? Int == 7)

            let even = FeedContent(try await alice.feed("/var/search/pool/all-all.json", [("tags", "\"even\"")]))
            #expect(even.ids == Set(ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)))
            #expect(even.facets == ["even": 4])
            let everything = FeedContent(try await alice.feed("/var/search/pool/all.json", [("q", "shared")]))
            #expect(everything.facets == ["even": 4, "odd": 3])
            #expect(FeedContent(try await alice.feed("/var/search/pool/all-all.json", [("mimetype", "text/*")])).total == 7)
            #expect(FeedContent(try await alice.feed("/var/search/pool/all-all.json", [("mimetype", "application/pdf")])).total == 0)
            let invalid = try await alice.get("/var/search/pool/all.json?q=-shared")
            #expect(invalid.status == 400)
            #expect(invalid.text.contains("invalid query"))
            #expect(FeedContent(try await alice.feed("/var/search/pool/all.json", [("q", "\"unclosed")])).total == 0)
        }
    }

    /// Users in random groups, items with random visibility, grants and tags: every feed, for
    /// every user and for anonymous, must show exactly what a brute-force model says they may
    /// read, before and after the sharing changes.
    @Test(arguments: [11, 29])
    func everyFeedShowsExactlyWhatEachViewerMayRead(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        try await withServer { server in
            let vocabulary = ["alpha", "bravo", "delta", "echo", "golf", "hotel"]
            let tagNames = ["red", "green", "blue"]
            var users: [(session: HTTPSession, id: String)] = []
            for n in 0..<5 { users.append(try await server.register("user\(n)")) }
            // Groups are made in the database (their API comes later).
            var groups: [String: Set<String>] = [:]
            try await server.site.metadata.database.write { db in
                for g in 0..<3 {
                    let id = "group\(g)"
                    try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'group', 0, 0)", arguments: [id])
                    try db.execute(sql: "INSERT INTO userGroup (id) VALUES (?)", arguments: [id])
                }
            }
            for g in 0..<3 {
                let members = Set(users.map(\.id).filter { _ in random.next() % 2 == 0 })
                groups["group\(g)"] = members
                try await server.site.metadata.database.write { [members] db in
                    for member in members {
                        try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES (?, ?, 0)", arguments: ["group\(g)", member])
                    }
                }
            }
            // Every write through the server drops cached sessions, so the uploads below make
            // each session read its memberships afresh.
            var model = SharingModel(groups: groups)
            for n in 0..<24 {
                let owner = users[Int(random.next() % UInt64(users.count))]
                let words = (0..<4).map { _ in vocabulary[Int(random.next() % UInt64(vocabulary.count))] }
                let id = try await owner.session.uploadOne("doc-\(n).txt", Array(words.joined(separator: " ").utf8))
                var item = SharingModel.Item(words: words, managers: [owner.id])
                let permissions = ["public", "everyone", "private"][Int(random.next() % 3)]
                try await owner.session.setPermissions(id, permissions)
                item.visibility = permissions
                for principal in users.map(\.id) + groups.keys.sorted() where random.next() % 5 == 0 {
                    let role = random.next() % 3 == 0 ? "editor" : "viewer"
                    #expect(try await owner.session.post("/p/\(id).members.html", [(":\(role)", principal)]).status == 200)
                    if role == "editor" { item.editors.insert(principal) } else { item.viewers.insert(principal) }
                }
                for tag in tagNames where random.next() % 3 == 0 {
                    try await owner.session.post("/p/\(id)", [(":operation", "tag"), ("key", "/tags/\(tag)")])
                    item.tags.insert(tag)
                }
                model.items[id] = item
            }
            await server.extracted()

            let viewers: [(HTTPSession, String?)] = users.map { ($0.session, $0.id) } + [(server.session(), nil)]
            try await Self.compareEveryFeed(viewers, model, vocabulary: vocabulary)

            // Change the sharing of half the items, then look again at once.
            for id in model.items.keys.sorted() where random.next() % 2 == 0 {
                var item = model.items[id]!
                let manager = users.first { item.managers.contains($0.id) }!
                let permissions = ["public", "everyone", "private"][Int(random.next() % 3)]
                try await manager.session.setPermissions(id, permissions)
                item.visibility = permissions
                if let removed = item.viewers.sorted().randomElement(using: &random) {
                    try await manager.session.post("/p/\(id).members.html", [(":viewer@Delete", removed)])
                    item.viewers.remove(removed)
                }
                let added = users[Int(random.next() % UInt64(users.count))].id
                try await manager.session.post("/p/\(id).members.html", [(":viewer", added)])
                item.viewers.insert(added)
                model.items[id] = item
            }
            try await Self.compareEveryFeed(viewers, model, vocabulary: vocabulary)

            // Everyone acts now, managers or not: each may do what the rules allow and nothing
            // else, and every direct read and download answers as the model says.
            for _ in 0..<40 {
                let actor = users[Int(random.next() % UInt64(users.count))]
                let ids = model.items.keys.sorted()
                let id = ids[Int(random.next() % UInt64(ids.count))]
                let item = model.items[id]!
                let principals = model.principals(of: actor.id)
                let reads = model.readable(item, by: actor.id)
                let manages = !item.managers.isDisjoint(with: principals)
                let label = "\(actor.id) on \(id) (reads \(reads), manages \(manages))"
                switch random.next() % 4 {
                case 0:
                    let permissions = ["public", "everyone", "private"][Int(random.next() % 3)]
                    let status = try await actor.session.post("/p/\(id)", [("sakai:permissions", permissions)]).status
                    let restates = permissions == item.visibility
                    #expect(status == (!reads ? 404 : manages || (restates && !item.editors.isDisjoint(with: principals)) ? 200 : 403), "permissions: \(label) got \(status)")
                    if status == 200 { model.items[id]!.visibility = permissions }
                case 1:
                    let target = users[Int(random.next() % UInt64(users.count))].id
                    let status = try await actor.session.post("/p/\(id).members.html", [(":viewer", target)]).status
                    let allowed = manages || target == actor.id || item.visibility != "private"
                    #expect(status == (!reads ? 404 : allowed ? 200 : 403), "share with \(target): \(label) got \(status)")
                    if status == 200 { model.items[id]!.viewers.insert(target) }
                case 2:
                    let status = try await actor.session.post("/p/\(id)", [(":operation", "delete")]).status
                    #expect(status == (!reads ? 404 : manages ? 200 : 403), "delete: \(label) got \(status)")
                    if status == 200 { model.items[id] = nil }
                default:
                    for session in [actor.session, server.session()] {
                        let user: String? = session === actor.session ? actor.id : nil
                        let readable = model.readable(item, by: user)
                        let record = try await session.get("/p/\(id).json")
                        let body = try await session.get("/p/\(id)")
                        #expect(record.status == (readable ? 200 : 404) && body.status == (readable ? 200 : 404), "read: \(label)")
                        #expect(!readable || body.text == item.words.joined(separator: " "), "download: \(label)")
                        #expect(readable || !body.text.contains(item.words[0]), "a refused download leaks its text: \(label)")
                    }
                }
            }
            await server.extracted()
            try await Self.compareEveryFeed(viewers, model, vocabulary: vocabulary)
        }
    }

    /// Groups made and changed through the API, nested and in cycles, with content shared with
    /// them: every feed for every user and anonymously against the model, and again at once
    /// after random membership changes.
    @Test(arguments: [5, 41])
    func everyFeedFollowsGroupMembershipAtOnce(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        try await withServer { server in
            let vocabulary = ["alpha", "bravo", "delta", "echo", "golf", "hotel"]
            var users: [(session: HTTPSession, id: String)] = []
            for n in 0..<5 { users.append(try await server.register("member\(n)")) }
            let owner = users[0]
            var model = SharingModel(groups: [:])
            for g in 0..<4 {
                let id = "team\(g)"
                #expect(try await owner.session.post("/system/userManager/group.create.html", [(":name", id)]).status == 200)
                model.groups[id] = []
            }
            func setMembers(_ group: String, _ members: Set<String>) async throws {
                let old = model.groups[group] ?? []
                var fields: [(String, String)] = []
                for added in members.subtracting(old).sorted() { fields.append((":member", added)) }
                for removed in old.subtracting(members).sorted() { fields.append((":member@Delete", removed)) }
                guard !fields.isEmpty else { return }
                #expect(try await owner.session.post("/system/userManager/group/\(group).update.html", fields).status == 200)
                model.groups[group] = members
            }
            func randomMembers(of group: String) -> Set<String> {
                let candidates = users.dropFirst().map(\.id) + model.groups.keys.filter { $0 != group }
                return Set(candidates.filter { _ in random.next() % 3 == 0 })
            }
            for group in model.groups.keys.sorted() { try await setMembers(group, randomMembers(of: group)) }
            // A cycle, on purpose: team0 in team1 and team1 in team0.
            try await setMembers("team0", (model.groups["team0"] ?? []).union(["team1"]))
            try await setMembers("team1", (model.groups["team1"] ?? []).union(["team0"]))
            for n in 0..<16 {
                let words = (0..<4).map { _ in vocabulary[Int(random.next() % UInt64(vocabulary.count))] }
                let id = try await owner.session.uploadOne("shared-\(n).txt", Array(words.joined(separator: " ").utf8))
                var item = SharingModel.Item(words: words, managers: [owner.id])
                let group = "team\(random.next() % 4)"
                #expect(try await owner.session.post("/p/\(id).members.html", [(":viewer", group)]).status == 200)
                item.viewers.insert(group)
                model.items[id] = item
            }
            await server.extracted()
            let viewers: [(HTTPSession, String?)] = users.map { ($0.session, $0.id) } + [(server.session(), nil)]
            try await Self.compareEveryFeed(viewers, model, vocabulary: vocabulary)
            // Membership changes show in the very next search.
            for group in model.groups.keys.sorted() where random.next() % 2 == 0 {
                try await setMembers(group, randomMembers(of: group))
            }
            try await Self.compareEveryFeed(viewers, model, vocabulary: vocabulary)
        }
    }

    static func compareEveryFeed(_ viewers: [(HTTPSession, String?)], _ model: SharingModel, vocabulary: [String]) async throws {
        let queries: [(q: String, matches: ([String]) -> Bool)] = [
            ("alpha", { $0.contains("alpha") }),
            ("bravo OR delta", { $0.contains("bravo") || $0.contains("delta") }),
            ("echo golf", { $0.contains("echo") && $0.contains("golf") }),
            ("\"hotel alpha\"", { words in zip(words, words.dropFirst()).contains { $0 == ("hotel", "alpha") } }),
            ("alph*", { $0.contains("alpha") }),
        ]
        for (session, user) in viewers {
            let who = user ?? "anonymous"
            for (q, matches) in queries {
                let envelope = try await session.feed("/var/search/pool/all.json", [("q", q), ("items", "100")])
                let found = FeedContent(envelope)
                #expect(found == model.expected(for: user) { matches($0.words) }, "\(who) q=\(q)")
                // Each result's text and snippet are its own item's, which the caller may read.
                for result in envelope["results"] as? [[String: Any]] ?? [] {
                    guard let id = result["_path"] as? String, let item = model.items[id], model.readable(item, by: user) else {
                        Issue.record("\(who) q=\(q): a result the caller may not read")
                        continue
                    }
                    let snippet = (result["snippet"] as? String ?? "").lowercased()
                    let shown = Set(vocabulary.filter { snippet.contains($0) })
                    #expect(shown.isSubset(of: Set(item.words)), "\(who) q=\(q): the snippet of \(id) shows \(shown) of \(item.words)")
                }
            }
            let all = FeedContent(try await session.feed("/var/search/pool/all-all.json", [("items", "100")]))
            #expect(all == model.expected(for: user) { _ in true }, "\(who) all-all")
            let red = FeedContent(try await session.feed("/var/search/pool/all-all.json", [("items", "100"), ("tags", "\"red\"")]))
            #expect(red == model.expected(for: user) { $0.tags.contains("red") }, "\(who) tags=red")
            let library = FeedContent(try await session.feed("/var/search/pool/manager-viewer.json", [("items", "100")]))
            #expect(library == model.expected(for: user, library: user.map { [$0] } ?? []) { _ in user != nil }, "\(who) library")
            let principals = user.map { model.principals(of: $0) } ?? []
            let managed = FeedContent(try await session.feed("/var/search/pool/me/manager-all.json", [("items", "100")]))
            #expect(managed == model.expected(for: user) { item in user != nil && !item.managers.isDisjoint(with: principals) }, "\(who) manager")
            let viewed = FeedContent(try await session.feed("/var/search/pool/me/viewer-all.json", [("items", "100")]))
            #expect(viewed == model.expected(for: user) { item in user != nil && !item.viewers.isDisjoint(with: principals) }, "\(who) viewer")
            // The feeds beyond the pool: the tag cloud, "All", and the activity of others.
            let cloud = FeedContent(try await session.feed("/var/search/public/tagcloud.json", []))
            #expect(cloud.facets == model.expected(for: user) { _ in true }.facets, "\(who) tagcloud")
            let general = FeedContent(try await session.feed("/var/search/general.json", [("q", "alpha"), ("items", "100")]))
            #expect(general.ids == model.expected(for: user) { $0.words.contains("alpha") }.ids, "\(who) general")
            let activity = FeedContent(try await session.feed("/var/search/activity/all.json", [("items", "100")]))
            #expect(activity == model.expected(for: user) { item in !item.managers.contains(user ?? "") }.withoutFacets, "\(who) activity")
        }
    }
}

/// The brute-force model of who may read what.
struct SharingModel {
    struct Item {
        var words: [String]
        var managers: Set<String>
        var editors: Set<String> = []
        var viewers: Set<String> = []
        var visibility = "private"
        var tags: Set<String> = []
    }

    var groups: [String: Set<String>]
    var items: [String: Item] = [:]

    /// The user and every group they belong to, through nested groups too (stopping at
    /// cycles): a group counts when any of its members is already counted.
    func principals(of user: String) -> Set<String> {
        var found: Set<String> = [user]
        while true {
            let more = Set(groups.filter { !$0.value.isDisjoint(with: found) }.keys).subtracting(found)
            if more.isEmpty { return found }
            found.formUnion(more)
        }
    }

    func readable(_ item: Item, by user: String?) -> Bool {
        if item.visibility == "public" { return true }
        guard let user else { return false }
        if item.visibility == "everyone" { return true }
        return !item.managers.union(item.editors).union(item.viewers).isDisjoint(with: principals(of: user))
    }

    /// What a feed must show `user`: readable items that pass `filter` (and, for a library,
    /// in which one of `library` is a manager or viewer), with their tag counts.
    func expected(for user: String?, library: Set<String>? = nil, _ filter: (Item) -> Bool) -> FeedContent {
        var ids: Set<String> = []
        var facets: [String: Int] = [:]
        for (id, item) in items where readable(item, by: user) && filter(item) {
            if let library, item.managers.union(item.viewers).isDisjoint(with: library) { continue }
            ids.insert(id)
            for tag in item.tags { facets[tag, default: 0] += 1 }
        }
        return FeedContent(ids: ids, facets: facets)
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
