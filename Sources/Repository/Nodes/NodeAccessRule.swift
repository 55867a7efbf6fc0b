/// Who may read or write a node of the generic tree store. It is the one rule for every way
/// a node is reached: a single read, a tree rendered to any depth, an import and a delete, so
/// a depth selector can never show what a direct read refuses.
///
/// - An administrator may do anything.
/// - The owner of a home `/~<id>` (the user, or a manager of the group, from the data
///   model) may do anything inside it.
/// - Other callers never reach a home's owner-only areas (`private`, `message`, …).
/// - Elsewhere, the deepest access entry on the node's lineage that names one of the caller's
///   principals (or `everyone` for anyone signed in, `anonymous` otherwise) decides, a denial
///   beating a grant at the same depth. With no entry, anyone may read and nobody may write.
package struct NodeAccessRule: Sendable {
    package var userID: String?
    package var principals: Set<String>
    package var managedGroups: Set<String>
    package var isAdministrator: Bool

    package init(userID: String?, principals: Set<String>, managedGroups: Set<String>, isAdministrator: Bool) {
        self.userID = userID
        self.principals = principals
        self.managedGroups = managedGroups
        self.isAdministrator = isAdministrator
        // Entries for everybody name these pseudo-principals.
        self.principals.insert(userID == nil ? "anonymous" : "everyone")
    }

    /// The server itself, acting for `userID` (who is recorded as the author): for the nodes
    /// it keeps on everyone's behalf, such as `/tags/<name>`.
    package static func system(actingFor userID: String?) -> NodeAccessRule {
        NodeAccessRule(userID: userID, principals: [], managedGroups: [], isAdministrator: true)
    }

    /// Home areas only their owner may enter, whatever their access entries say.
    package static let ownerOnlyAreas: Set<String> = ["private", "message", "contacts", "joinrequests", "calendar"]

    package func owns(home id: String) -> Bool {
        isAdministrator || (userID != nil && userID == id) || managedGroups.contains(id)
    }

    /// Whether the caller may use `privilege` on `path`, given the access entries of its
    /// lineage (entries elsewhere are ignored).
    package func allows(_ privilege: NodeAccessEntry.Privilege, at path: String, entries: NodeAccessEntries) -> Bool {
        if isAdministrator { return true }
        if privilege == .write, userID == nil { return false }
        if let home = NodePath.homeID(of: path) {
            if owns(home: home) { return true }
            let segments = path.split(separator: "/")
            if segments.count > 1, Self.ownerOnlyAreas.contains(String(segments[1])) { return false }
        }
        var current: String? = path
        while let each = current, each != "/" {
            let here = entries.byPath[each, default: []].filter { $0.privilege == privilege && principals.contains($0.principalID) }
            if !here.isEmpty { return !here.contains { !$0.granted } }
            current = NodePath.parent(of: each)
        }
        return privilege == .read
    }
}

/// Access entries by path, for deciding many nodes of one subtree at once.
package struct NodeAccessEntries: Sendable {
    package var byPath: [String: [NodeAccessEntry]]

    package init(_ entries: [NodeAccessEntry]) {
        byPath = Dictionary(grouping: entries, by: \.path)
    }
}
