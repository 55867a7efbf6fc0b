import Foundation
import Testing
import TestSupport

/// The generic node store with Sling's POST semantics, and who may write and read where.
@Suite struct NodeStoreTests {
    @Test func importMergesReplacesAndRemovesTrees() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("kate")
            let path = "/~\(id)/private/privspace"
            func importJSON(_ json: String, _ extra: [(String, String)] = []) async throws -> Int {
                try await browser.post(path, [(":operation", "import"), (":contentType", "json"), (":content", json)] + extra).status
            }
            #expect(try await importJSON(#"{"title":"one","page":{"a":"1","widget":{"w":"x"}},"keep":"k"}"#) == 201)
            #expect(try await importJSON(#"{"title":"two","page":{"b":"2"}}"#) == 200)
            var tree = try await browser.get("\(path).infinity.json").object
            #expect(tree["title"] as? String == "one", "a merge keeps existing properties")
            let page = try #require(tree["page"] as? [String: Any])
            #expect(page["a"] as? String == "1" && page["b"] as? String == "2" && page["widget"] != nil, "children merge")

            #expect(try await importJSON(#"{"title":"three"}"#, [(":replaceProperties", "true")]) == 200)
            tree = try await browser.get("\(path).infinity.json").object
            #expect(tree["title"] as? String == "three" && tree["keep"] as? String == "k" && tree["page"] != nil)

            #expect(try await importJSON(#"{"fresh":{"x":"y"}}"#, [(":removeTree", "true")]) == 200)
            tree = try await browser.get("\(path).infinity.json").object
            #expect(tree["page"] == nil && tree["fresh"] != nil, "removeTree drops the children first")
            #expect(tree["title"] as? String == "three", "…but not the node's own properties")

            #expect(try await importJSON(#"{"fresh@Delete":true}"#) == 200)
            #expect((try await browser.get("\(path).infinity.json").object)["fresh"] == nil)

