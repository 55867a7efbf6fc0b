import Foundation
import Testing
import TestSupport

/// A request's fate is decided from its head: the anonymous and CSRF rules and the body's
/// announced size are checked before a byte of its body is read, and only uploads stream
/// large bodies.
@Suite struct RequestAdmissionTests {
    /// A request head announcing `length` body bytes that are never sent.
    static func head(_ line: String, port: Int, length: Int, type: String, extra: [String] = []) -> [UInt8] {
        let lines = [line, "Host: 127.0.0.1:\(port)", "Referer: /dev/index.html", "Content-Type: \(type)", "Content-Length: \(length)"]
            + extra
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    @Test func anAnonymousHugePostIsRefusedFromItsHeadAlone() async throws {
        try await withServer { server in
            let (_, id) = try await server.register("olga")
            let request = Self.head(
                "POST /~\(id)/public/n HTTP/1.1", port: server.port, length: 300 << 20, type: "multipart/form-data; boundary=x")
            let reply = try #require(
                try await RawHTTP.firstResponse(request, port: server.port), "no answer without the body: the server waited for it")
            #expect(reply.status == 405 && reply.header("Connection")?.lowercased() == "close")
            let login = Self.head("POST /system/sling/formlogin HTTP/1.1", port: server.port, length: 300 << 20,
                                  type: "application/x-www-form-urlencoded")
            #expect(try await RawHTTP.firstResponse(login, port: server.port)?.status == 413, "even login takes a small body only")
            #expect(try await server.session().get("/system/me").status == 200)
        }
    }

    @Test func aSignedInCallerGetsAFormsWorthAndAnImportsWorth() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("piet")
            let cookie = "Cookie: sakai-trusted-authn=\(try #require(browser.cookies["sakai-trusted-authn"]))"
            let huge = Self.head(
                "POST /~\(id)/public/n HTTP/1.1", port: server.port, length: 300 << 20, type: "application/x-www-form-urlencoded",
                extra: [cookie])
            #expect(try await RawHTTP.firstResponse(huge, port: server.port)?.status == 413)
            let multipart = Self.head(
                "POST /system/batch HTTP/1.1", port: server.port, length: 300 << 20, type: "multipart/form-data; boundary=x",
                extra: [cookie])
            #expect(try await RawHTTP.firstResponse(multipart, port: server.port)?.status == 413, "only uploads stream")

            let big = String(repeating: "w", count: 2 << 20)
            #expect(try await browser.post("/~\(id)/public/n", [("text", big)]).status == 413, "a plain form over 1 MiB")
            #expect(try await browser.get("/~\(id)/public/n.json").status == 404, "nothing was written")
            let content = #"{"text":"\#(big)"}"#
            let imported = try await browser.post(
                "/~\(id)/public/n", [(":operation", "import"), (":contentType", "json"), (":content", content)])
            #expect(imported.status == 201, "an import of a few MiB is accepted")
            #expect((try await browser.get("/~\(id)/public/n.json").object["text"] as? String)?.count == big.count)
        }
    }

    /// On a kept-alive connection, a refused request costs only itself: the next request on
    /// the same connection is answered.
    @Test func aRefusedRequestLeavesAKeptAliveConnectionServing() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("quin")
            browser.keepingAlive()
            #expect(try await browser.get("/system/me").status == 200)
            let big = String(repeating: "w", count: 2 << 20)
            #expect(try await browser.post("/~\(id)/public/n", [("text", big)]).status == 413)
            #expect(try await browser.get("/system/me").status == 200)
            #expect(try await browser.post("/~\(id)/public/n", [("text", "fits")]).status == 201)
            #expect(browser.connection?.reconnects == 1, "all on one connection")
            let anonymous = server.session().keepingAlive()
            #expect(try await anonymous.post("/~\(id)/public/n", [("text", String(repeating: "a", count: 100_000))]).status == 405)
            #expect(try await anonymous.get("/system/me").status == 200, "answered after a refusal decided from the head")
        }
    }
}

