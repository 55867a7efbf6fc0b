/// Who may do what with a content item: the one rule, written here once. Item reads,
/// downloads, feeds, batches and the search catalog all decide through it (the catalog keeps
/// an encoding of the item's side for speed, and asks this rule for the caller's side).
///
/// - An administrator may do anything.
/// - A manager may read, change and manage (share, set the visibility, delete).
/// - An editor may read and change the body and properties.
/// - Holding any role reads the item.
/// - Without a role, a public item reads for anyone and a logged-in item for anyone signed in.
package struct ItemAccessRule: Sendable, Equatable {
    package var isLoggedIn: Bool
    package var isAdministrator: Bool

    package init(isLoggedIn: Bool, isAdministrator: Bool) {
        self.isLoggedIn = isLoggedIn
        self.isAdministrator = isAdministrator
    }

    /// Whether the caller reads an item of this visibility without holding a role in it.
    package func readsWithoutRole(_ visibility: Visibility) -> Bool {
        switch visibility {
        case .public: true
        case .loggedIn: isLoggedIn || isAdministrator
        case .private: isAdministrator
        }
    }

    /// What a caller holding `roles` (through any of their principals) may do with an item
    /// of `visibility`.
    package func access(visibility: Visibility, roles: Set<ContentRole>) -> ItemAccess {
        if isAdministrator { return ItemAccess(read: true, write: true, manage: true) }
        let manage = roles.contains(.manager)
        let write = manage || roles.contains(.editor)
        return ItemAccess(read: write || !roles.isEmpty || readsWithoutRole(visibility), write: write, manage: manage)
    }
}
