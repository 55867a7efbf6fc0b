import Foundation
import Testing
import TestSupport

/// The requests the 3akai-ux 1.2 pages make on first load (contract §1.2) and after login
/// (§1.3), request for request, against a live server.
@Suite struct BootSequenceTests {
    static func batchTarget(_ urls: [String]) -> String {
        let requests = "[" + urls.map { "{\"url\":\"\($0)\",\"method\":\"GET\",\"_charset_\":\"utf-8\"}" }.joined(separator: ",") + "]"
        return HTTPSession.target("/system/batch", [("requests", requests), ("_charset_", "utf-8")])
    }

    static func results(_ reply: HTTPResult) -> [[String: Any]] {
        (reply.object["results"] as? [[String: Any]]) ?? []
    }

    @Test func theAnonymousLandingPageLoads() async throws {
        try await withServer { server in
            let browser = server.session()
            let index = try await browser.get("/")
            #expect(index.status == 200 && index.text.contains("data-page=\"index\""))
            #expect(index.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(try await browser.get("/dev/lib/jquery/require.js").header("Content-Type")?.hasPrefix("application/javascript") == true)
            #expect(try await browser.get("/dev/configuration/config.js").status == 200)

            let widgets = try await browser.get("/var/widgets.json?callback=define")
            #expect(widgets.status == 200 && widgets.header("Content-Type")?.hasPrefix("application/javascript") == true)
            #expect(widgets.text.hasPrefix("define({") && widgets.text.hasSuffix("});"))
            let inner = String(widgets.text.dropFirst("define(".count).dropLast(2))
            let map = try #require(try JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: Any])
            #expect(Set(map.keys) == ["topnavigation", "footer", "lenient"], "the not-JSON _template config is skipped")

            let worlds = try await browser.get("/var/templates/worlds.2.json").object
            let group = try #require(worlds["group"] as? [String: Any])
            let simple = try #require(group["simple-group"] as? [String: Any])
            #expect(group["title"] as? String == "GROUP" && simple["joinRole"] as? String == "member")
            let roles = try #require(simple["roles"] as? [String])
            #expect(roles.count == 2 && roles[0].contains("\"isManagerRole\":true"), "roles are JSON strings")
            #expect(simple["docs"] == nil, "depth 2 stops at the template's own properties")

            let me = try await browser.get("/system/me?_=1").object
            #expect((me["user"] as? [String: Any])?["anon"] as? Bool == true)

            let bundles = try await browser.get(Self.batchTarget(["/dev/bundle/default.properties", "/dev/bundle/en_US.properties"]))
            #expect(bundles.status == 200)
            #expect(Self.results(bundles).map { $0["status"] as? Int } == [200, 200])
            #expect((Self.results(bundles).first?["body"] as? String)?.contains("OK=OK") == true)

            let widgetFiles = try await browser.get(Self.batchTarget([
                "/devwidgets/topnavigation/topnavigation.html", "/devwidgets/topnavigation/bundles/default.properties",
                "/devwidgets/topnavigation/bundles/en_US.properties",
            ]))
            #expect(Self.results(widgetFiles).map { $0["status"] as? Int } == [200, 200, 404])
            #expect(Self.results(widgetFiles).allSatisfy { $0["success"] as? Bool == true })

            for feed in ["/tags/directory.tagged.json", "/var/search/activity/all.json?items=12",
                         "/var/search/public/random-content.json?page=0&items=10&tag=&type=c"] {
                let reply = try await browser.get(feed)
                #expect(reply.status == 200 && reply.json != nil, "\(feed)")
            }
            #expect(try await browser.get("/var/ux-version/ux-version.json").status == 200)
        }
    }

    @Test func theFirstLoginBuildsTheUsersSpaceAndTheDashboardLoads() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("boot-user", first: "Boot", last: "User")
            let me = try await browser.get("/system/me").object
            let user = try #require(me["user"] as? [String: Any])
            #expect(user["userid"] as? String == id && user["anon"] == nil)
            #expect((user["locale"] as? [String: Any])?["language"] as? String == "en")

            let count = try await browser.get("/~\(id)/message.count.json?filters=sakai:messagebox,sakai:read&values=inbox,false&groupedby=sakai:category")
            #expect(count.status == 200 && count.object["count"] is [Any])

            for (path, key) in [("/~\(id)/public/pubspace", "structure0"), ("/~\(id)/private/privspace", "structure0")] {
                #expect(try await browser.get("\(path).infinity.json").status == 404, "the first visit finds no \(path)")
                let content = #"{"structure0":"{\"dashboard\":{\"_ref\":\"id1\",\"_order\":0}}","id1":{"rows":{"__array__0__":{"id":"r1"}}}}"#
                let imported = try await browser.post(path, [
                    (":operation", "import"), (":contentType", "json"), (":replace", "true"), (":replaceProperties", "true"),
                    (":content", content), ("_charset_", "utf-8"),
                ])
                #expect(imported.status == 201)
                let tree = try await browser.get("\(path).infinity.json").object
                #expect(tree[key] as? String == #"{"dashboard":{"_ref":"id1","_order":0}}"#)
            }

            var sections: [String] = []
            for section in ["basic", "aboutme", "publications"] {
                sections.append(#"{"url":"/~\#(id)/public/authprofile/\#(section)","method":"POST","parameters":{"init":true}}"#)
            }
            let initBatch = try await browser.post("/system/batch", [("requests", "[" + sections.joined(separator: ",") + "]")])
            #expect(Self.results(initBatch).map { $0["status"] as? Int } == [201, 201, 201], "each section is created")
            let acls = (["basic", "aboutme"]).map {
                #"{"url":"/~\#(id)/public/authprofile/\#($0).modifyAce.html","method":"POST","parameters":{"principalId":["everyone","anonymous"],"privilege@jcr:read":"granted"}}"#
            }
            let aclBatch = try await browser.post("/system/batch", [("requests", "[" + acls.joined(separator: ",") + "]")])
            #expect(Self.results(aclBatch).map { $0["status"] as? Int } == [200, 200])

            let carousel = try await browser.get(Self.batchTarget([
                "/var/search/pool/me/related-content.json?items=11", "/var/contacts/related-contacts.json?items=11",
                "/var/search/myrelatedgroups.json?items=11",
            ]))
            for result in Self.results(carousel) {
                let body = try #require(result["body"] as? String)
                #expect(result["status"] as? Int == 200)
                #expect((try? JSONSerialization.jsonObject(with: Data(body.utf8))) != nil, "every carousel body is JSON")
            }
            let library = try await browser.get(
                "/var/search/pool/manager-viewer.json?userid=\(id)&page=0&items=1&sortOn=_lastModified&sortOrder=desc")
            #expect(library.status == 200 && library.object["results"] is [Any])
            #expect(try await browser.get("/me").text.contains("data-page=\"me\""))
            #expect(try await browser.get("/~\(id)").text.contains("data-page=\"user\""))
            #expect(try await browser.get("/~no-such-id").status == 404)
        }
    }
}
