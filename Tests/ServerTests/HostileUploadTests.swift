import Foundation
import Indexer
import Testing
import TestSupport

/// The hostile corpus, uploaded through the server while others search: each file costs only
/// itself. Extraction runs as the real server runs it, in worker processes under a wall-clock
/// and memory limit.
@Suite struct HostileUploadTests {
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpus/hostile")

    actor Latencies {
        var slowest: Duration = .zero
        var slowestRequest = ""
        var count = 0
        var failures: [Int] = []
        func record(_ duration: Duration, status: Int, request: String) {
            if duration > slowest {
                slowest = duration
                slowestRequest = request
            }
            count += 1
            if status != 200 { failures.append(status) }
        }
    }

    @Test func theServerKeepsAnsweringWhileHostileUploadsAreExtracted() async throws {
        var limits = ExtractionLimits.standard
        limits.timeout = 3
        let extractor = DocumentExtractor.isolated(executable: LiveServer.oakenBinary, limits: limits)
        // One extraction worker, as on a small site: the other core is the server's.
        let server = try await LiveServer.start(extractor: extractor, extractionConcurrency: 1)
        do {
            let (alice, _) = try await server.register("alice")
            _ = try await alice.uploadOne("ordinary.txt", Array("ordinary words about plate tectonics".utf8))
            await server.extracted()
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.hostile.path).filter { !$0.hasPrefix(".") }.sorted()
            let latencies = Latencies()
            let clock = ContinuousClock()
            let searching = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<4 {
                        // Each searcher on a connection of its own, kept alive, as browsers do.
                        let session = server.session()
                        if client > 0 { session.cookies = alice.cookies }
                        session.keepingAlive()
                        group.addTask {
                            while !Task.isCancelled {
                                let started = clock.now
                                let reply = try await session.get("/var/search/pool/all.json?q=tectonics&items=10")
                                await latencies.record(started.duration(to: clock.now), status: reply.status, request: "a search")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            var ids: [String: String] = [:]
            for name in names {
                let bytes = [UInt8](try Data(contentsOf: Self.hostile.appendingPathComponent(name)))
                let started = clock.now
                let reply = try await alice.upload([(name, bytes)])
                await latencies.record(started.duration(to: clock.now), status: reply.status == 201 ? 200 : reply.status, request: "the upload of \(name)")
                ids[name] = (reply.object[name] as? [String: Any])?["poolId"] as? String
            }
            await server.extracted()
            searching.cancel()
            _ = try? await searching.value
            let seen = await latencies.count
            let slowest = await latencies.slowest
            let failures = await latencies.failures
            #expect(failures.isEmpty, "failed requests: \(failures)")
            #expect(seen > names.count, "the searchers got answers throughout (\(seen) requests)")
            let slowestRequest = await latencies.slowestRequest
            #expect(slowest < .seconds(2), "the slowest request, \(slowestRequest), took \(slowest)")
            // Every file ends with a recorded outcome.
            var outcomes: [String: String] = [:]
            for name in names {
                let id = try #require(ids[name], "\(name) was not stored")
                let state = try await alice.get("/p/\(id).json").object["oaken:extraction"] as? [String: Any]
                outcomes[name] = state?["outcome"] as? String ?? (state?["state"] as? String ?? "none")
            }
            #expect(outcomes == [
                "truncated.pdf": "damaged", "zero-bytes.pdf": "empty-text", "encrypted.pdf": "encrypted",
                "thousands-of-empty-pages.pdf": "empty-text", "entity-bomb.html": "indexed", "nested-100000.html": "indexed",
                "invalid-utf8.txt": "indexed", "pdf-named-html.html": "indexed", "html-named-pdf.pdf": "indexed",
                "deflate-bomb.pdf": "timed-out", "many-attributes.html": "indexed",
            ])
            #expect(try await alice.get("/var/search/pool/all.json?q=survivor").object["total"] as? Int == 2)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}
