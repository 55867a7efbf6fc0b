/// Content-pool items and the blob references of their versions.
package protocol ContentItemStore: Sendable {
    /// Creates an item whose first version is the staged blob, and in the same transaction
    /// publishes the blob, grants the owner `manager`, records an activity and queues text
    /// extraction. When anything fails, nothing is stored and the staged blob is discarded.
    /// Throws `.notFound` for an unknown owner.
    func createItem(_ new: NewContentItem, body: StagedBlob, blobs: some BlobStore) async throws -> ContentItem

    /// The item with this pool id, or `nil`.
    func item(id: String) async throws -> ContentItem?

    /// Deletes an item with all its versions, grants, tags and comments. Its blobs stay until
    /// `gc` finds nothing else references them. Throws `.notFound` for an unknown item.
    func deleteItem(id: String) async throws
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
