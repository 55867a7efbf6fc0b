import ArgumentParser
import Foundation
import Indexer
import Repository

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search names, descriptions, tags and the text inside documents.",
        discussion: """
            The query is the UI's Lucene-like dialect: words (all must match), "phrases", prefix*, \
            AND, OR, NOT or -word, and parentheses. Without --as, it searches as an anonymous \
            visitor would: public items only.
            """)

    @OptionGroup var site: SiteOptions

    @Argument(help: "The query.")
    var query: String

    @Option(name: .customLong("as"), help: "Search as this user (login name): what they may read.")
    var viewer: String?

    @Option(help: "How many results to show.")
    var limit: Int = 10

    @Option(help: "How many results to skip.")
    var offset: Int = 0

    @Flag(help: "Print JSON, for scripts.")
    var json = false

    @Option(name: .customLong("repeat"), help: "Run the search this many times and print its latency (median and 99th percentile) instead of results.")
    var repeatCount: Int?

    func run() async throws {
        let parsed: SearchQuery
        do {
            parsed = try QueryParser().parse(query)
        } catch {
            throw ValidationError(error.description)
        }
        let site = try await site.openSite()
        let index = SQLiteSearchIndex(metadata: site.metadata)
        try index.prepare()
        var who = Viewer.anonymous
        if let viewer {
            guard let user = try await site.metadata.user(loginName: viewer) else {
                throw ValidationError("there is no user '\(viewer)'")
            }
            who = Viewer(principalIDs: try await site.metadata.principalIDs(ofUser: user.id), isLoggedIn: true)
        }
        let request = SearchRequest(query: parsed, viewer: who, limit: limit, offset: offset)
        if let repeatCount, repeatCount > 0 {
            try await printTiming(of: request, index: index, runs: repeatCount)
            return
        }
        let results = try await index.search(request)
        var items: [String: ContentItem] = [:]
        for hit in results.hits {
            items[hit.itemID] = try await site.metadata.item(id: hit.itemID)
        }
        json ? printJSON(results, items) : printText(results, items)
    }

    private func printTiming(of request: SearchRequest, index: SQLiteSearchIndex, runs: Int) async throws {
        var latencies: [Double] = []
        var total = 0
        let clock = ContinuousClock()
        for _ in 0..<runs {
            let start = clock.now
            total = try await index.search(request).total
            let elapsed = start.duration(to: clock.now)
            latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, Int((Double(latencies.count) * 0.99).rounded(.up)) - 1)]
        print(String(format: "runs=%d total=%d p50_ms=%.3f p99_ms=%.3f", runs, total, p50, p99))
    }

    private func printText(_ results: SearchResults, _ items: [String: ContentItem]) {
        print("\(results.total) item\(results.total == 1 ? "" : "s") match")
        let bold = isatty(STDOUT_FILENO) == 1
        for (rank, hit) in results.hits.enumerated() {
            let name = items[hit.itemID]?.name ?? "?"
            var line = "\(offset + rank + 1). \(name)  (\(hit.itemID)"
            if !hit.pages.isEmpty { line += ", page\(hit.pages.count > 1 ? "s" : "") \(hit.pages.map(String.init).joined(separator: ", "))" }
            print(line + ")")
            if let snippet = hit.snippet {
                let marked = snippet.map { c -> String in
                    switch c {
                    case SearchHit.highlightStart: bold ? "\u{1B}[1m" : "["
                    case SearchHit.highlightEnd: bold ? "\u{1B}[0m" : "]"
                    case "\n": " "
                    default: String(c)
                    }
                }.joined()
                print("   " + marked)
            }
        }
    }

    private func printJSON(_ results: SearchResults, _ items: [String: ContentItem]) {
        let hits: [[String: Any]] = results.hits.map { hit in
            [
                "poolId": hit.itemID, "name": items[hit.itemID]?.name ?? "", "score": hit.score,
                "pages": hit.pages, "snippet": hit.snippetHTML ?? "",
            ]
        }
        let object: [String: Any] = ["total": results.total, "results": hits]
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
