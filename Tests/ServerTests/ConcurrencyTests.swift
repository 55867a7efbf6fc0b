import Foundation
import Testing
import TestSupport

/// Many requests at once, each reading the database several times.
@Suite struct ConcurrencyTests {
    @Test func fortyConcurrentBatchesAllComplete() async throws {
        try await withServer { server in
            let (browser, id) = try await server.register("concurrent")
            let cookie = try #require(browser.cookies["sakai-trusted-authn"])
            _ = try await browser.post("/~\(id)/public/pubspace", [(":operation", "import"), (":contentType", "json"), (":content", #"{"a":{"b":"c"}}"#)])
            // A batch of five inner reads: each request reads the database several times.
            let batch = BootSequenceTests.batchTarget([
                "/system/me", "/~\(id)/public/authprofile.profile.json", "/~\(id)/public/pubspace.infinity.json",
                "/~\(id)/public/pubspace/a.json", "/~\(id)/message.count.json",
            ])
            let request = Array("GET \(batch) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: sakai-trusted-authn=\(cookie)\r\n\r\n".utf8)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await RawHTTP.exchange(request, port: server.port, timeout: 20)?.status ?? 0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 40 && statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let me = try await browser.get("/system/me").object
            #expect((me["user"] as? [String: Any])?["userid"] as? String == id)
        }
    }
}
