import Foundation
import GRDB
import Indexer
import Repository
import Server
import Testing
import TestSupport

/// A multipart/form-data body as a browser sends it.
struct MultipartBody {
    static let boundary = "----OakenFormBoundary7MA4YWxkTrZu0gW"
    var bytes: [UInt8] = []

    mutating func file(_ field: String, name: String, type: String = "application/octet-stream", data: [UInt8]) {
        bytes += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(name)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        bytes += data
        bytes += Array("\r\n".utf8)
    }

    mutating func field(_ name: String, _ value: String) {
        bytes += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    func closed() -> [UInt8] { bytes + Array("--\(Self.boundary)--\r\n".utf8) }

    static let contentType = "multipart/form-data; boundary=\(boundary)"
}

extension HTTPSession {
    /// Uploads files as the UI's upload dialog does and returns the 201 answer's items by name.
    func upload(_ files: [(name: String, data: [UInt8])], to target: String = "/system/pool/createfile") async throws -> HTTPResult {
        var body = MultipartBody()
        for file in files { body.file("fileData", name: file.name, data: file.data) }
        return try await send("POST", target, headers: [("Content-Type", MultipartBody.contentType)], body: body.closed())
    }

    /// Uploads one file and returns its pool id.
    func uploadOne(_ name: String, _ data: [UInt8]) async throws -> String {
        let answer = try await upload([(name, data)])
        guard answer.status == 201, let entry = answer.object[name] as? [String: Any], let id = entry["poolId"] as? String else {
            throw POSIXError(.EIO)
        }
        return id
    }

    /// Sets an item's visibility the way the UI's `setFilePermissions` does.
    func setPermissions(_ id: String, _ permissions: String) async throws {
        let (members, everyone, anonymous): ([(String, String)], String, String)
        switch permissions {
        case "public": (members, everyone, anonymous) = ([(":viewer", "everyone"), (":viewer", "anonymous")], "granted", "granted")
        case "everyone": (members, everyone, anonymous) = ([(":viewer", "everyone"), (":viewer@Delete", "anonymous")], "granted", "denied")
        default: (members, everyone, anonymous) = ([(":viewer@Delete", "anonymous"), (":viewer@Delete", "everyone")], "denied", "denied")
        }
        try await post("/p/\(id).members.html", members)
        try await post("/p/\(id).modifyAce.html", [("principalId", "everyone"), ("privilege@jcr:read", everyone)])
        try await post("/p/\(id).modifyAce.html", [("principalId", "anonymous"), ("privilege@jcr:read", anonymous)])
    }
}

@Suite struct PoolTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpus/sample")

    @Test func theUploadChainStoresAPrivateItemThatTheUIThenDescribesTagsAndPublishes() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let uploaded = try await alice.upload([("lecture notes.txt", Array("Mitochondria make energy.\n".utf8))])
            #expect(uploaded.status == 201)
            #expect(uploaded.header("Content-Type")?.hasPrefix("text/plain") == true)
            let entry = try #require(uploaded.object["lecture notes.txt"] as? [String: Any])
            let id = try #require(entry["poolId"] as? String)
            let item = try #require(entry["item"] as? [String: Any])
            #expect(item["_path"] as? String == id)
            #expect(item["sakai:pooled-content-file-name"] as? String == "lecture notes.txt")
            #expect(item["sakai:pooled-content-manager"] as? [String] == [aliceID])
            #expect(item["_mimeType"] as? String == "text/plain")
            #expect(item["_length"] as? Int == 26)
            #expect(item["sakai:permissions"] as? String == "private")

            // Private until the UI opens it up: another user and anonymous see nothing.
            let (bob, _) = try await server.register("bob")
            #expect(try await bob.get("/p/\(id).infinity.json").status == 404)
            #expect(try await server.session().get("/p/\(id)").status == 404)