            #expect(try await browser.post(path, [(":operation", "import"), (":content", "{}")]).status == 412)
            #expect(try await importJSON("{not json") == 400)
            #expect(try await importJSON("[1,2]") == 400)
        }
    }

    @Test func arraysAndJSONStringsAreKeptExactly() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("liam")
            let path = "/~\(id)/public/pubspace"
            let structure = #"{"page1":{"_title":"My \"quoted\" page","_order":0,"_view":"[\"everyone\"]"}}"#
            let content = #"{"structure0":"# + Self.jsonString(structure) + #","rows":{"__array__0__":{"id":"a"},"__array__1__":{"id":"b"}},"list":[1,"two",true]}"#
            #expect(try await browser.post(path, [(":operation", "import"), (":contentType", "json"), (":content", content)]).status == 201)
            let tree = try await browser.get("\(path).infinity.json").object
            #expect(tree["structure0"] as? String == structure)
            let rows = try #require(tree["rows"] as? [String: Any])
            #expect((rows["__array__1__"] as? [String: Any])?["id"] as? String == "b")
            let list = try #require(tree["list"] as? [Any])
            #expect(list.count == 3 && list[0] as? Int == 1 && list[1] as? String == "two" && list[2] as? Bool == true)
        }
    }

    static func jsonString(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), as: UTF8.self)
            .dropFirst().dropLast().description
    }

    @Test func postedPropertiesFollowSlingRules() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("mona")
            let path = "/~\(id)/public/authprofile/userprogress"
            let set = try await browser.post("\(path).json", [
                ("done", "true"), ("done@TypeHint", "Boolean"), ("steps", "3"), ("steps@TypeHint", "Long"),
                ("viewers", "everyone"), ("viewers", "anonymous"), ("single", "x"), ("single@TypeHint", "String[]"),
                ("gone", "soon"), (":ignored", "no"), ("_charset_", "utf-8"), ("_path", "/elsewhere"),
            ])
            #expect(set.status == 201, "a POST that creates a node answers 201")
            var node = try await browser.get("\(path).json").object
            #expect(node["done"] as? Bool == true && node["steps"] as? Int == 3)
            #expect(node["viewers"] as? [String] == ["everyone", "anonymous"] && node["single"] as? [String] == ["x"])
            #expect(node[":ignored"] == nil && node["_charset_"] == nil && node["_path"] as? String == path)
            #expect(try await browser.post(path, [("gone@Delete", "")]).status == 200)
            node = try await browser.get("\(path).json").object
            #expect(node["gone"] == nil && node["done"] as? Bool == true)
            #expect(try await browser.post(path, [("steps", "many"), ("steps@TypeHint", "Long")]).status == 400)

            #expect(try await browser.post(path, [(":operation", "delete")]).status == 200)
            #expect(try await browser.get("\(path).json").status == 404)
            #expect(try await browser.post(path, [(":operation", "delete")]).status == 404)
        }
    }

    @Test func depthSelectorsLimitTheRendering() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("nora")
            let path = "/~\(id)/public/deep"
            _ = try await browser.post(path, [(":operation", "import"), (":contentType", "json"), (":content", #"{"a":{"b":{"c":{"v":"1"}}}}"#)])
            let zero = try await browser.get("\(path).json").object
            #expect(zero["a"] == nil)
            let one = try await browser.get("\(path).1.json").object
            #expect((one["a"] as? [String: Any])?["b"] == nil)
            let all = try await browser.get("\(path).tidy.infinity.json").object
            #expect((((all["a"] as? [String: Any])?["b"] as? [String: Any])?["c"] as? [String: Any])?["v"] as? String == "1")
        }
    }

    @Test func aDottedNameResolvesThroughTheLongestExistingPath() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("omar")
            let dotted = "/~\(id)/public/report.v2.pdf"
            // A POST's own path loses its extension (Sling's rule), so the dotted name is made by
            // an import into its parent.
            let imported = try await browser.post("/~\(id)/public", [
                (":operation", "import"), (":contentType", "json"), (":content", #"{"report.v2.pdf":{"title":"Report"}}"#),
            ])
            #expect(imported.status == 200)
            let node = try await browser.get("\(dotted).json").object
            #expect(node["_path"] as? String == dotted && node["title"] as? String == "Report")
            let deeper = try await browser.get("\(dotted).infinity.json").object
            #expect(deeper["_path"] as? String == dotted)
            #expect(try await browser.get("/~\(id)/public/report.json").status == 404)
        }
    }

    @Test func usersWriteOnlyUnderTheirOwnHomeAndPrivateAreasStayPrivate() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("pia")
            let (bob, _) = try await server.register("quinn")
            #expect(try await alice.post("/~\(aliceID)/public/note", [("text", "hello")]).status == 201)
            #expect(try await alice.post("/~\(aliceID)/private/diary", [("text", "secret")]).status == 201)
            #expect(try await bob.post("/~\(aliceID)/public/note", [("text", "defaced")]).status == 403)
            #expect(try await bob.post("/~\(aliceID)/public/note", [(":operation", "delete")]).status == 403)
            #expect(try await bob.post("/~\(aliceID)/public/new", [(":operation", "import"), (":contentType", "json"), (":content", "{}")]).status == 403)
            #expect((try await bob.get("/~\(aliceID)/public/note.json").object)["text"] as? String == "hello")
            #expect(try await bob.get("/~\(aliceID)/private/diary.json").status == 404)
            #expect(try await server.session().get("/~\(aliceID)/private/diary.json").status == 404)
            #expect(try await bob.post("/tags/anything", [("a", "b")]).status == 403)
            #expect(try await alice.post("/~\(aliceID)/private", [(":operation", "delete")]).status == 403, "a home's areas stay")
            #expect(try await alice.post("/~\(aliceID)", [(":operation", "delete")]).status == 403)
            #expect(try await alice.get("/~\(aliceID)/private/diary.json").status == 200)

            // Alice lets everyone write one node, and hides her public space from anonymous.
            #expect(try await bob.post("/~\(aliceID)/public/note.modifyAce.html", [("principalId", "everyone"), ("privilege@jcr:write", "granted")]).status == 403)
            #expect(try await alice.post("/~\(aliceID)/public/shared.modifyAce.html", [("principalId", "everyone"), ("privilege@jcr:write", "granted")]).status == 200)
            #expect(try await bob.post("/~\(aliceID)/public/shared", [("text", "from bob")]).status == 201)
            #expect(try await alice.post("/~\(aliceID).modifyAce.html", [("principalId", "anonymous"), ("privilege@jcr:read", "denied")]).status == 200)
            #expect(try await server.session().get("/~\(aliceID)/public/note.json").status == 404)
            #expect(try await bob.get("/~\(aliceID)/public/note.json").status == 200)
            let acl = try await alice.get("/~\(aliceID).acl.json").object
            #expect((acl["anonymous"] as? [String: Any])?["denied"] as? [String] == ["jcr:read"])
        }
    }

    @Test func taggingANodeCreatesTheTag() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("rita")
            let path = "/~\(id)/public/authprofile"
            #expect(try await browser.post(path, [(":operation", "tag"), ("key", "/tags/physics"), ("key", "/tags/notes")]).status == 200)
            #expect(try await browser.get("/tags/physics.json").object["sakai:tag-name"] as? String == "physics")
            #expect(try await browser.post(path, [(":operation", "deletetag"), ("key", "/tags/notes")]).status == 200)
            #expect(try await browser.post(path, [(":operation", "tag")]).status == 400)
            #expect(try await server.session().get(path + ".profile.json").status == 200)
            // A tag names one node under /tags, made by the server: never a deeper one, and
            // the tag's node takes nothing from the caller but its name.
            #expect(try await browser.post(path, [(":operation", "tag"), ("key", "/tags/physics/owned")]).status == 400)
            #expect(try await browser.get("/tags/physics/owned.json").status == 404)
            #expect(try await browser.post("/tags/physics", [("sakai:tag-name", "defaced")]).status == 403)
            #expect(try await browser.get("/tags/physics.json").object["sakai:tag-name"] as? String == "physics")
        }
    }
}
