import Foundation
import Testing
import TestSupport

@testable import Repository

@Suite struct FileSystemBlobStoreTests {
    struct SourceFailed: Error {}

    @Test func stagedBytesBecomeVisibleOnlyWhenPublished() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let writer = try store.beginWrite()
        try writer.append(Data("some bytes".utf8))
        let staged = try writer.finish()
        #expect(staged.id == BlobID(hashing: Data("some bytes".utf8)))
        #expect(!store.contains(staged.id))
        #expect(try store.publish(staged))
        #expect(store.contains(staged.id))
        #expect(try store.verify(staged.id) == .intact)
        #expect(dir.files(under: "tmp").isEmpty)
    }

    /// Full buffers are written directly to disk, in parallel and out of order, and a partial
    /// last one through the page cache: whatever the length and however the bytes arrive, the
    /// stored file and the id must be those of the bytes.
    @Test(arguments: [0, 1, 4095, 4096, 512 << 10, (512 << 10) + 1, (3 << 20) + 123, 5 << 20])
    func storedBytesAndTheirIDMatchTheSourceAtEveryLength(length: Int) throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let writer = try store.beginWrite()
        var offset = 0
        var piece = 1
        while offset < bytes.count {
            // Pieces of growing, uneven sizes, as a network delivers them.
            let end = min(bytes.count, offset + piece)
            try writer.append(Array(bytes[offset..<end]))
            offset = end
            piece = piece * 3 + 7
        }
        let staged = try writer.finish()
        #expect(staged.id == BlobID(hashing: Data(bytes)))
        #expect(staged.length == Int64(length))
        try store.publish(staged)
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path(for: staged.id))) == Data(bytes))
        #expect(try store.verify(staged.id) == .intact)
    }

    /// tmpfs refuses direct I/O: the store must notice and write through the page cache.
    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/shm")))
    func aFileSystemWithoutDirectIOStoresTheSameBytes() throws {
        let root = URL(fileURLWithPath: "/dev/shm/oaken-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try FileSystemBlobStore(root: root)
        let bytes = RandomBytes.generate(count: (2 << 20) + 999, seed: 4)
        let writer = try store.beginWrite()
        try writer.append(bytes)
        let staged = try writer.finish()
        #expect(staged.id == BlobID(hashing: Data(bytes)))
        try store.publish(staged)
        #expect(try store.verify(staged.id) == .intact)
    }

    @Test func writingTheSameBytesAgainKeepsTheStoredCopy() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let source = try dir.writeRandomFile("source", count: 300_000, seed: 1)
        let first = try store.stage(fileAt: source.path)
        #expect(try store.publish(first))
        let inode = try FileManager.default.attributesOfItem(atPath: store.path(for: first.id))[.systemFileNumber] as? Int
        let second = try store.stage(fileAt: source.path)
        #expect(second.id == first.id)
        #expect(try store.publish(second) == false)
        let after = try FileManager.default.attributesOfItem(atPath: store.path(for: first.id))[.systemFileNumber] as? Int
        #expect(inode == after, "the stored file was replaced")
        #expect(dir.files(under: "sha256").count == 1)
        #expect(dir.files(under: "tmp").isEmpty)
    }

    @Test func aSourceThatFailsHalfwayLeavesNothingBehind() async throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
            continuation.yield(RandomBytes.generate(count: 1 << 20, seed: 2))
            continuation.yield(RandomBytes.generate(count: 1 << 20, seed: 3))
            continuation.finish(throwing: SourceFailed())
        }
        await #expect(throws: SourceFailed.self) { try await store.stage(chunks) }
        #expect(dir.files(under: "tmp").isEmpty)
        #expect(dir.files(under: "sha256").isEmpty)
    }

    @Test func aWriteOverTheSizeLimitIsAbandonedCleanly() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url, maximumBlobSize: 1 << 20)
        let source = try dir.writeRandomFile("big", count: (1 << 20) + 1, seed: 4)
        #expect(throws: RepositoryError.tooLarge(limit: 1 << 20)) { try store.stage(fileAt: source.path) }
        #expect(dir.files(under: "tmp").isEmpty)
        #expect(dir.files(under: "sha256").isEmpty)

        let fits = try dir.writeRandomFile("fits", count: 1 << 20, seed: 4)
        #expect(try store.publish(try store.stage(fileAt: fits.path)))
    }

    @Test func anUnfinishedWriterCleansUpWhenReleased() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        do {
            let writer = try store.beginWrite()
            try writer.append(Data("never finished".utf8))
            #expect(dir.files(under: "tmp").count == 1)
        }
        #expect(dir.files(under: "tmp").isEmpty)
    }

    @Test func concurrentWritesOfTheSameBytesAllSucceedWithOneBlob() async throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let bytes = RandomBytes.generate(count: 2 << 20, seed: 5)
        let ids = try await withThrowingTaskGroup(of: BlobID.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let writer = try store.beginWrite()
                    // Many small appends so the writers interleave.
                    for start in stride(from: 0, to: bytes.count, by: 64 << 10) {
                        try writer.append(bytes[start..<min(start + (64 << 10), bytes.count)])
                    }
                    let staged = try writer.finish()
                    try store.publish(staged)
                    return staged.id
                }
            }
            return try await group.reduce(into: Set<BlobID>()) { $0.insert($1) }
        }
        #expect(ids == [BlobID(hashing: bytes)])
        #expect(dir.files(under: "sha256").count == 1)
        #expect(dir.files(under: "tmp").isEmpty)
        #expect(try store.verify(BlobID(hashing: bytes)) == .intact)
    }

    @Test func readsReturnTheStoredBytesAtAnyOffset() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let source = try dir.writeRandomFile("source", count: 3_000_001, seed: 6)
        let staged = try store.stage(fileAt: source.path)
        try store.publish(staged)
        let reader = try store.openForReading(staged.id)
        defer { reader.close() }
        let expected = try [UInt8](Data(contentsOf: source))
        #expect(reader.length == Int64(expected.count))
        #expect(try reader.read(at: 2_999_990, upTo: 100) == Array(expected[2_999_990...]))
        #expect(try reader.read(at: 3_000_001, upTo: 100).isEmpty)
        #expect(staged.head == Array(expected.prefix(8192)))
    }

    @Test func verificationNamesMissingAndCorruptBlobs() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let staged = try store.stage(fileAt: try dir.writeRandomFile("a", count: 5000, seed: 7).path)
        try store.publish(staged)
        try flipOneByte(at: 1234, of: store.path(for: staged.id))
        guard case .corrupt(let actual) = try store.verify(staged.id) else {
            Issue.record("a flipped byte went unnoticed")
            return
        }
        #expect(actual != staged.id)
        let absent = BlobID(hashing: Data("absent".utf8))
        #expect(try store.verify(absent) == .missing)
        #expect(throws: RepositoryError.notFound(kind: "blob", id: absent.description)) {
            try store.openForReading(absent)
        }
    }

    @Test func stagedWritesOfDeadProcessesAreAbandoned() throws {
        let dir = try TemporaryDirectory()
        let store = try FileSystemBlobStore(root: dir.url)
        let live = try store.beginWrite()
        try live.append(Data("in progress".utf8))
        // No process has a pid above the kernel's pid_max (at most 2^22).
        let dead = "99999999-left-by-a-crash.partial"
        _ = FileManager.default.createFile(atPath: dir.url.appendingPathComponent("tmp/\(dead)").path, contents: Data("x".utf8))
        #expect(try store.abandonedWrites() == [dead])
        #expect(try store.removeAbandonedWrites() == 1)
        #expect(dir.files(under: "tmp").count == 1, "the live write was removed")
        live.cancel()
    }
}

/// Damages a stored blob the way a failing disk would.
func flipOneByte(at offset: Int, of path: String) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try handle.read(upToCount: 1)![0]
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [byte ^ 0x01])
}
