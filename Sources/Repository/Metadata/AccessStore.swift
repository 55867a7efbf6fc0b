/// Who a caller is, for deciding what they may read.
package protocol AccessStore: Sendable {
    /// The ids a user acts as: their own, and every group they belong to, directly or through
    /// other groups (a role pseudo-group such as `<gid>-member` is a member of `<gid>`).
    /// An unknown user has none.
    func principalIDs(ofUser userID: String) async throws -> Set<String>
}