            // The UI's follow-up batch: describe, save the first version, tag, publish.
            let requests: [[String: Any]] = [
                ["url": "/p/\(id)", "method": "POST", "parameters": [
                    "sakai:pooled-content-file-name": "Lecture notes.txt", "sakai:description": "Cell biology",
                    "sakai:permissions": "public", "sakai:copyright": "creativecommons", "sakai:allowcomments": "true",
                    "sakai:showcomments": "true", "sakai:fileextension": ".txt"]],
                ["url": "/p/\(id).save.json", "method": "POST"],
            ]
            let batch = try await alice.post("/system/batch", [("requests", String(decoding: try JSONSerialization.data(withJSONObject: requests), as: UTF8.self))])
            let results = try #require(batch.object["results"] as? [[String: Any]])
            #expect(results.map { $0["status"] as? Int } == [200, 200])
            let saved = try #require(try JSONSerialization.jsonObject(with: Data((results[1]["body"] as? String ?? "").utf8)) as? [String: Any])
            #expect(saved["versionName"] as? String == "1.0")
            #expect(saved["_path"] as? String == id)
            #expect(try await alice.post("/p/\(id)", [(":operation", "tag"), ("key", "/tags/biology"), ("key", "/tags/cells")]).status == 200)
            try await alice.setPermissions(id, "public")

            let anonymous = server.session()
            let read = try await anonymous.get("/p/\(id).infinity.json")
            #expect(read.status == 200)
            #expect(read.object["sakai:pooled-content-file-name"] as? String == "Lecture notes.txt")
            #expect(read.object["sakai:description"] as? String == "Cell biology")
            #expect(read.object["sakai:copyright"] as? String == "creativecommons")
            #expect(read.object["sakai:permissions"] as? String == "public")
            #expect(read.object["sakai:tags"] as? [String] == ["biology", "cells"])
            #expect(Set(read.object["sakai:pooled-content-viewer"] as? [String] ?? []) == ["everyone", "anonymous"])
            #expect(try await anonymous.get("/p/\(id)/Lecture%20notes.txt").text == "Mitochondria make energy.\n")

