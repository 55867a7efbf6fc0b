import Foundation
import Testing

/// `oaken index` and `oaken search` as an operator runs them, PDFs through worker processes.
@Suite(.serialized) struct IndexCommandTests {
    let directory: URL
    let oaken: OakenProcess

    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("corpus")

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        oaken = OakenProcess(dataDirectory: directory.appendingPathComponent("data"))
    }

    /// The report's lines as (label, path's last component) pairs.
    func outcomes(_ report: URL) throws -> [String: String] {
        var outcomes: [String: String] = [:]
        for line in try String(contentsOf: report, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            outcomes[URL(fileURLWithPath: String(fields[4])).lastPathComponent] = String(fields[0])
        }
        return outcomes
    }

    @Test func everyHostileInputGetsItsOutcomeAndTheIndexerGoesOn() throws {
        let report = directory.appendingPathComponent("report.tsv")
        // The deflate bomb takes poppler many seconds of parsing: the time limit stops it. The
        // whole folder is done well within two minutes on two workers: no file holds up the run.
        let clock = ContinuousClock()
        let started = clock.now
        let run = try oaken.run([
            "index", Self.corpus.appendingPathComponent("hostile").path, "--report", report.path, "--visibility", "public",
            "--timeout", "3", "--jobs", "2",
        ])
        let elapsed = started.duration(to: clock.now)
        #expect(run.status == 0, "\(run.error)")
        #expect(elapsed < .seconds(120), "the hostile folder took \(elapsed)")
        #expect(try outcomes(report) == [
            "truncated.pdf": "damaged",
            "zero-bytes.pdf": "empty-text",
            "encrypted.pdf": "encrypted",
            "thousands-of-empty-pages.pdf": "empty-text",
            "entity-bomb.html": "indexed",
            "nested-100000.html": "indexed",
            "invalid-utf8.txt": "indexed",
            "pdf-named-html.html": "indexed",
            "html-named-pdf.pdf": "indexed",
            "deflate-bomb.pdf": "timed-out",
            "many-attributes.html": "indexed",
        ])
        let search = try oaken.run(["search", "tectonic", "--json"])
        #expect(search.output.contains("\"total\":1"), "the PDF named .html is searchable: \(search.output)")
        #expect(try oaken.run(["search", "secret"]).output.hasPrefix("0 items"), "the encrypted PDF's text leaked")
    }

    /// PDFs and HTML alike run in worker processes under the wall-clock limit.
    @Test func aDocumentOverItsTimeLimitIsKilledAndCountedAsTimedOut() throws {
        let report = directory.appendingPathComponent("report.tsv")
        let folder = directory.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["thousands-of-empty-pages.pdf", "entity-bomb.html"] {
            try FileManager.default.copyItem(
                at: Self.corpus.appendingPathComponent("hostile/\(name)"), to: folder.appendingPathComponent(name))
        }
        let run = try oaken.run(["index", folder.path, "--timeout", "0.001", "--report", report.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(try outcomes(report) == ["thousands-of-empty-pages.pdf": "timed-out", "entity-bomb.html": "timed-out"])
    }

    @Test func theSamePDFUnderFiftyNamesIsExtractedOnceAndFoundFiftyTimes() throws {
        let folder = directory.appendingPathComponent("copies")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pdf = Self.corpus.appendingPathComponent("golden/three-pages.pdf")
        for i in 0..<50 {
            try FileManager.default.copyItem(at: pdf, to: folder.appendingPathComponent("copy-\(i).pdf"))
        }
        let run = try oaken.run(["index", folder.path, "--visibility", "public", "--verbose"])
        #expect(run.status == 0, "\(run.error)")
        let extracted = run.output.split(separator: "\n").filter { $0.hasPrefix("extracted\t") }
        #expect(extracted.count == 1)
        #expect(run.output.contains("duplicate     49"))
        let search = try oaken.run(["search", "zebrafish", "--limit", "100", "--json"])
        #expect(search.output.contains("\"total\":50"))
        let stats = try oaken.run(["stats", "--json"]).output
        #expect(stats.contains("\"items\":50") && stats.contains("\"blobs\":1"))
    }

    /// Killed in the middle of extracting, then run again: the same final index, and no blob
    /// whose extraction finished before the kill is extracted again.
    @Test func anInterruptedIndexingRunResumesWithoutRepeatingWork() throws {
        let corpus = directory.appendingPathComponent("generated")
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generate.arguments = ["python3", Self.corpus.appendingPathComponent("generate.py").path, "zipf", corpus.path, "--count", "25", "--seed", "5"]
        try generate.run()
        generate.waitUntilExit()
        #expect(generate.terminationStatus == 0)

        // Small commits, so that the kill falls between two of them.
        let (process, lines) = try oaken.start(
            ["index", corpus.path, "--verbose", "--jobs", "2", "--visibility", "public", "--commit-size", "2K"])
        var extractedBeforeKill: Set<String> = []
        while extractedBeforeKill.count < 20, let line = lines.nextLine() {
            let fields = line.split(separator: "\t").map(String.init)
            if fields[0] == "extracted" { extractedBeforeKill.insert(fields[3]) }
        }
        kill(process.processIdentifier, SIGKILL)
        while let line = lines.nextLine() {
            let fields = line.split(separator: "\t").map(String.init)
            if fields[0] == "extracted" { extractedBeforeKill.insert(fields[3]) }
        }
        process.waitUntilExit()
        #expect(extractedBeforeKill.count >= 20)

        let resumed = try oaken.run(["index", corpus.path, "--verbose", "--jobs", "2", "--visibility", "public"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let extractedAfter = Set(resumed.output.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            .filter { $0[0] == "extracted" }.map { $0[3] })
        #expect(extractedAfter.isDisjoint(with: extractedBeforeKill), "extracted twice: \(extractedAfter.intersection(extractedBeforeKill))")
        // A batch committed just before the kill may not have printed its lines yet: those
        // blobs are in neither set, and the comparison with a clean run below shows they are
        // indexed all the same.
        #expect(extractedBeforeKill.count + extractedAfter.count <= 75)
        #expect(!extractedAfter.isEmpty, "the kill came too late to test resuming")

        // The same index as one uninterrupted run over the same files.
        let clean = OakenProcess(dataDirectory: directory.appendingPathComponent("clean"))
        #expect(try clean.run(["index", corpus.path, "--visibility", "public"]).status == 0)
        for query in ["kaka", "lomi OR nelo", "\"kalo mine\"", "sa*"] {
            let a = try oaken.run(["search", query, "--json", "--limit", "100"]).output
            let b = try clean.run(["search", query, "--json", "--limit", "100"]).output
            #expect(Self.namesAndTotal(a) == Self.namesAndTotal(b), "\(query)")
        }
        let report = directory.appendingPathComponent("report.tsv")
        let again = try oaken.run(["index", corpus.path, "--verbose", "--report", report.path])
        let outcomes = try outcomes(report)
        #expect(outcomes.count == 75 && outcomes.values.allSatisfy { $0 == "indexed" }, "\(outcomes)")
        #expect(!again.output.contains("extracted\t"), "an unchanged folder was extracted again")
        #expect(!again.output.contains("stored\t"), "an unchanged folder was stored again")
    }

    static func namesAndTotal(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let results = object["results"] as? [[String: Any]]
        else { return "unreadable: \(json)" }
        return "\(object["total"] ?? -1) " + results.compactMap { $0["name"] as? String }.sorted().joined(separator: ",")
    }
}
