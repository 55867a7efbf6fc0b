import Foundation
import Server
import Testing
import TestSupport

/// OAE's request rules: same-origin Referer on writes, no anonymous POST, throttled logins
/// and name checks, HTTP Basic for scripts, and the security headers.
@Suite struct SecurityTests {
    @Test func aWriteWithoutASameOriginRefererIsRefused() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("gina")
            let path = "/~\(id)/public/note"
            browser.referer = nil
            #expect(try await browser.post(path, [("a", "1")]).status == 400)
            browser.referer = "http://evil.example/page"
            #expect(try await browser.post(path, [("a", "2")]).status == 400)
            browser.referer = "http://127.0.0.1:\(server.port).evil.example/"
            #expect(try await browser.post(path, [("a", "3")]).status == 400)
            browser.referer = "/dev/me.html"
            #expect(try await browser.post(path, [("a", "4")]).status == 201)
            browser.referer = "http://127.0.0.1:\(server.port)/me"
            #expect(try await browser.post(path, [("b", "5")]).status == 200)
            let node = try await browser.get("\(path).json").object
            #expect(node["a"] as? String == "4" && node["b"] as? String == "5", "only the same-origin writes landed")
        }
    }

    @Test func anonymousPostsAreRefusedExceptLoginRegistrationAndGetOnlyBatches() async throws {
        try await withServer { server in
            let (_, id) = try await server.register("hank")
            let anonymous = server.session()
            let refused = try await anonymous.post("/~\(id)/public/note", [("a", "1")])
            #expect(refused.status == 405 && refused.text.contains("Anon users may not perform POST operations"))
            #expect(try await anonymous.post("/var/presence.json", [("sakai:status", "offline")]).status == 405)
            let gets = #"[{"url":"/dev/bundle/default.properties","method":"GET"},{"url":"/system/me","method":"GET"}]"#
            let batch = try await anonymous.post("/system/batch", [("requests", gets)])
            #expect(batch.status == 200)
            let withPost = #"[{"url":"/dev/bundle/default.properties","method":"GET"},{"url":"/~\#(id)/public/note","method":"POST","parameters":{"a":"1"}}]"#
            #expect(try await anonymous.post("/system/batch", [("requests", withPost)]).status == 405)
            #expect(try await anonymous.get("/~\(id)/public/note.json").status == 404, "nothing was written")
            #expect(try await anonymous.post("/system/sling/formlogin", [("sakaiauth:un", "hank"), ("sakaiauth:pw", "x")]).status == 401)
        }
    }

    @Test func repeatedFailedLoginsAreThrottledPerAccount() async throws {
        try await withServer { server in
            _ = try await server.register("ivan")
            let attacker = server.session()
            var statuses: [Int] = []
            for _ in 0..<7 {
                statuses.append(try await attacker.post("/system/sling/formlogin", [("sakaiauth:un", "ivan"), ("sakaiauth:pw", "guess")]).status)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 401 })
            #expect(statuses.last == 429)
            let blocked = try await attacker.post("/system/sling/formlogin", [("sakaiauth:un", "ivan"), ("sakaiauth:pw", "a long enough password")])
            #expect(blocked.status == 429 && blocked.header("Retry-After") != nil, "even the right password waits")
            let basic = "Basic " + Data("ivan:a long enough password".utf8).base64EncodedString()
            #expect(try await attacker.get("/system/me", headers: [("Authorization", basic)]).status == 429, "Basic auth is throttled too")
        }
    }

    @Test func failingOnPurposeFromElsewhereLocksNobodyOut() async throws {
        try await withServer { server in
            let (_, id) = try await server.register("ines")
            let attacker = server.session()
            attacker.sourceAddress = "127.0.0.2"
            var statuses: [Int] = []
            for _ in 0..<7 {
                statuses.append(try await attacker.post("/system/sling/formlogin", [("sakaiauth:un", "ines"), ("sakaiauth:pw", "guess")]).status)
            }
            #expect(statuses.last == 429, "the attacker's address waits")
            let owner = server.session()
            let login = try await owner.post("/system/sling/formlogin", [("sakaiauth:un", "ines"), ("sakaiauth:pw", "a long enough password")])
            #expect(login.status == 200, "the owner, from another address, logs in at once")
            #expect((try await owner.get("/system/me").object["user"] as? [String: Any])?["userid"] as? String == id)
        }
    }

    /// Basic credentials on every request once cost a password derivation each, on an
    /// unbounded queue: a hundred clients starved the whole server.
    @Test func aFloodOfBasicLoginsKeepsTheServerAnswering() async throws {
        try await withServer(passwordCost: 15) { server in
            let (_, id) = try await server.register("kurt")
            let good = "Basic " + Data("kurt:a long enough password".utf8).base64EncodedString()
            let clock = ContinuousClock()
            let started = clock.now
            let (statuses, anonymousWait) = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await server.session().get("/system/me", headers: [("Authorization", good)]).status }
                }
                let asked = clock.now
                let anonymous = try await server.session().get("/system/me")
                let wait = asked.duration(to: clock.now)
                #expect(anonymous.status == 200)
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return (statuses, wait)
            }
            #expect(statuses.count == 100 && statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
            #expect(anonymousWait < .seconds(2), "an anonymous request waited \(anonymousWait) behind the logins")
            #expect(started.duration(to: clock.now) < .seconds(20))
            let me = try await server.session().get("/system/me", headers: [("Authorization", good)]).object
            #expect((me["user"] as? [String: Any])?["userid"] as? String == id)
        }
    }

    @Test func theUIFolderServesNothingALinkLeadsOutOf() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-outside-\(UUID().uuidString)")
        let ui = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-ui-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: outside)
            try? FileManager.default.removeItem(at: ui)
        }
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ui.appendingPathComponent("dev/lib"), withIntermediateDirectories: true)
        try Data("secret outside".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        try Data("inside".utf8).write(to: ui.appendingPathComponent("dev/lib/inside.txt"))
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: ui.appendingPathComponent("dev/escape.txt").path, withDestinationPath: outside.appendingPathComponent("secret.txt").path)
        try manager.createSymbolicLink(atPath: ui.appendingPathComponent("dev/away").path, withDestinationPath: outside.path)
        try manager.createSymbolicLink(atPath: ui.appendingPathComponent("dev/alias.txt").path, withDestinationPath: "lib/inside.txt")
        try await withServer(configure: { $0.uiDirectory = ui }) { server in
            let browser = server.session()
            #expect(try await browser.get("/dev/lib/inside.txt").text == "inside")
            #expect(try await browser.get("/dev/alias.txt").text == "inside", "a link inside the tree is followed")
            for target in ["/dev/escape.txt", "/dev/away/secret.txt"] {
                let reply = try await browser.get(target)
                #expect(reply.status == 404 && !reply.text.contains("secret outside"), "\(target)")
            }
        }
    }

    @Test func theSessionCookieIsSecureOverHTTPS() async throws {
        try await withServer(configure: { $0.trustedProxies = ["127.0.0.1"] }) { server in
            _ = try await server.register("lena")
            let fields = [("sakaiauth:un", "lena"), ("sakaiauth:pw", "a long enough password")]
            let proxied = try await server.session().post("/system/sling/formlogin", fields, headers: [("X-Forwarded-Proto", "https")])
            #expect(proxied.header("Set-Cookie")?.contains("; Secure") == true)
            let plain = try await server.session().post("/system/sling/formlogin", fields)
            #expect(plain.status == 200 && plain.header("Set-Cookie")?.contains("Secure") == false)
            let untrusted = server.session()
            untrusted.sourceAddress = "127.0.0.3"
            let spoofed = try await untrusted.post("/system/sling/formlogin", fields, headers: [("X-Forwarded-Proto", "https")])
            #expect(spoofed.status == 200 && spoofed.header("Set-Cookie")?.contains("Secure") == false, "only a trusted proxy is believed")
        }
        try await withServer(configure: { $0.secureCookies = true }) { server in
            _ = try await server.register("lena")
            let login = try await server.session().post("/system/sling/formlogin", [("sakaiauth:un", "lena"), ("sakaiauth:pw", "a long enough password")])
            #expect(login.header("Set-Cookie")?.contains("; Secure") == true)
        }
    }

    @Test func nameChecksAreRateLimitedPerAddress() async throws {
        try await withServer { server in
            let prober = server.session()
            var statuses: [Int] = []
            for index in 0..<40 {
                statuses.append(try await prober.get("/system/userManager/user.exists.html?userid=probe\(index)").status)
            }
            #expect(statuses.contains(429))
            #expect(statuses.prefix(10).allSatisfy { $0 == 404 })
        }
    }

    @Test func scriptsAuthenticateWithHTTPBasic() async throws {
        try await withServer { server in
            let (_, id) = try await server.register("judy")
            let script = server.session()
            let good = "Basic " + Data("judy:a long enough password".utf8).base64EncodedString()
            let me = try await script.get("/system/me", headers: [("Authorization", good)]).object
            #expect((me["user"] as? [String: Any])?["userid"] as? String == id)
            let bad = "Basic " + Data("judy:nope".utf8).base64EncodedString()
            let refused = try await script.get("/system/me", headers: [("Authorization", bad)])
            #expect(refused.status == 401 && refused.header("WWW-Authenticate") != nil)
            #expect(try await script.get("/system/me", headers: [("Authorization", "Basic !!!")]).status == 400)
        }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        try await withServer { server in
            let browser = server.session()
            for target in ["/", "/system/me", "/no/such/thing", "/dev/bundle/default.properties"] {
                let reply = try await browser.get(target)
                #expect(reply.header("X-Content-Type-Options") == "nosniff", "\(target)")
                #expect(reply.header("X-Frame-Options") == "DENY" && reply.header("X-Frame-Option") == "DENY", "\(target)")
                #expect(reply.header("X-Request-Id")?.isEmpty == false, "\(target)")
            }
            let file = try await browser.get("/dev/index.html")
            let etag = try #require(file.header("ETag"))
            #expect(try await browser.get("/dev/index.html", headers: [("If-None-Match", etag)]).status == 304)
        }
    }
}
