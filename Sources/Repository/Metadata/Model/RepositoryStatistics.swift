/// Sizes of the repository, as `oaken stats` prints them.
package struct RepositoryStatistics: Sendable, Equatable {
    package var users: Int
    package var groups: Int
    package var items: Int
    package var versions: Int
    /// Distinct blobs the metadata knows of.
    package var blobs: Int
    /// Bytes the blobs take once each.
    package var storedBytes: Int64
    /// Bytes all versions of all items would take if every upload were stored separately.
    package var logicalBytes: Int64

    /// What single-instance storage saves.
    package var bytesSavedByDeduplication: Int64 { logicalBytes - storedBytes }
}
