import Foundation
import GRDB

extension SQLiteMetadataStore: NodeStore {
    package func node(at path: String) async throws -> Node? {
        try await database.read(through: readGate) { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM node WHERE path = ?"), arguments: [path]).map(Self.node(from:))
        }
    }

    package func tree(at path: String, depth: Int?, readableBy rule: NodeAccessRule) async throws -> NodeTree? {
        try await database.read(through: readGate) { db in
            guard let root = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM node WHERE path = ?"), arguments: [path]) else {
                return nil
            }
            let entries = try Self.accessEntries(around: path, in: db)
            guard rule.allows(.read, at: path, entries: entries) else { return nil }
            var tree = NodeTree(node: try Self.node(from: root), children: [:])
            guard depth ?? 1 > 0 else { return tree }
            let (prefix, upper) = Self.subtreeRange(of: path)
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT * FROM node WHERE path >= ? AND path < ? ORDER BY path"), arguments: [prefix, upper])
            while let row = try rows.next() {
                let nodePath: String = row["path"]
                let relative = nodePath.dropFirst(prefix.count).split(separator: "/").map(String.init)
                if let depth, relative.count > depth { continue }
                // A node left out takes its subtree with it: `insert` files a node only under
                // a parent that is there.
                guard rule.allows(.read, at: nodePath, entries: entries) else { continue }
                tree.insert(try Self.node(from: row), at: relative[...])
            }
            return tree
        }
    }

    @discardableResult
    package func modifyNode(at path: String, _ change: NodeChange, as rule: NodeAccessRule) async throws -> Bool {
        try NodePath.validate(path)
        let now = Self.now()
        return try await database.write { db in
            let entries = try Self.accessEntries(around: path, in: db)
            guard rule.allows(.write, at: path, entries: entries) else { throw RepositoryError.denied(path) }
            let existed = try Self.nodeExists(path, in: db)
            try Self.ensureNode(path, by: rule.userID, at: now, in: db)
            var properties = try Self.properties(at: path, in: db)
            for name in change.remove { properties[name] = nil }
            for (name, value) in change.set where !NodePath.systemProperties.contains(name) {
                properties[name] = value
            }
            try Self.storeProperties(properties, at: path, by: rule.userID, now: now, in: db)
            return existed
        }
    }

    @discardableResult
    package func importTree(
        at path: String, _ content: [String: JSONValue], options: NodeImportOptions, as rule: NodeAccessRule
    ) async throws -> Bool {
        try NodePath.validate(path)
        let now = Self.now()
        return try await database.write { db in
            // Every node the import would create, change or remove, checked before any write.
            let entries = try Self.accessEntries(around: path, in: db)
            var touched = [path]
            if options.removeTree { touched += try Self.descendantPaths(of: path, in: db) }
            try Self.collectTouchedPaths(content, at: path, depth: 0, into: &touched, in: db)
            for each in touched where !rule.allows(.write, at: each, entries: entries) {
                throw RepositoryError.denied(each)
            }
            let existed = try Self.nodeExists(path, in: db)
            try Self.ensureNode(path, by: rule.userID, at: now, in: db)
            if options.removeTree {
                try Self.deleteDescendants(of: path, in: db)
            }
            try Self.importObject(content, at: path, options: options, by: rule.userID, now: now, depth: 0, in: db)
            return existed
        }
    }

    package func deleteTree(at path: String, as rule: NodeAccessRule) async throws -> Bool {
        try await database.write { db in
            let entries = try Self.accessEntries(around: path, in: db)
            for each in [path] + (try Self.descendantPaths(of: path, in: db)) where !rule.allows(.write, at: each, entries: entries) {
                throw RepositoryError.denied(each)
            }
            try Self.deleteDescendants(of: path, in: db)
            try db.execute(sql: "DELETE FROM node WHERE path = ?", arguments: [path])
            let existed = db.changesCount > 0
            try db.execute(sql: "DELETE FROM nodeAccess WHERE path = ?", arguments: [path])
            return existed
        }
    }

    package func accessEntries(onLineageOf path: String) async throws -> [NodeAccessEntry] {
        let lineage = NodePath.lineage(of: path)
        let json = Self.jsonArray(lineage)
        return try await database.read(through: readGate) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM nodeAccess WHERE path IN (SELECT value FROM json_each(?))"), arguments: [json]
            ).map(Self.accessEntry(from:))
        }
    }

    package func setAccess(path: String, principalID: String, privilege: NodeAccessEntry.Privilege, granted: Bool?) async throws {
        try NodePath.validate(path)
        try await database.write { db in
            if let granted {
                try db.execute(
                    sql: """
                        INSERT INTO nodeAccess (path, principalId, privilege, granted) VALUES (?, ?, ?, ?)
                        ON CONFLICT (path, principalId, privilege) DO UPDATE SET granted = excluded.granted
                        """,
                    arguments: [path, principalID, privilege.rawValue, granted])
            } else {
                try db.execute(
                    sql: "DELETE FROM nodeAccess WHERE path = ? AND principalId = ? AND privilege = ?",
                    arguments: [path, principalID, privilege.rawValue])
            }
        }
    }

    // MARK: - Inside a transaction

    /// The paths strictly below `path`: `[path + "/", path + "0")`, since `0` follows `/`.
    static func subtreeRange(of path: String) -> (String, String) {
        path == "/" ? ("/", "0") : (path + "/", path + "0")
    }

    /// The access entries on `path`'s lineage and anywhere below it: all that can decide a
    /// node of its subtree.
    static func accessEntries(around path: String, in db: Database) throws -> NodeAccessEntries {
        let (prefix, upper) = subtreeRange(of: path)
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM nodeAccess WHERE path IN (SELECT value FROM json_each(?))
                UNION ALL SELECT * FROM nodeAccess WHERE path >= ? AND path < ?
                """),
            arguments: [jsonArray(NodePath.lineage(of: path)), prefix, upper])
        return NodeAccessEntries(rows.map(accessEntry(from:)))
    }

    static func accessEntry(from row: Row) -> NodeAccessEntry {
        NodeAccessEntry(
            path: row["path"], principalID: row["principalId"],
            privilege: NodeAccessEntry.Privilege(rawValue: row["privilege"]) ?? .read, granted: row["granted"])
    }

    static func descendantPaths(of path: String, in db: Database) throws -> [String] {
        let (prefix, upper) = subtreeRange(of: path)
        return try String.fetchAll(
            db.cachedStatement(sql: "SELECT path FROM node WHERE path >= ? AND path < ?"), arguments: [prefix, upper])
    }

    static func nodeExists(_ path: String, in db: Database) throws -> Bool {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM node WHERE path = ?"), arguments: [path]) != nil
    }

    /// The nodes an import of `content` at `path` creates or changes (its objects) and removes
    /// (its `name@Delete` keys, with their subtrees), as `importObject` will walk them.
    private static func collectTouchedPaths(
        _ content: [String: JSONValue], at path: String, depth: Int, into touched: inout [String], in db: Database
    ) throws {
        guard depth < 32 else { throw RepositoryError.invalid(field: ":content", reason: "is nested too deeply") }
        for (key, value) in content {
            if key.hasSuffix("@Delete") {
                let name = String(key.dropLast("@Delete".count))
                if !name.isEmpty, !name.contains("/") {
                    let child = NodePath.child(name, of: path)
                    touched.append(child)
                    touched += try descendantPaths(of: child, in: db)
                }
            } else if case .object(let object) = value, !key.hasPrefix(":"), !NodePath.systemProperties.contains(key),
                !key.hasPrefix("jcr:"), key != "_charset_"
            {
                let child = NodePath.child(key, of: path)
                try NodePath.validate(child)
                touched.append(child)
                try collectTouchedPaths(object, at: child, depth: depth + 1, into: &touched, in: db)
            }
        }
    }

    /// Creates the node and its missing ancestors (without properties).
    static func ensureNode(_ path: String, by principalID: String?, at now: Int64, in db: Database) throws {
        for each in NodePath.lineage(of: path).reversed() {
            try db.execute(
                sql: """
                    INSERT INTO node (path, parentPath, createdAt, createdBy, lastModifiedAt, lastModifiedBy)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING
                    """,
                arguments: [each, NodePath.parent(of: each), now, principalID, now, principalID])
        }
    }

    private static func properties(at path: String, in db: Database) throws -> [String: JSONValue] {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT properties FROM node WHERE path = ?"), arguments: [path]) else {
            return [:]
        }
        return try JSONValue.parse(text, field: "properties").objectValue ?? [:]
    }

    private static func storeProperties(
        _ properties: [String: JSONValue], at path: String, by principalID: String?, now: Int64, in db: Database
    ) throws {
        try db.execute(
            sql: "UPDATE node SET properties = ?, lastModifiedAt = ?, lastModifiedBy = ? WHERE path = ?",
            arguments: [JSONValue.object(properties).serialized, now, principalID, path])
    }

    private static func deleteDescendants(of path: String, in db: Database) throws {
        let (prefix, upper) = subtreeRange(of: path)
        try db.execute(sql: "DELETE FROM node WHERE path >= ? AND path < ?", arguments: [prefix, upper])
        try db.execute(sql: "DELETE FROM nodeAccess WHERE path >= ? AND path < ?", arguments: [prefix, upper])
    }

    private static func importObject(
        _ content: [String: JSONValue], at path: String, options: NodeImportOptions, by principalID: String?,
        now: Int64, depth: Int, in db: Database
    ) throws {
        guard depth < 32 else { throw RepositoryError.invalid(field: ":content", reason: "is nested too deeply") }
        var properties = try properties(at: path, in: db)
        for (key, value) in content {
            if key.hasSuffix("@Delete") {
                let name = String(key.dropLast("@Delete".count))
                properties[name] = nil
                if !name.isEmpty, !name.contains("/") {
                    let child = NodePath.child(name, of: path)
                    try deleteDescendants(of: child, in: db)
                    try db.execute(sql: "DELETE FROM node WHERE path = ?", arguments: [child])
                }
                continue
            }
            if key.hasPrefix(":") || key == "_charset_" || NodePath.systemProperties.contains(key) || key.hasPrefix("jcr:") {
                continue
            }
            if case .object(let object) = value {
                let child = NodePath.child(key, of: path)
                try NodePath.validate(child)
                try ensureNode(child, by: principalID, at: now, in: db)
                try importObject(object, at: child, options: options, by: principalID, now: now, depth: depth + 1, in: db)
            } else if options.replaceProperties || properties[key] == nil {
                properties[key] = value
            }
        }
        try storeProperties(properties, at: path, by: principalID, now: now, in: db)
    }

    private static func node(from row: Row) throws -> Node {
        Node(
            path: row["path"], properties: try JSONValue.parse(row["properties"], field: "properties").objectValue ?? [:],
            createdAt: row["createdAt"], createdBy: row["createdBy"], lastModifiedAt: row["lastModifiedAt"],
            lastModifiedBy: row["lastModifiedBy"])
    }
}

extension NodeTree {
    /// Files `node` under the child path `relative`; its ancestors come first in path order.
    mutating func insert(_ node: Node, at relative: ArraySlice<String>) {
        guard let first = relative.first else { return }
        if relative.count == 1 {
            children[first] = NodeTree(node: node, children: children[first]?.children ?? [:])
        } else if children[first] != nil {
            children[first]!.insert(node, at: relative.dropFirst())
        }
    }
}
