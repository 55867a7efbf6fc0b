import Foundation
import GRDB

/// A user or a group found in the directory.
package enum DirectoryEntry: Sendable, Equatable {
    case user(String)
    case group(String)
}

/// Who is looking at the directory: which groups it shows them is `GroupAccessRule`'s.
package struct DirectoryViewer: Sendable {
    package var principals: Set<String>
    package var managedGroups: Set<String>
    package var isLoggedIn: Bool
    package var isAdministrator: Bool

    package init(principals: Set<String>, managedGroups: Set<String> = [], isLoggedIn: Bool, isAdministrator: Bool) {
        self.principals = principals
        self.managedGroups = managedGroups
        self.isLoggedIn = isLoggedIn
        self.isAdministrator = isAdministrator
    }

    package var groupRule: GroupAccessRule {
        GroupAccessRule(principals: principals, managedGroups: managedGroups, isLoggedIn: isLoggedIn, isAdministrator: isAdministrator)
    }
}

extension SQLiteMetadataStore {
    /// Whether `viewer` may see the group, by `GroupAccessRule`; `nil` for no such group.
    package func groupIsVisible(_ id: String, to viewer: DirectoryViewer) async throws -> Bool? {
        try await database.read(through: readGate) { db in
            try Self.fetchGroupRecord(id, in: db).map(viewer.groupRule.reads)
        }
    }

    /// Users and (top-level) groups whose names match every word of `words` (or any, with
    /// `anyWord`): each word the start of a user's first or last name, or found in a group's
    /// title. Users by last name, then groups by title, as far as `limit` after `offset`, with
    /// the total. Login names and e-mail addresses are never matched: they are private. No
    /// words lists all.
    ///
    /// With `memberOf`, only users who belong to that group, directly or through one of its
    /// role groups.
    package func findInDirectory(
        _ words: [String], anyWord: Bool = false, users: Bool, groups: Bool, memberOf group: String? = nil,
        viewer: DirectoryViewer, limit: Int, offset: Int
    ) async throws -> (entries: [DirectoryEntry], total: Int) {
        let words = words.map { $0.lowercased().filter { $0 != "%" && $0 != "_" && $0 != "\\" } }.filter { !$0.isEmpty }
        return try await database.read(through: readGate) { db in
            // Each kind is counted, and only the page's rows are read, in SQL: users first,
            // then groups, as one list.
            var queries: [(sql: String, order: String, arguments: [any DatabaseValueConvertible], make: (String) -> DirectoryEntry)] = []
            if users {
                // The site's own administrator account is nobody to share with.
                var sql = "FROM user WHERE loginName != ?"
                var arguments: [any DatabaseValueConvertible] = [Site.administratorLoginName]
                if let group {
                    sql += """
                         AND id IN (SELECT memberId FROM groupMembership
                            WHERE groupId = ? OR groupId IN (SELECT id FROM userGroup WHERE parentId = ?))
                        """
                    arguments += [group, group]
                }
                if !words.isEmpty {
                    let one = "(lower(firstName) LIKE ? OR lower(lastName) LIKE ? OR lower(firstName) LIKE ? OR lower(lastName) LIKE ?)"
                    sql += " AND (" + Array(repeating: one, count: words.count).joined(separator: anyWord ? " OR " : " AND ") + ")"
                    for word in words { arguments += [word + "%", word + "%", "% " + word + "%", "%-" + word + "%"] }
                }
                queries.append((sql, " ORDER BY lower(lastName), lower(firstName), id", arguments, DirectoryEntry.user))
            }
            if groups {
                let rule = viewer.groupRule.sqlCondition()
                var sql = "FROM userGroup g WHERE parentId IS NULL AND " + rule.sql
                var arguments: [any DatabaseValueConvertible] = [rule.argument]
                if !words.isEmpty {
                    sql += " AND (" + Array(repeating: "lower(title) LIKE ?", count: words.count).joined(separator: anyWord ? " OR " : " AND ") + ")"
                    for word in words { arguments.append("%" + word + "%") }
                }
                queries.append((sql, " ORDER BY lower(title), id", arguments, DirectoryEntry.group))
            }
            var entries: [DirectoryEntry] = []
            var total = 0
            var skip = max(0, offset)
            var room = max(0, limit)
            for query in queries {
                let count = try Int.fetchOne(db, sql: "SELECT count(*) " + query.sql, arguments: StatementArguments(query.arguments)) ?? 0
                total += count
                if room > 0, skip < count {
                    let ids = try String.fetchAll(
                        db, sql: "SELECT id " + query.sql + query.order + " LIMIT ? OFFSET ?",
                        arguments: StatementArguments(query.arguments + [room, skip]))
                    entries += ids.map(query.make)
                    room -= ids.count
                }
                skip = max(0, skip - count)
            }
            return (entries, total)
        }
    }
}
