import Foundation
import Server
import Testing
import TestSupport

/// `/system/batch`: inner requests in order, with the caller's identity, and inner statuses.
@Suite struct BatchTests {
    @Test func innerRequestsRunInOrderWithTheirOwnStatuses() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("sam")
            let requests = """
                [{"url":"/~\(id)/public/a","method":"POST","parameters":{"v":"1","list":["x","y"]}},
                 {"url":"/~\(id)/public/a.json"},
                 {"url":"~\(id)/public/a.json","method":"GET"},
                 {"url":"/~\(id)/public/missing.json","method":"GET"},
                 {"url":"/dev/bundle/default.properties","method":"GET","dataType":"text","cache":false},
                 {"url":"/system/me?_=5","method":"GET"},
                 {"method":"GET"}]
                """
            let reply = try await browser.post("/system/batch", [("requests", requests), ("_charset_", "utf-8")])
            #expect(reply.status == 200 && reply.header("Content-Type")?.hasPrefix("application/json") == true)
            let results = try #require(reply.object["results"] as? [[String: Any]])
            #expect(results.count == 7)
            #expect(results.map { $0["status"] as? Int } == [201, 200, 200, 404, 200, 200, 400], "the first write creates its node")
            #expect(results.prefix(6).allSatisfy { $0["success"] as? Bool == true }, "an inner 404 is still a success")
            #expect(results[6]["success"] as? Bool == false)
            let node = try #require(try JSONSerialization.jsonObject(with: Data((results[1]["body"] as! String).utf8)) as? [String: Any])
            #expect(node["v"] as? String == "1" && node["list"] as? [String] == ["x", "y"], "the missing method defaulted to GET, after the POST")
            #expect((results[4]["headers"] as? [String: Any])?["Content-Type"] as? String == "text/plain; charset=utf-8")
            let me = try #require(try JSONSerialization.jsonObject(with: Data((results[5]["body"] as! String).utf8)) as? [String: Any])
            #expect((me["user"] as? [String: Any])?["userid"] as? String == id, "inner requests carry the caller's identity")
        }
    }

    @Test func aGetBatchRunsNoWrites() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("tara")
            let requests = #"[{"url":"/~\#(id)/public/b","method":"POST","parameters":{"v":"1"}},{"url":"/system/me","method":"GET"}]"#
            let reply = try await browser.get(HTTPSession.target("/system/batch", [("requests", requests)]))
            let results = try #require(reply.object["results"] as? [[String: Any]])
            #expect(results.map { $0["status"] as? Int } == [405, 200])
            #expect(try await browser.get("/~\(id)/public/b.json").status == 404)
        }
    }

    @Test func badBatchesAreRefusedWhole() async throws {
        try await withServer { server in
            let (browser, _) = try await server.register("uma")
            #expect(try await browser.get("/system/batch").status == 400)
            #expect(try await browser.get(HTTPSession.target("/system/batch", [("requests", "{not json")])).status == 400)
            #expect(try await browser.get(HTTPSession.target("/system/batch", [("requests", #"{"url":"/"}"#)])).status == 400)
            let nested = #"[{"url":"/system/batch?requests=[]","method":"GET"}]"#
            let results = try await browser.get(HTTPSession.target("/system/batch", [("requests", nested)])).object["results"] as? [[String: Any]]
            #expect(results?.first?["status"] as? Int == 400)
            let many = "[" + Array(repeating: #"{"url":"/system/me"}"#, count: 201).joined(separator: ",") + "]"
            #expect(try await browser.post("/system/batch", [("requests", many)]).status == 400)
            #expect(try await browser.send("PUT", "/system/batch").status == 405)
        }
    }

    /// One request may not make the server read and send much more than it was asked: the
    /// reply's inner bodies stay within a budget (downloads included), and an anonymous
    /// caller's batch is short.
    @Test func aBatchsReplyIsBoundedWhateverItAsksFor() async throws {
        try await withServer(configure: { $0.batchLimits.replyBytes = 256 << 10; $0.batchLimits.innerDownload = 100 << 10 }) { server in
            let (owner, _) = try await server.register("vera")
            let bytes = (0..<(60 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let id = try await owner.uploadOne("data.bin", bytes)
            try await owner.setPermissions(id, "public")
            let large = try await owner.uploadOne("large.bin", Array(repeating: 65, count: 150 << 10))
            try await owner.setPermissions(large, "public")
            let anonymous = server.session()
            let requests = "[" + Array(repeating: #"{"url":"/p/\#(id)","method":"GET"}"#, count: 50).joined(separator: ",")
                + #",{"url":"/p/\#(large)","method":"GET"}]"#
            #expect(try await anonymous.post("/system/batch", [("requests", requests)]).status == 400, "51 inner requests is too many anonymously")
            let fifty = "[" + Array(repeating: #"{"url":"/p/\#(id)","method":"GET"}"#, count: 49).joined(separator: ",")
                + #",{"url":"/p/\#(large)","method":"GET"}]"#
            let reply = try await anonymous.post("/system/batch", [("requests", fifty)])
            #expect(reply.status == 200)
            let results = try #require(reply.object["results"] as? [[String: Any]])
            let statuses = results.map { $0["status"] as? Int ?? 0 }
            #expect(statuses.count == 50 && statuses.first == 200)
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 413 } && statuses.last == 413)
            #expect(statuses.filter { $0 == 200 }.count < 10, "the budget stops the downloads early")
            // Each body is written with JSON escapes (up to six bytes a byte): the budget counts them.
            #expect(reply.body.count < (256 << 10) + 50 * 1024, "the reply stays near its budget: \(reply.body.count) bytes")
        }
    }
}