            // Anyone may read it now, but only its manager may change it.
            #expect(try await bob.post("/p/\(id)", [("sakai:description", "vandalised")]).status == 403)
            #expect(try await bob.post("/p/\(id)", [(":operation", "delete")]).status == 403)
            #expect(try await alice.post("/p/\(id)", [(":operation", "delete")]).status == 200)
            #expect(try await anonymous.get("/p/\(id).json").status == 404)
        }
    }

    /// newaddcontent's "create a Sakai doc" and "add a link", request by request: form-mode
    /// createfile, the pages through `saveJSON` and `<ref>.save.json`, then the description.
    @Test func aSakaiDocAndALinkAreCreatedWithoutAFileAsTheUIDoes() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let structure = #"{"page1":{"_ref":"id7731","_order":0,"_title":"Field notes","main":{"_ref":"id7731","_order":0,"_title":"Field notes"}}}"#
            let created = try await alice.post("/system/pool/createfile", [
                ("structure0", structure), ("mimeType", "x-sakai/document"), ("sakai:schemaversion", "2"), ("_charset_", "utf-8"),
            ])
            #expect(created.status == 201)
            let entry = try #require(created.object["_contentItem"] as? [String: Any])
            let id = try #require(entry["poolId"] as? String)
            let item = try #require(entry["item"] as? [String: Any])
            #expect(item["_path"] as? String == id)
            #expect(item["_mimeType"] as? String == "x-sakai/document")
            #expect(item["structure0"] as? String == structure)
            #expect(item["sakai:pooled-content-manager"] as? [String] == [aliceID])
            #expect(item["_charset_"] == nil && item["mimeType"] == nil)

            // finishSakaiDoc: the page's content through saveJSON, then its version.
            let content = #"{"id7731":{"rows":{"__array__0__":{"id":"id1","columns":{"__array__0__":{"width":1,"elements":""}}}}}}"#
            #expect(try await alice.post("/p/\(id)", [
                (":operation", "import"), (":contentType", "json"), (":merge", "true"), (":replace", "true"),
                (":replaceProperties", "true"), (":content", content), ("_charset_", "utf-8"),
            ]).status == 200)
            #expect(try await alice.post("/p/\(id)/id7731.save.json", [
                ("sling:resourceType", "sakai/pagecontent"), ("sakai:pagecontent", #"{"rows":[]}"#), ("_charset_", "utf-8"),
            ]).status == 200)
            // setDataOnContent: name, description and visibility.
            #expect(try await alice.post("/p/\(id)", [
                ("sakai:pooled-content-file-name", "Field notes"), ("sakai:description", "Notes from the estuary"),
                ("sakai:permissions", "public"), ("sakai:copyright", "creativecommons"),
            ]).status == 200)
            try await alice.setPermissions(id, "public")

            let anonymous = server.session()
            let doc = try await anonymous.get("/p/\(id).infinity.json")
            #expect(doc.status == 200)
            #expect(doc.object["sakai:pooled-content-file-name"] as? String == "Field notes")
            let page = try #require(doc.object["id7731"] as? [String: Any])
            #expect(page["sling:resourceType"] as? String == "sakai/pagecontent")
            #expect((page["rows"] as? [String: Any])?["__array__0__"] != nil)
            // Pages are child nodes: not in the item at depth 0, nor in search results.
            #expect(try await anonymous.get("/p/\(id).json").object["id7731"] == nil)
            #expect(try await anonymous.get("/p/\(id).1.json").object["id7731"] != nil)
            let pageRead = try await anonymous.get("/p/\(id)/id7731.infinity.json")
            #expect(pageRead.status == 200)
            #expect(pageRead.object["sakai:pagecontent"] as? String == #"{"rows":[]}"#)
            #expect(try await anonymous.get("/p/\(id)/missing.infinity.json").status == 404)
            #expect(try await anonymous.get("/p/\(id)").status == 404, "a doc has no file to download")
            #expect(try await anonymous.post("/p/\(id)/id7731.save.json", [("sakai:pagecontent", "x")]).status >= 400)
            let (bob, _) = try await server.register("bob")
            #expect(try await bob.post("/p/\(id)/id7731.save.json", [("sakai:pagecontent", "x")]).status == 403)
            let found = try await anonymous.get("/var/search/pool/all.json?q=estuary")
            #expect((found.object["results"] as? [[String: Any]])?.map { $0["_path"] as? String } == [id])
            #expect((found.object["results"] as? [[String: Any]])?.first?["id7731"] == nil)

            // A link keeps its URL and preview.
            let link = try await alice.post("/system/pool/createfile", [
                ("sakai:pooled-content-url", "https://example.org/lecture"), ("mimeType", "x-sakai/link"),
                ("sakai:preview-url", ""), ("sakai:preview-type", ""), ("sakai:preview-avatar", ""),
            ])
            #expect(link.status == 201)
            let linkItem = try #require((link.object["_contentItem"] as? [String: Any])?["item"] as? [String: Any])
            #expect(linkItem["_mimeType"] as? String == "x-sakai/link")
            #expect(linkItem["sakai:pooled-content-url"] as? String == "https://example.org/lecture")

            // Without a file or a media type, the fields make an item all the same (as Nakamura).
            let bare = try await alice.post("/system/pool/createfile", [("sakai:description", "fields only")])
            #expect(bare.status == 201)
            #expect(((bare.object["_contentItem"] as? [String: Any])?["item"] as? [String: Any])?["sakai:description"] as? String == "fields only")
        }
    }

    /// contentcomments: readers comment; authors edit their own; authors and managers delete;
    /// managers may close comments.
    @Test func readersCommentAndAuthorsOrManagersEditAndDelete() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let (bob, bobID) = try await server.register("bob")
            let (carol, _) = try await server.register("carol")
            let id = try await alice.uploadOne("notes.txt", Array("notes".utf8))
            try await alice.setPermissions(id, "everyone")

            let added = try await bob.post("/p/\(id).comments", [("comment", "Nice <b>notes</b>")])
            #expect(added.status == 201, "\(added.text)")
            #expect(added.header("Content-Type")?.hasPrefix("text/plain") == true)
            let commentID = try #require(added.object["commentId"] as? String)
            var listed = try await carol.get("/p/\(id).comments").object["comments"] as? [[String: Any]] ?? []
            #expect(listed.map { $0["comment"] as? String } == ["Nice <b>notes</b>"])
            #expect(listed.first?["userid"] as? String == bobID)
            #expect(listed.first?["commentId"] as? String == commentID)
            #expect(try await alice.get("/p/\(id).json").object["commentCount"] as? Int == 1)

            #expect(try await carol.post("/p/\(id).comments", [("comment", "edited"), ("commentId", commentID)]).status == 403)
            #expect(try await carol.send("DELETE", HTTPSession.target("/p/\(id).comments", [("commentId", commentID)])).status == 403)
            #expect(try await bob.post("/p/\(id).comments", [("comment", "Nicer notes"), ("commentId", commentID)]).status == 200)
            listed = try await carol.get("/p/\(id).comments").object["comments"] as? [[String: Any]] ?? []
            #expect(listed.map { $0["comment"] as? String } == ["Nicer notes"])
            #expect(try await bob.post("/p/\(id).comments", [("comment", "   ")]).status == 400)
            #expect(try await server.session().post("/p/\(id).comments", [("comment", "anonymous")]).status >= 400)

            #expect(try await alice.send("DELETE", HTTPSession.target("/p/\(id).comments", [("commentId", commentID)])).status == 204)
            #expect((try await carol.get("/p/\(id).comments").object["comments"] as? [Any])?.isEmpty == true)
            #expect(try await alice.send("DELETE", HTTPSession.target("/p/\(id).comments", [("commentId", commentID)])).status == 404)

            #expect(try await alice.post("/p/\(id)", [("sakai:allowcomments", "false")]).status == 200)
            #expect(try await bob.post("/p/\(id).comments", [("comment", "closed?")]).status == 403)
            #expect(try await alice.post("/p/\(id).comments", [("comment", "Closed for now")]).status == 201)
        }
    }

    /// The versions widget: every version listed (1.0 the first), each readable and
    /// downloadable as it was.
    @Test func everyVersionIsListedReadAndDownloadedAsItWas() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let id = try await alice.uploadOne("draft.txt", Array("first text".utf8))
            #expect(try await alice.post("/p/\(id).save.json").status == 200)
            let second = try await alice.upload([("draft.txt", Array("second text".utf8))], to: "/system/pool/createfile.\(id)")
            #expect(second.status == 200)
            #expect(try await alice.post("/p/\(id).save.json").status == 200)

            let list = try await alice.get("/p/\(id)/.versions.json")
            #expect(list.status == 200)
            #expect(list.object["total"] as? Int == 2)
            let versions = try #require(list.object["versions"] as? [String: [String: Any]])
            #expect(Set(versions.keys) == ["1.0", "1.1"])
            #expect(versions["1.0"]?["_lastModifiedBy"] as? String == aliceID)
            #expect(versions["1.1"]?["_length"] as? Int == 11)
            let first = try await alice.get("/p/\(id).version.,1.0,.json")
            #expect(first.object["versionId"] as? String == "1.0")
            #expect(first.object["_length"] as? Int == 10)
            #expect(try await alice.get("/p/\(id).version.,1.0,/draft.txt").text == "first text")
            #expect(try await alice.get("/p/\(id).version.,1.1,/draft.txt").text == "second text")
            #expect(try await alice.get("/p/\(id)/draft.txt").text == "second text")
            #expect(try await alice.get("/p/\(id).version.,1.7,.json").status == 400, "a version out of range")
            #expect(try await alice.get("/p/\(id)/.versions.json?items=25&page=\(Int.max / 2)").status == 400)
            let (bob, _) = try await server.register("bob")
            #expect(try await bob.get("/p/\(id)/.versions.json").status == 404)
            #expect(try await bob.get("/p/\(id).version.,1.0,/draft.txt").status == 404)
        }
    }

    @Test func downloadsHonourRangeAndETagAndNeverRenderHTMLInline() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let bytes = Array((0..<1000).map { UInt8($0 % 251) })
            let id = try await alice.uploadOne("data.bin", bytes)

            let whole = try await alice.get("/p/\(id)")
            #expect(whole.status == 200)
            #expect(whole.body == bytes)
            #expect(whole.header("Accept-Ranges") == "bytes")
            let etag = try #require(whole.header("ETag"))
            #expect(try await alice.get("/p/\(id)", headers: [("If-None-Match", etag)]).status == 304)
            #expect(try await alice.get("/p/\(id)", headers: [("If-None-Match", "\"other\"")]).status == 200)

            let part = try await alice.get("/p/\(id)/data.bin", headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206)
            #expect(part.body == Array(bytes[10...19]))
            #expect(part.header("Content-Range") == "bytes 10-19/1000")
            let tail = try await alice.get("/p/\(id)", headers: [("Range", "bytes=-5")])
            #expect(tail.status == 206 && tail.body == Array(bytes[995...]))
            let open = try await alice.get("/p/\(id)", headers: [("Range", "bytes=990-")])
            #expect(open.status == 206 && open.body == Array(bytes[990...]))
            let beyond = try await alice.get("/p/\(id)", headers: [("Range", "bytes=1000-")])
            #expect(beyond.status == 416)
            #expect(beyond.header("Content-Range") == "bytes */1000")
            #expect(try await alice.get("/p/\(id)/other-name.bin").status == 404)

            // Inside a batch, a download's bytes are read into the answer.
            let batch = try await alice.get(HTTPSession.target("/system/batch", [("requests", "[{\"url\":\"/p/\(id)\",\"method\":\"GET\"}]")]))
            let inner = try #require((batch.object["results"] as? [[String: Any]])?.first)
            #expect(inner["status"] as? Int == 200)
            #expect((inner["body"] as? String).map { Array($0.utf8) } == String(decoding: bytes, as: UTF8.self).utf8.map { $0 })

            let page = try await alice.uploadOne("page.html", Array("<html><body><script>alert(1)</script></body></html>".utf8))
            let html = try await alice.get("/p/\(page)")
            #expect(html.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(html.header("Content-Disposition")?.hasPrefix("attachment") == true)
            #expect(html.header("X-Content-Type-Options") == "nosniff")
        }
    }

    @Test func aNewVersionReplacesTheBodyAndKeepsThePoolID() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let id = try await alice.uploadOne("essay.txt", Array("first draft".utf8))
            let first = try await alice.get("/p/\(id)")
            let answer = try await alice.upload([("essay-v2.txt", Array("second draft, longer".utf8))], to: "/system/pool/createfile.\(id)")
            #expect(answer.status == 200)
            let entry = try #require(answer.object["essay-v2.txt"] as? [String: Any])
            #expect(entry["poolId"] as? String == id)
            let second = try await alice.get("/p/\(id)")
            #expect(second.text == "second draft, longer")
            #expect(second.header("ETag") != first.header("ETag"))
            #expect(try await alice.get("/p/\(id).json").object["_length"] as? Int == 20)

            let (bob, _) = try await server.register("bob")
            #expect(try await bob.upload([("x.txt", Array("x".utf8))], to: "/system/pool/createfile.\(id)").status == 404)
        }
    }

    @Test func sharingWithAUserLetsThemReadAndRemoveThemselvesButNothingMore() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let (bob, bobID) = try await server.register("bob")
            let id = try await alice.uploadOne("plan.txt", Array("the plan".utf8))
            #expect(try await bob.get("/p/\(id).json").status == 404)

            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", bobID)]).status == 200)
            #expect(try await bob.get("/p/\(id).json").status == 200)
            let members = try await bob.get("/p/\(id).members.json").object
            #expect((members["managers"] as? [[String: Any]])?.compactMap { $0["userid"] as? String } == [aliceID])
            #expect((members["viewers"] as? [[String: Any]])?.compactMap { $0["userid"] as? String } == [bobID])

            // A viewer may not promote anyone, open the item up, or remove its manager.
            #expect(try await bob.post("/p/\(id).members.html", [(":manager", bobID)]).status == 403)
            #expect(try await bob.post("/p/\(id).members.html", [(":viewer", "everyone")]).status == 403)
            #expect(try await bob.post("/p/\(id).members.html", [(":manager@Delete", aliceID)]).status == 403)
            #expect(try await bob.post("/p/\(id).modifyAce.html", [("principalId", "anonymous"), ("privilege@jcr:read", "granted")]).status == 403)
            // …but may take it out of their own library.
            #expect(try await bob.post("/p/\(id).members.html", [(":viewer@Delete", bobID)]).status == 200)
            #expect(try await bob.get("/p/\(id).json").status == 404)

            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", "no-such-principal")]).status == 400)
        }
    }

    @Test func badUploadsGetAClearAnswerAndStoreNothing() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let broken = try await alice.send(
                "POST", "/system/pool/createfile", headers: [("Content-Type", MultipartBody.contentType)],
                body: Array("--\(MultipartBody.boundary)\r\nContent-Disposition: form-data; name=\"fileData\"; filename=\"a.txt\"\r\n\r\nno end".utf8))
            #expect(broken.status == 400)
            #expect(try await alice.send("POST", "/system/pool/createfile", headers: [("Content-Type", "multipart/form-data")], body: []).status == 400)
            var fieldsOnly = MultipartBody()
            fieldsOnly.field("_charset_", "utf-8")
            #expect(try await alice.send("POST", "/system/pool/createfile", headers: [("Content-Type", MultipartBody.contentType)], body: fieldsOnly.closed()).status == 400)
            #expect(try await server.session().upload([("a.txt", Array("a".utf8))]).status == 405)
            #expect(try await server.site.metadata.statistics().items == 0)
            #expect(try server.site.blobs.allBlobIDs().isEmpty)
            #expect(try server.site.blobs.abandonedWrites().isEmpty)
        }
    }

    @Test func theSameFileUploadedByAHundredUsersIsOneBlobAHundredItemsAndOneExtraction() async throws {
        try await withServer { server in
            let pdf = try Array(Data(contentsOf: Self.sample.appendingPathComponent("biology/biology-lecture-1.pdf")))
            var ids: Set<String> = []
            for n in 0..<100 {
                // Accounts made directly, and HTTP Basic for the uploads: registration through
                // the API is rate-limited per address.
                let login = "user\(n)"
                _ = try await server.site.metadata.createUser(NewUser(loginName: login, firstName: "U", lastName: "\(n)"), password: "pw-\(login)")
                let session = server.session()
                session.extraHeaders = [("Authorization", "Basic " + Data("\(login):pw-\(login)".utf8).base64EncodedString())]
                let answer = try await session.upload([("copy-\(n).pdf", pdf)])
                #expect(answer.status == 201)
                let entry = try #require(answer.object["copy-\(n).pdf"] as? [String: Any])
                // The answer is that of a new upload: nothing says the bytes were stored before.
                let item = entry["item"] as? [String: Any] ?? [:]
                #expect(item["_length"] as? Int == pdf.count && item["sakai:pooled-content-file-name"] as? String == "copy-\(n).pdf")
                ids.insert(try #require(entry["poolId"] as? String))
            }
            #expect(ids.count == 100)
            let blobs = try server.site.blobs.allBlobIDs()
            #expect(blobs.count == 1)
            await server.extracted()
            let index = SQLiteSearchIndex(metadata: server.site.metadata)
            let extraction = try await index.extraction(of: try #require(blobs.first))
            #expect(extraction?.outcome == .indexed)
            #expect(extraction?.pageCount ?? 0 > 1)
            let jobs = try await server.site.metadata.database.read { db in
                try Row.fetchAll(db, sql: "SELECT state, attempts FROM extractionJob").map { "\($0["state"] as String) \($0["attempts"] as Int)" }
            }
            #expect(jobs == ["done 1"], "one extraction, done once")
            // Every item shows its text's state, though the text was extracted once.
            for id in ids.sorted().prefix(3) {
                let state = try await server.session().get("/p/\(id).json").object["oaken:extraction"] as? [String: Any]
                #expect(state == nil, "private items are not readable anonymously")
            }
            let owner = server.session()
            owner.extraHeaders = [("Authorization", "Basic " + Data("user0:pw-user0".utf8).base64EncodedString())]
            let mine = try await owner.feed("/var/search/pool/me/manager-all.json")
            let myItem = try #require((mine["results"] as? [[String: Any]])?.first?["_path"] as? String)
            let state = try #require(try await owner.get("/p/\(myItem).json").object["oaken:extraction"] as? [String: Any])
            #expect(state["state"] as? String == "done" && state["outcome"] as? String == "indexed")
            #expect((state["pageCount"] as? Int ?? 0) > 1)
            let statistics = try await server.site.metadata.statistics()
            #expect(statistics.items == 100)
            #expect(statistics.blobs == 1)
        }
    }

    @Test func deletingAnItemFreesItsBlobOnlyWhenNothingElseReferencesIt() async throws {
        try await withServer { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let shared = Array("the same bytes twice".utf8)
            let first = try await alice.uploadOne("a.txt", shared)
            let second = try await bob.uploadOne("b.txt", shared)
            let own = try await alice.uploadOne("c.txt", Array("bytes of their own".utf8))
            #expect(try server.site.blobs.allBlobIDs().count == 2)

            #expect(try await alice.post("/p/\(first)", [(":operation", "delete")]).status == 200)
            #expect(try await server.site.collectGarbage().removedBlobs.isEmpty, "b.txt still holds the shared bytes")
            #expect(try await bob.get("/p/\(second)").text == "the same bytes twice")

            #expect(try await alice.post("/p/\(own)", [(":operation", "delete")]).status == 200)
            #expect(try await server.site.collectGarbage().removedBlobs.count == 1)
            #expect(try await bob.post("/p/\(second)", [(":operation", "delete")]).status == 200)
            #expect(try await server.site.collectGarbage().removedBlobs.count == 1)
            #expect(try server.site.blobs.allBlobIDs().isEmpty)
        }
    }
}
