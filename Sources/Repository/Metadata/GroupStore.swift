/// A group to create: its id (which shares `/~<id>` with users), title and description, any
/// further properties, and its roles. A group without roles is a plain group whose members
/// are added directly.
package struct NewGroup: Sendable, Equatable {
    package var id: String
    package var title: String
    package var description: String
    package var properties: [String: JSONValue]
    package var roles: [GroupRole]
    /// Who creates it: a manager of the group (and of each role) from the start.
    package var creatorID: String

    package init(
        id: String, title: String = "", description: String = "", properties: [String: JSONValue] = [:],
        roles: [GroupRole] = [], creatorID: String
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.properties = properties
        self.roles = roles
        self.creatorID = creatorID
    }

    /// Checks the id: 1 to 64 letters, digits, `.`, `_` and `-`, starting with a letter or
    /// digit, not a reserved name, and not ending in a role (`-manager`, …) unless it is one
    /// of this group's own roles.
    package func validate() throws {
        guard (1...64).contains(id.count), let first = id.unicodeScalars.first,
            first.properties.isAlphabetic || ("0"..."9").contains(first),
            id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) })
        else {
            throw RepositoryError.invalid(field: "id", reason: "may hold letters, digits, '.', '_' and '-', and starts with a letter or digit")
        }
        guard !NewUser.reservedLoginNames.contains(id.lowercased()), !RoleNaming.looksLikeRole(id) else {
            throw RepositoryError.invalid(field: "id", reason: "'\(id)' is reserved or reads like a group's role")
        }
        for role in roles where role.id.isEmpty || role.id.contains("/") || role.id.count > 32 {
            throw RepositoryError.invalid(field: "roles", reason: "a role id must be 1 to 32 characters without '/'")
        }
    }
}

/// A role of a group (from a world template): its members form the pseudo-group
/// `<gid>-<id>`, a member of the group. A manager role manages the group and the roles it
/// names in `manages`.
package struct GroupRole: Sendable, Equatable {
    package var id: String
    package var title: String
    package var isManagerRole: Bool
    package var manages: [String]

    package init(id: String, title: String = "", isManagerRole: Bool = false, manages: [String] = []) {
        self.id = id
        self.title = title
        self.isManagerRole = isManagerRole
        self.manages = manages
    }
}

/// A group as the API shows it: its row, direct members, managers and viewers.
package struct GroupRecord: Sendable, Equatable {
    package var summary: GroupSummary
    /// Direct members (users, groups, role groups), by id.
    package var members: [String]
    /// Principals that manage the group (`rep:group-managers`).
    package var managers: [String]
    /// Principals that may see the group (`rep:group-viewers`); none means anyone may.
    package var viewers: [String]
}

/// A change to a group's members, managers, viewers and properties.
package struct GroupChange: Sendable, Equatable {
    package var addMembers: [String] = []
    package var removeMembers: [String] = []
    package var addManagers: [String] = []
    package var removeManagers: [String] = []
    package var addViewers: [String] = []
    package var removeViewers: [String] = []
    package var setProperties: [String: JSONValue] = [:]
    package var removeProperties: Set<String> = []

    package init() {}
}

/// Groups as principals.
package protocol GroupStore: Sendable {
    /// Creates the group, its role pseudo-groups (each a member of the group; manager roles
    /// managing the group and the roles they name), its home, and makes the creator a
    /// manager. Throws `.invalid` for a bad id and `.conflict` when the id names a user or a
    /// group already.
    func createGroup(_ new: NewGroup) async throws -> GroupRecord

    /// The group, or `nil`.
    func group(id: String) async throws -> GroupRecord?

    /// Applies a change in one transaction. Adding what is there or removing what is not
    /// changes nothing; a member that names no principal is `.notFound`, and nothing changes.
    /// `everyone` and `anonymous` may be viewers. Cycles are allowed: membership expansion
    /// stops at them.
    func changeGroup(id: String, _ change: GroupChange) async throws

    /// Deletes the groups with their role groups and homes; every right granted through them
    /// goes with them. Throws `.notFound`, deleting nothing, when one is not a group.
    func deleteGroups(ids: [String]) async throws
}
