/// Content-pool items and the blob references of their versions.
package protocol ContentItemStore: Sendable {
    /// Creates an item whose first version is the staged blob, and in the same transaction
    /// publishes the blob, grants the owner `manager`, records an activity and queues text
    /// extraction. When anything fails, nothing is stored and the staged blob is discarded.
    /// Throws `.notFound` for an unknown owner.
    func createItem(_ new: NewContentItem, body: StagedBlob, blobs: some BlobStore) async throws -> ContentItem

    /// Creates several items as `createItem` does, in one transaction. With `.batch`
    /// durability the blobs may have been staged without syncing, and one file-system sync
    /// before the commit makes all of them durable: far cheaper than a sync per file when
    /// importing many small files.
    func createItems(
        _ items: [(NewContentItem, StagedBlob)], blobs: some BlobStore, durability: BatchDurability
    ) async throws -> [ContentItem]

    /// Makes the staged blob the item's new current version, in one transaction that also
    /// publishes the blob and queues its extraction; earlier versions are kept. Throws
    /// `.notFound` for an unknown item; the staged blob is then discarded.
    func addVersion(
        toItem id: String, body: StagedBlob, mimeType: String, savedBy: String, blobs: some BlobStore,
        importedFrom: ImportedFile?
    ) async throws -> ContentItem

    /// Replaces the body of the item's working copy (its current version) with the staged
    /// blob, as Nakamura's `createfile.<poolId>` does: no version is added (only
    /// `saveVersion` makes one), the blob is published and its extraction queued in the same
    /// transaction. Throws `.notFound` for an unknown item; the staged blob is then discarded.
    func replaceBody(
        ofItem id: String, body: StagedBlob, mimeType: String, savedBy: String, blobs: some BlobStore
    ) async throws -> ContentItem

    /// The items bulk indexing stored from these files, by path: `unchanged` when size and
    /// modification time still match, `changed` when they do not; a new path is absent.
    func importedItems(for files: [ImportedFile]) async throws -> [String: ImportedItemState]

    /// The item with this pool id, or `nil`.
    func item(id: String) async throws -> ContentItem?

    /// Deletes an item with all its versions, grants, tags and comments. Its blobs stay until
    /// `gc` finds nothing else references them. Throws `.notFound` for an unknown item.
    func deleteItem(id: String) async throws
}

/// How a batch of new blobs is made durable before its items are committed.
package enum BatchDurability: Sendable, Equatable {
    /// Each blob was staged durably and its name is synced as it is published.
    case perBlob
    /// One sync of the whole store before the commit.
    case batch
}

/// What bulk indexing knows of a file it saw before.
package enum ImportedItemState: Sendable, Equatable {
    /// Stored before and unchanged since; `blobID` is the item's current body.
    case unchanged(itemID: String, blobID: BlobID)
    case changed(itemID: String)
}

/// What garbage collection and consistency checks need of the metadata.
package protocol BlobReferenceStore: Sendable {
    /// Every blob the metadata records, with its length and how many versions reference it.
    func recordedBlobs() async throws -> [BlobID: RecordedBlob]

    /// Removes every blob that no version references, both its record and (through `remove`)
    /// its bytes, among the recorded ones and the `unrecorded` ones found in the blob store.
    /// Runs under the metadata's write lock, so an upload that publishes the same bytes
    /// concurrently either commits its reference first (and the blob stays) or publishes after
    /// the removal (and stores the bytes again). Returns the removed ids.
    func sweepUnreferencedBlobs(
        unrecorded: [BlobID], remove: @escaping @Sendable (BlobID) throws -> Void
    ) async throws -> [BlobID]

    /// Whether the metadata records the blob (some version stores, or stored, these bytes).
    func isRecorded(_ blob: BlobID) async throws -> Bool

    /// Problems the database finds in itself: integrity and foreign-key violations.
    func databaseProblems() async throws -> [String]

    /// Counts of what the repository holds.
    func statistics() async throws -> RepositoryStatistics
}

/// A blob as the metadata records it.
package struct RecordedBlob: Sendable, Equatable {
    package var length: Int64
    package var references: Int
}
