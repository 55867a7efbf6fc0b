/// The counts `/system/me` and profiles show for a user.
package struct AccountCounts: Sendable, Equatable {
    /// Items the user manages or views.
    package var contentCount = 0
    package var contactsAccepted = 0
    package var contactsInvited = 0
    package var contactsPending = 0
    /// Groups the user belongs to, not counting role pseudo-groups.
    package var membershipsCount = 0
    /// Unread messages in the user's inbox.
    package var unreadMessages = 0

    package init() {}
}

/// A group's basic information.
package struct GroupSummary: Sendable, Equatable {
    package var id: String
    package var parentID: String?
    package var roleID: String?
    package var title: String
    package var description: String
    package var visibility: String
    package var joinability: String
    package var createdAt: Int64
    package var createdBy: String?
    package var lastModifiedAt: Int64
    package var properties: [String: JSONValue]
    package var membersCount: Int
    package var contentCount: Int
}
