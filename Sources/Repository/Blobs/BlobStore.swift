import Foundation

/// Immutable bytes addressed by their SHA-256. A blob has no owner and no name; those live in
/// the metadata, which is also what decides when a blob is no longer needed.
package protocol BlobStore: Sendable {
    /// Starts a streaming write. Bytes are hashed as they arrive and staged where a crash leaves
    /// them out of the store; nothing is visible until `publish` is called.
    func beginWrite() throws -> any BlobWriter

    /// Makes a staged blob part of the store. Idempotent: when the store already holds the
    /// bytes it keeps its copy, drops the staged one, and returns `false`. With `durably`
    /// (the default) the new name is synced to disk before it returns; without, the caller
    /// calls `makeDurable()` before it relies on the blob.
    @discardableResult
    func publish(_ staged: StagedBlob, durably: Bool) throws -> Bool

    /// Syncs everything written to the store so far, staged or published, in one go: what a
    /// batch of writes made without `durably` needs before it is committed.
    func makeDurable() throws

    /// Drops a staged blob that will not be published. Never fails.
    func discard(_ staged: StagedBlob)

    /// Whether the store holds the blob (without checking its bytes).
    func contains(_ id: BlobID) -> Bool

    /// The stored length, or `nil` when the blob is missing.
    func length(of id: BlobID) -> Int64?

    /// Opens a blob for streaming reads. Throws `.notFound` when it is missing.
    func openForReading(_ id: BlobID) throws -> any BlobReader

    /// Re-hashes the stored bytes and says whether they still match their id.
    func verify(_ id: BlobID) throws -> BlobVerification

    /// Removes a blob. Removing a missing blob is not an error. Only garbage collection calls
    /// this, after the metadata has said nothing references the blob.
    func remove(_ id: BlobID) throws

    /// Every blob in the store, in no particular order.
    func allBlobIDs() throws -> [BlobID]

    /// Staged writes whose writer is gone (a crashed or killed process): they can never be
    /// published and only take space.
    func abandonedWrites() throws -> [String]

    /// Removes the abandoned staged writes; returns how many it removed.
    @discardableResult
    func removeAbandonedWrites() throws -> Int
}

/// A finished, hashed, durable write that is not yet part of the store.
package struct StagedBlob: Sendable, Equatable {
    package let id: BlobID
    package let length: Int64
    /// The first bytes of the blob, kept for content sniffing without a second read.
    package let head: [UInt8]
    /// Where the bytes wait; meaningful only to the store that staged them.
    package let stagingPath: String
}

/// The outcome of re-hashing a stored blob.
package enum BlobVerification: Sendable, Equatable {
    case intact
    case missing
    case corrupt(actual: BlobID)
}

/// One streaming write in progress. It belongs to one task at a time and is not shared.
package protocol BlobWriter: AnyObject {
    /// Hashes and stores the next bytes. Throws `.tooLarge` past the store's limit, after which
    /// the write is already cancelled.
    func append(_ bytes: UnsafeRawBufferPointer) throws

    /// Returns the bytes staged, ready to publish. With `durably` they are synced to disk
    /// first; without, `BlobStore.makeDurable()` must run before they are relied on.
    func finish(durably: Bool) throws -> StagedBlob

    /// Abandons the write and removes what it had written. Safe to call more than once, and
    /// done automatically when an unfinished writer is released.
    func cancel()
}

extension BlobStore {
    @discardableResult
    package func publish(_ staged: StagedBlob) throws -> Bool {
        try publish(staged, durably: true)
    }
}

extension BlobWriter {
    package func finish() throws -> StagedBlob {
        try finish(durably: true)
    }

    package func append(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }
}

/// Reads one stored blob, sequentially or at offsets.
package protocol BlobReader: AnyObject {
    var length: Int64 { get }

    /// Reads up to `count` bytes at `offset`; an empty result means the end.
    func read(at offset: Int64, upTo count: Int) throws -> [UInt8]

    func close()
}
