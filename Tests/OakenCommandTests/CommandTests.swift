import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct CommandTests {
    let directory: URL
    let oaken: OakenProcess

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        oaken = OakenProcess(dataDirectory: directory.appendingPathComponent("data"))
    }

    func write(_ name: String, count: Int, seed: UInt64) throws -> URL {
        var generator = SplitMix(seed: seed)
        let url = directory.appendingPathComponent(name)
        try Data(generator.bytes(count)).write(to: url)
        return url
    }

    @Test func putGetStatsAndCheckWorkTogether() throws {
        let file = try write("notes.bin", count: 200_000, seed: 1)
        var lines: [String] = []
        for _ in 0..<3 {
            let put = try oaken.run(["put", file.path])
            #expect(put.status == 0, "\(put.error)")
            lines.append(put.output.trimmingCharacters(in: .newlines))
        }
        let fields = lines.map { $0.split(separator: " ").map(String.init) }
        #expect(Set(fields.map { $0[0] }).count == 3, "each put makes a new item")
        #expect(Set(fields.map { $0[1] }).count == 1, "identical bytes are one blob")
        #expect(fields.allSatisfy { $0[1].hasPrefix("sha256-") && $0[2] == "notes.bin" })

        let copy = directory.appendingPathComponent("copy.bin")
        #expect(try oaken.run(["get", fields[1][0], "-o", copy.path]).status == 0)
        #expect(try Data(contentsOf: copy) == Data(contentsOf: file))

        let stats = try oaken.run(["stats", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Int]
        #expect(json?["items"] == 3)
        #expect(json?["blobs"] == 1)
        #expect(json?["bytesSavedByDeduplication"] == 400_000)

        let check = try oaken.run(["check"])
        #expect(check.status == 0)
        #expect(check.output == "ok\n")
    }

    @Test func checkFailsAndNamesABlobWithAFlippedByte() throws {
        let put = try oaken.run(["put", try write("a.bin", count: 50_000, seed: 2).path])
        let blob = String(put.output.split(separator: " ")[1])
        let hex = blob.dropFirst("sha256-".count)
        let path = oaken.dataDirectory.appendingPathComponent("blobs/sha256/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path.path)
        var bytes = try Data(contentsOf: path)
        bytes[777] ^= 0x80
        try bytes.write(to: path)

        let check = try oaken.run(["check"])
        #expect(check.status == 1)
        #expect(check.output.contains("corrupt blob \(blob)"))

        let get = try oaken.run(["get", String(put.output.split(separator: " ")[0]), "-o", directory.appendingPathComponent("out").path])
        #expect(get.status != 0, "get must refuse bytes that do not match their id")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
    }

    @Test func usersAreAddedWithAPasswordFromAFileOrStandardInput() throws {
        let passwordFile = directory.appendingPathComponent("pw")
        try "correct horse\nignored second line\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        let added = try oaken.run(["user", "add", "alice", "--first-name", "Alice", "--last-name", "Liddell", "--password-file", passwordFile.path])
        #expect(added.status == 0, "\(added.error)")
        #expect(added.output.hasPrefix("created alice (id "))

        let piped = try oaken.run(["user", "add", "bob", "--first-name", "Bob", "--last-name", "B"], input: "battery staple\n")
        #expect(piped.status == 0, "\(piped.error)")

        let again = try oaken.run(["user", "add", "ALICE", "--first-name", "A", "--last-name", "L"], input: "whatever-pw\n")
        #expect(again.status != 0)
        #expect(again.error.contains("taken"))

        let owned = try oaken.run(["put", try write("b.bin", count: 10, seed: 3).path, "--owner", "alice", "--visibility", "public"])
        #expect(owned.status == 0, "\(owned.error)")
        let unknown = try oaken.run(["put", try write("c.bin", count: 10, seed: 4).path, "--owner", "nobody"])
        #expect(unknown.status != 0)
        #expect(try oaken.run(["stats", "--json"]).output.contains("\"users\":2"))
    }

    @Test func anOversizedFileIsRefusedAndLeavesNothing() throws {
        let big = try write("big.bin", count: 3 << 20, seed: 5)
        let put = try oaken.run(["put", big.path, "--max-upload", "1M"])
        #expect(put.status != 0)
        #expect(put.error.contains("larger than the limit"))
        let check = try oaken.run(["check"])
        #expect(check.status == 0, "\(check.output)")
        #expect(try oaken.run(["stats", "--json"]).output.contains("\"items\":0"))
    }

    /// `oaken put` killed with SIGKILL at a random point of a long run: whatever it had
    /// acknowledged survives intact, and what it left half done is garbage that `gc` removes.
    @Test(arguments: [1, 2, 3])
    func aKilledPutLosesNothingItAcknowledged(round: Int) throws {
        var generator = SplitMix(seed: UInt64(round) &* 7919)
        let files = try (0..<24).map { i in
            try write("doc-\(i).bin", count: Int.random(in: 50_000...3_000_000, using: &generator), seed: UInt64(round * 100 + i))
        }
        var acknowledged: [(pool: String, source: URL)] = []
        func record(_ line: String) throws {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 3, "unexpected output: \(line)")
            acknowledged.append((fields[0], try #require(files.first { $0.lastPathComponent == fields[2] })))
        }
        for _ in 0..<3 {
            let (process, lines) = try oaken.start(["put"] + files.map(\.path))
            let killAfter = Int.random(in: 0...8, using: &generator)
            var seen = 0
            while seen < killAfter, let line = lines.nextLine() {
                try record(line)
                seen += 1
            }
            // The child is now somewhere in the next file: staging, publishing or committing.
            kill(process.processIdentifier, SIGKILL)
            // Lines it wrote before it died were acknowledged too.
            while let line = lines.nextLine() {
                try record(line)
            }
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
        }

        let gc = try oaken.run(["gc"])
        #expect(gc.status == 0, "\(gc.error)")
        let check = try oaken.run(["check"])
        #expect(check.status == 0, "after gc: \(check.output)")
        for (pool, source) in acknowledged {
            let copy = directory.appendingPathComponent("check-\(pool)")
            let get = try oaken.run(["get", pool, "-o", copy.path])
            #expect(get.status == 0, "acknowledged item \(pool) is gone: \(get.error)")
            #expect(try Data(contentsOf: copy) == Data(contentsOf: source))
        }
        let stats = try JSONSerialization.jsonObject(with: Data(try oaken.run(["stats", "--json"]).output.utf8)) as? [String: Int]
        #expect((stats?["items"] ?? -1) >= acknowledged.count)
    }
}
