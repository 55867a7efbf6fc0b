import Foundation
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
            let many = "[" + Array(repeating: #"{"url":"/system/me"}"#, count: 501).joined(separator: ",") + "]"
            #expect(try await browser.post("/system/batch", [("requests", many)]).status == 400)
            #expect(try await browser.send("PUT", "/system/batch").status == 405)
        }
    }
}
