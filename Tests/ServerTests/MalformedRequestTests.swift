import Foundation
import Server
import Testing
import TestSupport

/// Hundreds of broken requests: none gets a 5xx, and the server keeps serving throughout.
@Suite struct MalformedRequestTests {
    /// Requests that are wrong in one way each, written byte for byte.
    static func brokenRequests(home: String, cookie: String, port: Int) -> [(label: String, bytes: [UInt8], truncated: Bool)] {
        let host = "Host: 127.0.0.1:\(port)"
        let referer = "Referer: http://127.0.0.1:\(port)/dev/me.html"
        func request(_ line: String, _ headers: [String] = [], body: String = "", length: Int? = nil) -> [UInt8] {
            var lines = [line, host, "Connection: close", "Cookie: sakai-trusted-authn=\(cookie)", referer] + headers
            lines.append("Content-Length: \(length ?? body.utf8.count)")
            return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
        }
        func form(_ target: String, _ body: String, type: String = "application/x-www-form-urlencoded") -> [UInt8] {
            request("POST \(target) HTTP/1.1", ["Content-Type: \(type)"], body: body)
        }
        var cases: [(String, [UInt8], Bool)] = []
        // Broken encodings in paths, queries and bodies.
        for path in ["/%zz", "/%", "/%f", "/%ff%fe", "\(home)/%00x.json", "/dev/%2e%2e/%2e%2e/etc/passwd", "/dev/../../etc/passwd",
                     "\(home)/public/%C0%AF.json", "/%E2%82", "//", "/~", "/~.json", "/~/x.json", "\(home)/public/.json",
                     "\(home)/public/x..json", "\(home)/public/x.-1.json", "\(home)/public/x.99999999999999999999.json",
                     "\(home)/public/x.infinity.infinity.json", "\(home)/public/x.json.json", "\(home)//public.json",
                     "/system/me?uid=%ff", "/system/me?uid=", "/system/batch?requests=%zz", "/system/batch?requests=[{",
                     "/system/batch?requests=%5B%7B%22url%22%3A1%7D%5D", "/system/batch?requests=null",
                     "/var/widgets.json?callback=alert(1)", "/var/widgets.json?callback=", "/var/templates/../../etc.json",
                     "/var/templates/worlds.abc.json", "/system/userManager/user.exists.html?userid=%00", "/?" + String(repeating: "a=1&", count: 3000),
                     "/" + String(repeating: "x/", count: 2000), "/" + String(repeating: "é", count: 9000)] {
            cases.append(("GET \(path.prefix(60))", request("GET \(path) HTTP/1.1"), false))
        }
        // Broken forms and JSON in writes.
        let writes: [(String, String)] = [
            ("\(home)/public/n", "a=%zz"), ("\(home)/public/n", "a=%ff%fe"), ("\(home)/public/n", "=&&=&a"),
            ("\(home)/public/n", ":operation=import&:contentType=json&:content=%7B"),
            ("\(home)/public/n", ":operation=import&:contentType=json&:content=" + String(repeating: "%5B", count: 5000)),
            ("\(home)/public/n", ":operation=import&:contentType=json&:content=" + String(repeating: "%7B%22a%22%3A", count: 200) + "1" + String(repeating: "%7D", count: 200)),
            ("\(home)/public/n", ":operation=import&:contentType=json&:content=%22just+a+string%22"),
            ("\(home)/public/n", ":operation=frobnicate"), ("\(home)/public/n", "a=1&a@TypeHint=Long"),
            ("\(home)/public/n", "a=1e999&a@TypeHint=Double"), ("\(home)/public/n.modifyAce.html", "principalId=x&privilege%40jcr%3Aread=maybe"),
            ("\(home)/public/n.modifyAce.html", ""), ("\(home)/public/n", ":operation=tag&key=/elsewhere"),
            ("/system/batch", "requests=%5B%7B%22url%22%3A%22%2F%25zz%22%7D%5D"), ("/system/batch", "requests=%5B1%2C2%5D"),
            ("/system/batch", "requests=" + String(repeating: "%5B", count: 3000)), ("/system/sling/formlogin", "sakaiauth:un=&sakaiauth:pw="),
            ("/system/sling/formlogin", "sakaiauth:un=%ff"), ("/system/userManager/user.create.html", ":name=..&pwd=x"),
            ("/system/userManager/user.create.html", ":name=a&pwd=short&firstName=a&lastName=b"),
            ("/system/userManager/user.create.html", ":name=" + String(repeating: "n", count: 500) + "&pwd=a+long+enough+password&firstName=a&lastName=b"),
            ("/system/userManager/user.create.html", ":name=ok-name&pwd=a+long+enough+password&:sakai:profile-import=%7Bbroken"),
            ("\(home)/public/authprofile/basic.profile.json", ":operation=import&:contentType=json&:content=%7B%22elements%22%3A5%7D"),
            ("\(home)/public/authprofile.profile.json", "firstName=" + String(repeating: "f", count: 5000)),
        ]
        for (target, body) in writes {
            cases.append(("POST \(target.prefix(40)) \(body.prefix(40))", form(target, body), false))
        }
        cases.append(("multipart without boundary", form("\(home)/public/n", "x", type: "multipart/form-data"), false))
        cases.append(("json body", form("\(home)/public/n", "{\"a\":1}", type: "application/json"), false))
        cases.append(("oversized form", form("\(home)/public/n", "a=" + String(repeating: "x", count: 200_000)), false))
        // Truncated bodies: the client stops writing early.
        for length in [10, 1000, 100_000] {
            cases.append(("truncated \(length)", request("POST \(home)/public/n HTTP/1.1", ["Content-Type: application/x-www-form-urlencoded"], body: "a=1", length: length), true))
        }
        // Broken request lines and headers.
        let junk: [String] = [
            "FOO / HTTP/1.1", "GET  HTTP/1.1", "GET / HTTP/9.9", "GET /\u{7f} HTTP/1.1", "G\u{1}T / HTTP/1.1", "GET relative HTTP/1.1",
            "GET http://127.0.0.1/system/me HTTP/1.1", "PUT \(home)/public/n HTTP/1.1", "DELETE \(home)/public/n HTTP/1.1",
            "OPTIONS * HTTP/1.1", "PATCH /system/batch HTTP/1.1", "HEAD /system/me HTTP/1.1", "TRACE / HTTP/1.1",
        ]
        for line in junk { cases.append((line, request(line), false)) }
        cases.append(("huge header", request("GET /system/me HTTP/1.1", ["X-Big: " + String(repeating: "h", count: 200_000)]), false))
        cases.append(("many headers", request("GET /system/me HTTP/1.1", (0..<2000).map { "X-H\($0): v" }), false))
        cases.append(("huge cookie", Array("GET /system/me HTTP/1.1\r\n\(host)\r\nCookie: sakai-trusted-authn=\(String(repeating: "c", count: 20_000))\r\nConnection: close\r\n\r\n".utf8), false))
        cases.append(("bad basic", request("GET /system/me HTTP/1.1", ["Authorization: Basic %%%"]), false))
        cases.append(("basic without colon", request("GET /system/me HTTP/1.1", ["Authorization: Basic " + Data("nocolon".utf8).base64EncodedString()]), false))
        cases.append(("bad content length", request("POST \(home)/public/n HTTP/1.1", ["Content-Length: -5"]), false))
        cases.append(("binary junk", [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03] + Array(repeating: 0, count: 64), true))
        cases.append(("bare newline", Array("\n\n\n".utf8), true))
        return cases
    }

