/// The principals a user acts as, read from the data model: never inferred from how an id is
/// spelled.
package struct Membership: Sendable, Equatable {
    /// The user's own id and every group they belong to, directly or through other groups,
    /// role pseudo-groups included.
    package var principals: Set<String>
    /// The groups the user manages: each has a manager role (a role pseudo-group marked as
    /// such) among `principals`.
    package var managedGroups: Set<String>

    package init(principals: Set<String>, managedGroups: Set<String> = []) {
        self.principals = principals
        self.managedGroups = managedGroups
    }
}

/// How the ids of role pseudo-groups are spelled, `<gid>-<role>`, and the names no new user
/// or group may take because they would read like one.
package enum RoleNaming {
    /// The roles of OAE 1.2's world templates (groups, courses, research projects).
    package static let roles: Set<String> = [
        "manager", "member", "lecturer", "ta", "student", "leadresearcher", "researcher", "researchassistant",
        "contributor", "evaluator", "participant", "viewer", "editor",
    ]

    /// Whether `id` ends in `-<role>`, so that it could be mistaken for a role pseudo-group.
    package static func looksLikeRole(_ id: String) -> Bool {
        guard let dash = id.lastIndex(of: "-") else { return false }
        return roles.contains(id[id.index(after: dash)...].lowercased())
    }
}
