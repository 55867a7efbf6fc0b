/// Who may see a group, and who may change it: the one rule, written here once. The group
/// API asks `reads` and `manages`; the directory's SQL filter is `sqlCondition`, the same
/// rule in SQL (contract correction 19).
///
/// - An administrator may do anything.
/// - A manager (one of the group's `groupManager` principals) sees and changes it.
/// - Otherwise: a public group shows to everyone, a logged-in group to anyone signed in, and a
///   members-only group to the principals it names as viewers (a viewer group's members,
///   transitively); plain membership alone does not show it.
package struct GroupAccessRule: Sendable {
    package var principals: Set<String>
    package var managedGroups: Set<String>
    package var isLoggedIn: Bool
    package var isAdministrator: Bool

    package init(principals: Set<String>, managedGroups: Set<String>, isLoggedIn: Bool, isAdministrator: Bool) {
        self.principals = principals
        self.managedGroups = managedGroups
        self.isLoggedIn = isLoggedIn
        self.isAdministrator = isAdministrator
    }

    package func manages(_ group: GroupRecord) -> Bool {
        isAdministrator || managedGroups.contains(group.summary.id)
    }

    package func reads(_ group: GroupRecord) -> Bool {
        if manages(group) { return true }
        switch group.summary.visibility {
        case "public": return true
        case "logged-in": return isLoggedIn || !principals.isDisjoint(with: group.viewers)
        default: return !principals.isDisjoint(with: group.viewers)
        }
    }

    /// The rule as an SQL condition on a `userGroup` row named `g`, with its one argument.
    package func sqlCondition() -> (sql: String, argument: String) {
        // The argument is always used, so that callers bind it the same way in every case.
        if isAdministrator { return ("(?1 IS NOT NULL)", "[]") }
        let visible = isLoggedIn ? "g.visibility IN ('public', 'logged-in')" : "g.visibility = 'public'"
        let sql = """
            (\(visible)
             OR EXISTS (SELECT 1 FROM groupViewer v WHERE v.groupId = g.id AND v.principalId IN (SELECT value FROM json_each(?1)))
             OR EXISTS (SELECT 1 FROM groupManager m WHERE m.groupId = g.id AND m.principalId IN (SELECT value FROM json_each(?1))))
            """
        return (sql, SQLiteMetadataStore.jsonArray(principals.sorted()))
    }
}
