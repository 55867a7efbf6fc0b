import Foundation
import HTTPTypes
import Repository

/// The generic node store (contract §2.3): Sling GET rendering and POST semantics over
/// `/~<id>/…` homes and `/tags`.
extension OakenService {
    func nodes(_ call: Call) async throws -> Reply {
        if let page = try await homePage(call) { return page }
        // A group's join requests are the group's records, not nodes.
        if call.method == .post, let (groupID, rest) = Self.joinRequestGroup(call.path), try await metadata.principalKind(of: groupID) == .group {
            if rest == ".create.html" || rest == ".create.json" {
                guard let group = try await metadata.group(id: groupID), call.viewer.directoryViewer.groupRule.reads(group) else {
                    throw HTTPFailure.notFound()
                }
                return try await requestToJoin(group, call)
            }
            if rest.hasPrefix("/"), !rest.dropFirst().contains("/") {
                return try await removeJoinRequest(groupID: groupID, userID: String(rest.dropFirst()), call)
            }
        }
        let sling = try await SlingPath.resolve(call.path) { try await metadata.node(at: $0) != nil }
        try NodePath.validate(sling.resource)
        let home = NodePath.homeID(of: sling.resource)
        if call.isSafe {
            if sling.selectors == ["acl"] { return try await accessList(sling.resource, viewer: call.viewer) }
            if sling.selectors.first == "count", sling.extension == "json", let home, sling.resource == "/~\(home)/message" {
                return try await messageCount(call, owner: home)
            }
            if let home, sling.resource == "/~\(home)/public/authprofile" {
                return try await profile(ofPrincipal: home, viewer: call.viewer)
            }
            guard let tree = try await metadata.tree(at: sling.resource, depth: sling.depth, readableBy: call.viewer.nodeRule)
            else { throw HTTPFailure.notFound() }
            return .json(render(tree, depth: sling.depth))
        }
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("\(call.method.rawValue) is not supported here") }
        if sling.selectors.last == "modifyAce" { return try await modifyAccess(sling.resource, call) }
        if let home, sling.resource == "/~\(home)/public/authprofile", sling.selectors == ["profile"],
            call.parameters[":operation"] == nil
        {
            return try await updateProfile(ofUser: home, call)
        }
        guard try await canWrite(sling.resource, viewer: call.viewer) else {
            throw HTTPFailure.forbidden("You may not write to \(sling.resource)")
        }
        switch call.parameters[":operation"] {
        case nil, "modify":
            let existed = try await metadata.modifyNode(at: sling.resource, Self.nodeChange(from: call.parameters), as: call.viewer.nodeRule)
            return .status(existed ? .ok : .created, path: sling.resource, for: call, message: existed ? "OK" : "Created")
        case "import":
            guard call.parameters[":contentType"] == "json", let text = call.parameters[":content"] else {
                throw HTTPFailure(.preconditionFailed, ":contentType=json and :content are required for an import")
            }
            guard case .object(let content) = try JSONValue.parseLeniently(text, field: ":content") else {
                throw HTTPFailure.badRequest(":content must be a JSON object")
            }
            if let home, sling.resource == "/~\(home)/public/authprofile/basic", try await metadata.principalKind(of: home) == .user {
                return try await importBasicProfile(ofUser: home, content: content, call: call)
            }
            let options = NodeImportOptions(
                replaceProperties: call.parameters.flag(":replaceProperties") || call.parameters.flag(":replace"),
                removeTree: call.parameters.flag(":removeTree"))
            let existed = try await metadata.importTree(at: sling.resource, content, options: options, as: call.viewer.nodeRule)
            return .status(existed ? .ok : .created, path: sling.resource, for: call, message: existed ? "OK" : "Created")
        case "delete":
            // A home and its standard areas are the account's, not the page data's.
            if home != nil, NodePath.lineage(of: sling.resource).count <= 2, !call.viewer.isAdministrator {
                throw HTTPFailure.forbidden("\(sling.resource) belongs to the account and cannot be deleted")
            }
            guard try await metadata.deleteTree(at: sling.resource, as: call.viewer.nodeRule) else { throw HTTPFailure.notFound() }
            return .status(.ok, path: sling.resource, for: call)
        case "tag", "deletetag":
            return try await tag(sling.resource, call)
        case let operation?:
            throw HTTPFailure.badRequest("the operation '\(operation)' is not supported")
        }
    }

    func canRead(_ path: String, viewer: Viewer) async throws -> Bool {
        try await allows(.read, path, viewer: viewer)
    }

    func canWrite(_ path: String, viewer: Viewer) async throws -> Bool {
        try await allows(.write, path, viewer: viewer)
    }

    /// The node rule (`NodeAccessRule`) for one path.
    private func allows(_ privilege: NodeAccessEntry.Privilege, _ path: String, viewer: Viewer) async throws -> Bool {
        let rule = viewer.nodeRule
        if rule.isAdministrator { return true }
        let entries = NodeAccessEntries(try await metadata.accessEntries(onLineageOf: path))
        return rule.allows(privilege, at: path, entries: entries)
    }

    /// `POST <path>.modifyAce.html`: grants or denies read and write to principals.
    private func modifyAccess(_ path: String, _ call: Call) async throws -> Reply {
        guard managesAccess(path, viewer: call.viewer) else {
            throw HTTPFailure.forbidden("Only the owner may change who can see \(path)")
        }
        let principals = call.parameters.all("principalId").filter { !$0.isEmpty }
        guard !principals.isEmpty else { throw HTTPFailure.badRequest("principalId is required") }
        for (parameter, privilege) in [("privilege@jcr:read", NodeAccessEntry.Privilege.read), ("privilege@jcr:write", .write)] {
            guard let value = call.parameters[parameter] else { continue }
            let granted: Bool? =
                switch value {
                case "granted": true
                case "denied": false
                case "none": nil
                default: throw HTTPFailure.badRequest("\(parameter) must be granted, denied or none")
                }
            for principal in principals {
                try await metadata.setAccess(path: path, principalID: principal, privilege: privilege, granted: granted)
            }
        }
        return .status(.ok, path: path, for: call)
    }

    /// Who may see and change a node's access entries: the owner of the home it is in (the
    /// user, or a manager of the group) and administrators.
    func managesAccess(_ path: String, viewer: Viewer) -> Bool {
        let rule = viewer.nodeRule
        return rule.isAdministrator || NodePath.homeID(of: path).map(rule.owns(home:)) ?? false
    }

    /// `GET <path>.acl.json`: the read and write entries for `anonymous` and `everyone` (the
    /// UI reads only these; entries naming users or groups stay private). The owner's only:
    /// 404 for anyone else.
    private func accessList(_ path: String, viewer: Viewer) async throws -> Reply {
        guard managesAccess(path, viewer: viewer) else { throw HTTPFailure.notFound() }
        let entries = try await metadata.accessEntries(onLineageOf: path).filter { $0.path == path }
        var result: [String: JSONValue] = [:]
        for principal in ["anonymous", "everyone"] {
            let mine = entries.filter { $0.principalID == principal }
            result[principal] = [
                "granted": .array(mine.filter(\.granted).map { .string("jcr:\($0.privilege.rawValue)") }),
                "denied": .array(mine.filter { !$0.granted }.map { .string("jcr:\($0.privilege.rawValue)") }),
            ]
        }
        return .json(.object(result))
    }

    /// `:operation=tag|deletetag` with `key=/tags/<tag>`: adds the tag to (or removes it from)
    /// the node's `sakai:tags`, creating the `/tags/<tag>` node on first use.
    private func tag(_ path: String, _ call: Call) async throws -> Reply {
        let keys = call.parameters.all("key")
        guard !keys.isEmpty else { throw HTTPFailure.badRequest("key is required") }
        var tags: [String] = []
        if let node = try await metadata.node(at: path), case .array(let values)? = node.properties["sakai:tags"] {
            tags = values.compactMap(\.stringValue)
        }
        for key in keys {
            let name = String(key.dropFirst(6))
            // One segment under /tags: a tag never names a deeper node.
            guard key.hasPrefix("/tags/"), !name.isEmpty, !name.contains("/") else {
                throw HTTPFailure.badRequest("key must name /tags/<tag>")
            }
            try NodePath.validate(key)
            if call.parameters[":operation"] == "tag" {
                if try await metadata.node(at: key) == nil {
                    // The tag's own node is the site's, made by the server with fixed
                    // properties; the caller may write only the node being tagged.
                    try await metadata.modifyNode(
                        at: key, NodeChange(set: ["sakai:tag-name": .string(name), "sling:resourceType": "sakai/tag"]),
                        as: .system(actingFor: call.viewer.userID))
                }
                if !tags.contains(name) { tags.append(name) }
            } else {
                tags.removeAll { $0 == name }
            }
        }
        try await metadata.modifyNode(
            at: path, NodeChange(set: ["sakai:tags": .array(tags.map(JSONValue.string))]), as: call.viewer.nodeRule)
        return .status(.ok, path: path, for: call)
    }

    /// `GET /~<me>/message.count.json`: unread internal messages, optionally grouped.
    private func messageCount(_ call: Call, owner: String) async throws -> Reply {
        guard call.viewer.userID == owner || call.viewer.isAdministrator else { throw HTTPFailure.notFound() }
        let counts = try await metadata.accountCounts(ofUser: owner, principals: [])
        if call.parameters["groupedby"] != nil {
            return .json(["count": counts.unreadMessages > 0 ? [["group": "message", "count": .int(Int64(counts.unreadMessages))]] : []])
        }
        return .json(["count": .int(Int64(counts.unreadMessages))])
    }

    /// A node rendered to `depth` (`nil`: all): its properties, system properties, and
    /// children as nested objects.
    func render(_ tree: NodeTree, depth: Int?) -> JSONValue {
        var object = tree.node.properties
        object["_path"] = .string(tree.node.path)
        object["_created"] = .int(tree.node.createdAt)
        object["_lastModified"] = .int(tree.node.lastModifiedAt)
        if let by = tree.node.createdBy { object["_createdBy"] = .string(by) }
        if let by = tree.node.lastModifiedBy { object["_lastModifiedBy"] = .string(by) }
        if depth ?? 1 > 0 {
            for (name, child) in tree.children {
                object[name] = render(child, depth: depth.map { $0 - 1 })
            }
        }
        return .object(object)
    }

    /// Sling's POST parameters as a property change: repeated keys make arrays,
    /// `name@Delete` and an empty value remove, `name@TypeHint` converts.
    static func nodeChange(from parameters: Parameters) throws -> NodeChange {
        var change = NodeChange()
        for name in parameters.names {
            if name.hasSuffix("@Delete") {
                change.remove.insert(String(name.dropLast("@Delete".count)))
                continue
            }
            guard isStorableParameter(name) else { continue }
            let values = parameters.all(name)
            if values == [""], parameters["\(name)@TypeHint"] == nil {
                change.remove.insert(name)
                continue
            }
            change.set[name] = try typed(values, hint: parameters["\(name)@TypeHint"], name: name)
        }
        return change
    }

    private static func typed(_ values: [String], hint: String?, name: String) throws -> JSONValue {
        let hint = hint ?? ""
        let isArray = hint.hasSuffix("[]") || values.count > 1
        let base = hint.hasSuffix("[]") ? String(hint.dropLast(2)) : hint
        func convert(_ value: String) throws -> JSONValue {
            switch base.lowercased() {
            case "boolean": return .bool(value.lowercased() == "true")
            case "long", "integer":
                guard let number = Int64(value.trimmingCharacters(in: .whitespaces)) else {
                    throw HTTPFailure.badRequest("\(name) is not a whole number")
                }
                return .int(number)
            case "double", "decimal":
                guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                    throw HTTPFailure.badRequest("\(name) is not a number")
                }
                return .double(number)
            default: return .string(value)
            }
        }
        return isArray ? .array(try values.map(convert)) : try convert(values.first ?? "")
    }
}