    @Test func brokenRequestsGetClientErrorsAndTheServerKeepsServing() async throws {
        try await withServer(configure: { $0.bodyLimits.form = 64 << 10 }) { server in
            let (browser, id) = try await server.register("mallory")
            let cookie = try #require(browser.cookies["sakai-trusted-authn"])
            var cases = Self.brokenRequests(home: "/~\(id)", cookie: cookie, port: server.port)
            // Random damage to valid requests, from a fixed seed.
            var random = SplitMix(seed: 42)
            let valid = cases.count
            let templates = [
                "GET /system/me HTTP/1.1", "GET /~\(id)/public/authprofile.profile.json HTTP/1.1",
                "GET /system/batch?requests=%5B%7B%22url%22%3A%22%2Fsystem%2Fme%22%7D%5D HTTP/1.1",
            ]
            while cases.count < valid + 240 {
                var bytes = Array("\(templates[Int(random.next() % UInt64(templates.count))])\r\nHost: 127.0.0.1:\(server.port)\r\nConnection: close\r\nCookie: sakai-trusted-authn=\(cookie)\r\n\r\n".utf8)
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                    }
                }
                cases.append(("mutation \(cases.count - valid)", bytes, true))
            }
            // What some of them must come to, beyond "not a 5xx".
            let expected: [String: Set<Int>] = [
                "oversized form": [413], "bad content length": [400], "huge header": [400, 431], "many headers": [400, 431],
                "multipart without boundary": [400],
                "GET /dev/%2e%2e/%2e%2e/etc/passwd": [400, 404], "GET /dev/../../etc/passwd": [400, 404],
                "GET /var/templates/../../etc.json": [400, 404], "GET /%zz": [400], "GET \(cases.first { $0.label.contains("%00x") }?.label.dropFirst(4) ?? "")": [400],
            ]
            var answered = 0
            for (index, test) in cases.enumerated() {
                let reply = try await RawHTTP.exchange(test.bytes, port: server.port, shutdownWrite: test.truncated, timeout: 10)
                if let reply {
                    answered += 1
                    #expect(reply.status < 500, "\(test.label): \(reply.status) \(reply.text.prefix(200))")
                    #expect(!reply.text.contains("root:x:0:0"), "\(test.label) returned /etc/passwd")
                    if let statuses = expected[test.label] {
                        #expect(statuses.contains(reply.status), "\(test.label): \(reply.status) \(reply.text.prefix(200))")
                    }
                }
                if index % 25 == 0 {
                    #expect(try await browser.get("/system/me").status == 200, "the server stopped serving after \(test.label)")
                }
            }
            #expect(cases.count > 300 && answered > 200)
            let me = try await browser.get("/system/me").object
            #expect((me["user"] as? [String: Any])?["userid"] as? String == id, "the server still serves, and the session lives")
        }
    }

    /// However a path climbs out (dots, encoded dots, encoded slashes, doubled encodings,
    /// backslashes), no answer carries a file from outside the UI tree: not the system's, not
    /// one beside the tree.
    @Test func aTraversalPathNeverReturnsAFilesContent() async throws {
        let outer = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-traversal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outer) }
        let ui = outer.appendingPathComponent("ui")
        try FileManager.default.createDirectory(at: ui.appendingPathComponent("dev"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ui.appendingPathComponent("var/templates"), withIntermediateDirectories: true)
        try Data("inside".utf8).write(to: ui.appendingPathComponent("dev/index.html"))
        try Data("SIBLING-SECRET".utf8).write(to: outer.appendingPathComponent("secret.txt"))
        try Data(#"{"SIBLING-SECRET":1}"#.utf8).write(to: outer.appendingPathComponent("secret.json"))
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8))?.split(separator: "\n").first.map(String.init) ?? "root:x:0:0"
        try await withServer(configure: { $0.uiDirectory = ui }) { server in
            let (browser, _) = try await server.register("trudy")
            let climbs = [
                "/../secret.txt", "/dev/../../secret.txt", "/dev/%2e%2e/%2e%2e/secret.txt", "/dev/%2E%2E%2F%2E%2E%2Fsecret.txt",
                "/dev/..%2f..%2fsecret.txt", "/dev/%252e%252e/%252e%252e/secret.txt", "/dev/.%2e/.%2e/secret.txt",
                "/dev/..\\..\\secret.txt", "/dev/%5c..%5c..%5csecret.txt", "//../secret.txt", "/./../secret.txt",
                "/var/templates/../../../secret.json", "/var/templates/%2e%2e/%2e%2e/%2e%2e/secret.json", "/var/templates/..%2f..%2f..%2fsecret",
                "/dev/" + String(repeating: "../", count: 12) + "etc/passwd", "/dev/" + String(repeating: "%2e%2e/", count: 12) + "etc/passwd",
                "/~..%2f..%2fetc/passwd.json", "/p/..%2f..%2f..%2fetc%2fpasswd", "/p/%2e%2e/%2e%2e/etc/passwd",
                "/system/batch?requests=" + HTTPSession.encode(#"[{"url":"/../secret.txt"},{"url":"/dev/%2e%2e/%2e%2e/secret.txt"}]"#),
            ]
            for climb in climbs {
                let reply = try await RawHTTP.exchange(
                    Array("GET \(climb) HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nConnection: close\r\nCookie: sakai-trusted-authn=\(browser.cookies["sakai-trusted-authn"] ?? "")\r\n\r\n".utf8),
                    port: server.port)
                let status = reply?.status ?? 0
                let text = reply?.text ?? ""
                #expect(!text.contains("SIBLING-SECRET") && !text.contains(passwd), "\(climb) returned a file from outside: \(text.prefix(120))")
                if climb.hasPrefix("/system/batch") {
                    #expect(status == 200 && !text.contains(#""status":200"#), "\(climb): \(text.prefix(200))")
                } else {
                    #expect((400..<500).contains(status), "\(climb) got \(status)")
                }
            }
            #expect(try await browser.get("/dev/index.html").text == "inside")
        }
    }
}

