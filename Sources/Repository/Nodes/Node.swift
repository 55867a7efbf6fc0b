/// One node of the generic tree store that OAE pages, profiles and widgets keep their data in.
/// `properties` are the node's own values; children are nodes one segment further down.
package struct Node: Sendable, Equatable {
    package var path: String
    package var properties: [String: JSONValue]
    package var createdAt: Int64
    package var createdBy: String?
    package var lastModifiedAt: Int64
    package var lastModifiedBy: String?
}

/// A node and its descendants down to some depth.
package struct NodeTree: Sendable, Equatable {
    package var node: Node
    /// Children by their last path segment.
    package var children: [String: NodeTree]
}

/// How `importTree` treats what is already stored.
package struct NodeImportOptions: Sendable, Equatable {
    /// Overwrite properties that exist already; otherwise only missing ones are set.
    package var replaceProperties: Bool
    /// Delete the node's children (not its own properties) before importing.
    package var removeTree: Bool

    package init(replaceProperties: Bool = false, removeTree: Bool = false) {
        self.replaceProperties = replaceProperties
        self.removeTree = removeTree
    }
}

/// A change of a node's properties, as Sling's POST expresses it.
package struct NodeChange: Sendable, Equatable {
    package var set: [String: JSONValue]
    package var remove: Set<String>

    package init(set: [String: JSONValue] = [:], remove: Set<String> = []) {
        self.set = set
        self.remove = remove
    }
}

/// An access control entry on a node path: whether `principalID` may read or write there.
package struct NodeAccessEntry: Sendable, Equatable {
    package enum Privilege: String, Sendable { case read, write }
    package var path: String
    package var principalID: String
    package var privilege: Privilege
    package var granted: Bool

    package init(path: String, principalID: String, privilege: Privilege, granted: Bool) {
        self.path = path
        self.principalID = principalID
        self.privilege = privilege
        self.granted = granted
    }
}

package enum NodePath {
    /// Property names the store sets itself; a client cannot.
    package static let systemProperties: Set<String> = [
        "_path", "_created", "_createdBy", "_lastModified", "_lastModifiedBy", "_id",
    ]

    /// Checks that `path` is absolute and normalized: no empty, `.` or `..` segments, no
    /// control characters, at most 64 segments and 1,024 bytes.
    package static func validate(_ path: String) throws {
        guard path.hasPrefix("/"), path.utf8.count <= 1024 else {
            throw RepositoryError.invalid(field: "path", reason: "must start with '/' and be at most 1,024 bytes")
        }
        if path == "/" { return }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count <= 64 else { throw RepositoryError.invalid(field: "path", reason: "is too deep") }
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..",
                !segment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { throw RepositoryError.invalid(field: "path", reason: "has an empty, '.', '..' or control segment") }
        }
    }

    /// The parent of `path`, or `nil` for `/`.
    package static func parent(of path: String) -> String? {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` and each of its ancestors, deepest first, without `/`.
    package static func lineage(of path: String) -> [String] {
        var result: [String] = []
        var current: String? = path
        while let each = current, each != "/" {
            result.append(each)
            current = parent(of: each)
        }
        return result
    }

    package static func child(_ name: String, of path: String) -> String {
        path == "/" ? "/" + name : path + "/" + name
    }

    /// The owner id of a home path `/~<id>/…`, else `nil`.
    package static func homeID(of path: String) -> String? {
        guard path.hasPrefix("/~") else { return nil }
        let id = path.dropFirst(2).prefix { $0 != "/" }
        return id.isEmpty ? nil : String(id)
    }

    /// The last segment of `path`.
    package static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? ""
    }
}

/// The generic tree store. Every method that reads or changes nodes takes the caller's
/// `NodeAccessRule` and applies it to each node it touches, inside its own transaction.
package protocol NodeStore: Sendable {
    func node(at path: String) async throws -> Node?
    /// The node with the descendants the caller may read, to `depth` levels (`nil`: all), or
    /// `nil` when it is missing or unreadable. A node the caller may not read is left out with
    /// everything below it.
    func tree(at path: String, depth: Int?, readableBy rule: NodeAccessRule) async throws -> NodeTree?
    /// Changes the node's properties, creating it and any missing ancestors. Throws
    /// `.denied` when the caller may not write there. Returns whether the node existed before.
    @discardableResult
    func modifyNode(at path: String, _ change: NodeChange, as rule: NodeAccessRule) async throws -> Bool
    /// Writes a JSON object as a subtree: objects become child nodes, everything else
    /// properties; a `name@Delete` key removes child `name`. Throws `.denied`, changing
    /// nothing, when the caller may not write a node it would create, change or remove.
    /// Returns whether the node existed before.
    @discardableResult
    func importTree(at path: String, _ content: [String: JSONValue], options: NodeImportOptions, as rule: NodeAccessRule) async throws -> Bool
    /// Deletes the node and everything below it; returns whether it existed. Throws
    /// `.denied`, deleting nothing, when the caller may not write one of those nodes.
    func deleteTree(at path: String, as rule: NodeAccessRule) async throws -> Bool
    /// The access entries on `path` and its ancestors.
    func accessEntries(onLineageOf path: String) async throws -> [NodeAccessEntry]
    /// Sets (or with `granted == nil` clears) an access entry.
    func setAccess(path: String, principalID: String, privilege: NodeAccessEntry.Privilege, granted: Bool?) async throws
}
