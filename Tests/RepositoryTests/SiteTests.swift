import Foundation
import GRDB
import Testing

@testable import Repository

@Suite struct SiteTests {
    @Test func theSameTenMegabyteFileStoredHundredTimesIsOneBlob() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator()
        let size = 10_000_000
        let file = try fixture.directory.writeRandomFile("lecture.bin", count: size, seed: 10)
        var items = Set<String>()
        for _ in 0..<100 {
            items.insert(try await fixture.put(file, owner: owner.id).id)
        }
        #expect(items.count == 100)
        #expect(fixture.blobFiles().count == 1)
        #expect(fixture.stagingFiles().isEmpty)
        let stats = try await fixture.site.metadata.statistics()
        #expect(stats.items == 100)
        #expect(stats.blobs == 1)
        #expect(stats.storedBytes == Int64(size))
        #expect(stats.logicalBytes == Int64(size) * 100)
        #expect(stats.bytesSavedByDeduplication == Int64(size) * 99)
    }

    @Test func concurrentUploadsOfTheSameBytesMakeOneBlob() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator().id
        let file = try fixture.directory.writeRandomFile("shared.bin", count: 1 << 20, seed: 11)
        let items = try await withThrowingTaskGroup(of: ContentItem.self) { group in
            for _ in 0..<12 {
                group.addTask { try await fixture.put(file, owner: owner) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(items.map(\.id)).count == 12)
        #expect(Set(items.map(\.blobID)).count == 1)
        #expect(fixture.blobFiles().count == 1)
        #expect(try await fixture.site.check().isEmpty)
    }

    @Test func aFlippedByteFailsTheCheckAndNamesTheBlob() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator().id
        let item = try await fixture.put(try fixture.directory.writeRandomFile("a.bin", count: 100_000, seed: 12), owner: owner)
        try await fixture.put(try fixture.directory.writeRandomFile("b.bin", count: 100_000, seed: 13), owner: owner)
        #expect(try await fixture.site.check().isEmpty)

        let id = try #require(item.blobID)
        try flipOneByte(at: 4242, of: fixture.site.blobs.path(for: id))
        let problems = try await fixture.site.check()
        #expect(problems.count == 1)
        guard case .corruptBlob(let named, _) = problems.first else {
            Issue.record("expected a corrupt blob, got \(problems)")
            return
        }
        #expect(named == id)
        #expect(problems[0].description.contains(id.description))
        #expect(!problems[0].isGarbage)
    }

    @Test func aMissingOrTruncatedBlobFailsTheCheck() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator().id
        let a = try await fixture.put(try fixture.directory.writeRandomFile("a.bin", count: 10_000, seed: 14), owner: owner)
        let b = try await fixture.put(try fixture.directory.writeRandomFile("b.bin", count: 10_000, seed: 15), owner: owner)
        try FileManager.default.removeItem(atPath: fixture.site.blobs.path(for: a.blobID!))
        let bPath = fixture.site.blobs.path(for: b.blobID!)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: bPath)
        truncate(bPath, 5000)
        let problems = try await fixture.site.check(verifyContents: false)
        #expect(problems.contains(.missingBlob(a.blobID!)))
        #expect(problems.contains(.lengthMismatch(b.blobID!, recorded: 10_000, stored: 5000)))
    }

    @Test func gcRemovesABlobOnlyWhenNoItemReferencesIt() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator().id
        let file = try fixture.directory.writeRandomFile("shared.bin", count: 50_000, seed: 16)
        let first = try await fixture.put(file, owner: owner)
        let second = try await fixture.put(file, owner: owner)
        let blob = try #require(first.blobID)

        try await fixture.site.metadata.deleteItem(id: first.id)
        #expect(try await fixture.site.collectGarbage().removedBlobs.isEmpty)
        #expect(fixture.site.blobs.contains(blob))

        try await fixture.site.metadata.deleteItem(id: second.id)
        #expect(try await fixture.site.check(verifyContents: false) == [.unreferencedBlob(blob)])
        #expect(try await fixture.site.collectGarbage().removedBlobs == [blob])
        #expect(!fixture.site.blobs.contains(blob))
        #expect(try await fixture.site.check().isEmpty)
        await #expect(throws: RepositoryError.notFound(kind: "item", id: first.id)) {
            try await fixture.site.metadata.deleteItem(id: first.id)
        }
    }

    @Test func gcRemovesUnrecordedFilesAndAbandonedUploads() async throws {
        let fixture = try await SiteFixture()
        // Bytes published by an upload whose transaction never committed.
        let staged = try fixture.site.blobs.stage(fileAt: try fixture.directory.writeRandomFile("x", count: 1000, seed: 17).path)
        try fixture.site.blobs.publish(staged)
        let dead = fixture.site.blobs.stagingDirectory.appendingPathComponent("99999999-crashed.partial")
        _ = FileManager.default.createFile(atPath: dead.path, contents: Data("partial".utf8))

        let problems = try await fixture.site.check()
        #expect(problems.contains(.unrecordedBlob(staged.id)))
        #expect(problems.contains(.abandonedWrite("99999999-crashed.partial")))
        let allRepairable = problems.allSatisfy { $0.isGarbage }
        #expect(allRepairable)
        let report = try await fixture.site.collectGarbage()
        #expect(report.removedBlobs == [staged.id])
        #expect(report.removedWrites == 1)
        #expect(try await fixture.site.check().isEmpty)
    }

    /// An upload of bytes that just became unreferenced races a `gc`. Whichever goes first,
    /// the acknowledged item must keep its blob.
    @Test func gcNeverRemovesABlobAConcurrentUploadIsAboutToReference() async throws {
        let fixture = try await SiteFixture()
        let owner = try await fixture.site.administrator().id
        let file = try fixture.directory.writeRandomFile("contended.bin", count: 256 << 10, seed: 18)
        var previous = try await fixture.put(file, owner: owner)
        for _ in 0..<40 {
            try await fixture.site.metadata.deleteItem(id: previous.id)
            async let upload = fixture.put(file, owner: owner)
            async let sweep = fixture.site.collectGarbage()
            let (item, _) = try await (upload, sweep)
            let blob = try #require(item.blobID)
            #expect(fixture.site.blobs.contains(blob), "gc removed the blob of an acknowledged item")
            previous = item
        }
        #expect(try await fixture.site.check().isEmpty)
    }

    @Test func aFailedItemCreationDiscardsTheStagedBlob() async throws {
        let fixture = try await SiteFixture()
        let staged = try fixture.site.blobs.stage(fileAt: try fixture.directory.writeRandomFile("x", count: 1000, seed: 19).path)
        await #expect(throws: RepositoryError.notFound(kind: "principal", id: "nobody")) {
            try await fixture.site.metadata.createItem(
                NewContentItem(name: "x", mimeType: "text/plain", ownerID: "nobody"), body: staged, blobs: fixture.site.blobs)
        }
        #expect(fixture.stagingFiles().isEmpty)
        #expect(fixture.blobFiles().isEmpty)
        #expect(try await fixture.site.check().isEmpty)
    }
}
