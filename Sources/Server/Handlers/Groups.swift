import Foundation
import HTTPTypes
import Logging
import Repository

/// Groups as principals (contract §2.5, corrections 17–23): `group.create.html`,
/// `group/<gid>.json`, `.members`, `.managers` and `.everyone`, `.update`, `.leave`, `.delete`
/// and `userManager.delete.json`. Who may see or change a group is `GroupAccessRule`'s.
extension OakenService {
    static let groupPrefix = "/system/userManager/group/"
    static let groupCreatePaths: Set<String> = ["/system/userManager/group.create.html", "/system/userManager/group.create.json"]
    static let principalDeletePaths: Set<String> = ["/system/userManager.delete.json", "/system/userManager.delete.html"]

    /// `POST /system/userManager/group.create.html` with `:name`: a plain group whose creator
    /// manages it; other parameters are its properties, and `:member`, `:manager`, `:viewer`
    /// (and `:sakai:manager`, a member who manages) its first members. 200; 400 for a taken or
    /// bad name or an unknown member, and then nothing is made.
    func createGroup(_ call: Call) async throws -> Reply {
        guard let user = call.viewer.user else { throw HTTPFailure.forbidden("Anonymous users may not create groups") }
        guard let id = call.parameters[":name"], !id.isEmpty else { throw HTTPFailure.badRequest(":name is required") }
        var properties: [String: JSONValue] = [:]
        for name in call.parameters.names where Self.isStorableParameter(name) {
            let values = call.parameters.all(name)
            properties[name] = values.count > 1 ? .array(values.map(JSONValue.string)) : .string(values.first ?? "")
        }
        do {
            _ = try await metadata.createGroup(NewGroup(
                id: id, title: call.parameters["sakai:group-title"] ?? "", description: call.parameters["sakai:group-description"] ?? "",
                properties: properties, creatorID: user.id))
        } catch RepositoryError.conflict {
            throw HTTPFailure.badRequest("Group already exists")
        }
        var change = GroupChange()
        change.addMembers = Self.principalIDs(call, ":member") + Self.principalIDs(call, ":sakai:manager")
        change.addManagers = Self.principalIDs(call, ":manager") + Self.principalIDs(call, ":sakai:manager")
        change.addViewers = Self.principalIDs(call, ":viewer")
        do {
            try await metadata.changeGroup(id: id, change)
        } catch RepositoryError.notFound(kind: "principal", let missing) {
            try await metadata.deleteGroups(ids: [id])
            throw HTTPFailure.badRequest("there is no user or group '\(missing)'")
        }
        logger.info("created group \(id)")
        return .status(.ok, path: "\(Self.groupPrefix)\(id)", for: call)
    }

    /// The ids a repeatable parameter names, as ids or principal paths
    /// (`/system/userManager/user/<id>`): the last segment is the id.
    static func principalIDs(_ call: Call, _ name: String) -> [String] {
        call.parameters.all(name).compactMap { $0.split(separator: "/").last.map(String.init) }.filter { !$0.isEmpty }
    }

    /// `/system/userManager/group/<gid>.<selectors>.<html|json>`.
    func group(_ call: Call) async throws -> Reply {
        let sling = SlingPath(String(call.path.dropFirst(Self.groupPrefix.count - 1)))
        let id = String(sling.resource.dropFirst())
        let rule = call.viewer.directoryViewer.groupRule
        // A group the caller may not see is as missing as one that does not exist.
        guard !id.isEmpty, !id.contains("/"), let group = try await metadata.group(id: id), rule.reads(group) else {
            throw HTTPFailure.notFound()
        }
        if call.isSafe {
            switch sling.selectors.first {
            case nil: return .json(try await groupMap(group))
            case "members": return .json(.array(try await memberEntries(group, managers: false, members: true)))
            case "managers": return .json(.array(try await memberEntries(group, managers: true, members: false)))
            case "everyone": return .json(.array(try await memberEntries(group, managers: true, members: true)))
            default: throw HTTPFailure.notFound()
            }
        }
        switch sling.selectors.first {
        case "update":
            guard rule.manages(group) else { throw HTTPFailure.forbidden("Only a manager may change this group") }
            try await metadata.changeGroup(id: id, Self.groupChange(call))
            return .status(.ok, path: "\(Self.groupPrefix)\(id)", for: call)
        case "leave":
            return try await leave(group, call)
        case "delete":
            return try await deleteGroups([id] + Self.principalIDs(call, ":applyTo"), call)
        default:
            throw HTTPFailure.badRequest("unknown operation on a group")
        }
    }

    /// `POST /system/userManager.delete.json` with `:applyTo` for each group.
    func deletePrincipals(_ call: Call) async throws -> Reply {
        let ids = Self.principalIDs(call, ":applyTo")
        guard !ids.isEmpty else { throw HTTPFailure.badRequest(":applyTo is required") }
        return try await deleteGroups(ids, call)
    }

    /// `.update`'s change: `:member`, `:manager`, `:viewer` and their `@Delete` forms (ids or
    /// principal paths), any other parameter a property (`x@Delete` or an empty value removes).
    static func groupChange(_ call: Call) -> GroupChange {
        var change = GroupChange()
        change.addMembers = principalIDs(call, ":member")
        change.removeMembers = principalIDs(call, ":member@Delete")
        change.addManagers = principalIDs(call, ":manager")
        change.removeManagers = principalIDs(call, ":manager@Delete")
        change.addViewers = principalIDs(call, ":viewer")
        change.removeViewers = principalIDs(call, ":viewer@Delete")
        for name in call.parameters.names {
            if name.hasSuffix("@Delete"), !name.hasPrefix(":") {
                change.removeProperties.insert(String(name.dropLast("@Delete".count)))
                continue
            }
            guard isStorableParameter(name) else { continue }
            let values = call.parameters.all(name)
            if values == [""] {
                change.removeProperties.insert(name)
            } else {
                change.setProperties[name] = values.count > 1 ? .array(values.map(JSONValue.string)) : .string(values[0])
            }
        }
        return change
    }

    /// `GET …/group/<gid>.json`: `{"properties":{…},"profile","members":[direct ids]}`.
    private func groupMap(_ group: GroupRecord) async throws -> JSONValue {
        let summary = group.summary
        var properties = summary.properties
        properties["name"] = .string(summary.id)
        properties["sakai:group-id"] = .string(summary.id)
        properties["sakai:group-title"] = .string(summary.title)
        properties["sakai:group-description"] = .string(summary.description)
        properties["sakai:group-visible"] = .string(summary.visibility == "logged-in" ? "logged-in-only" : summary.visibility)
        properties["sakai:group-joinable"] = .string(summary.joinability)
        properties["rep:group-managers"] = .array(group.managers.map(JSONValue.string))
        properties["rep:group-viewers"] = .array(group.viewers.map(JSONValue.string))
        properties["created"] = .int(summary.createdAt)
        if let creator = summary.createdBy { properties["createdBy"] = .string(creator) }
        if let parent = summary.parentID {
            properties["sakai:pseudoGroup"] = true
            properties["sakai:parent-group-id"] = .string(parent)
        }
        return [
            "properties": .object(properties), "profile": .string("a:\(summary.id)/public/authprofile"),
            "members": .array(group.members.map(JSONValue.string)),
        ]
    }

    /// The group's direct members, managers among them or the others, as basic-info maps.
    private func memberEntries(_ group: GroupRecord, managers: Bool, members: Bool) async throws -> [JSONValue] {
        let managing = Set(group.managers)
        var entries: [JSONValue] = []
        for id in group.members where managing.contains(id) ? managers : members {
            entries.append(try await principalEntry(id))
        }
        return entries
    }

    /// `.leave.json`: the caller stops being a member, viewer and manager of the group; the
    /// last manager may not leave (400).
    private func leave(_ group: GroupRecord, _ call: Call) async throws -> Reply {
        guard let me = call.viewer.userID else { throw HTTPFailure.forbidden("Anonymous users may not leave groups") }
        guard group.members.contains(me) || group.managers.contains(me) || group.viewers.contains(me) else {
            throw HTTPFailure.badRequest("You are not a member of this group")
        }
        if group.managers.contains(me), group.managers.count == 1 {
            throw HTTPFailure.badRequest("The last manager cannot leave the group")
        }
        var change = GroupChange()
        change.removeMembers = [me]
        change.removeManagers = [me]
        change.removeViewers = [me]
        try await metadata.changeGroup(id: group.summary.id, change)
        return .status(.ok, path: "\(Self.groupPrefix)\(group.summary.id)", for: call)
    }

    /// Deletes groups, all or none: each must be one the caller manages; a group the caller
    /// may not see is 404, one they see but do not manage 403.
    private func deleteGroups(_ ids: [String], _ call: Call) async throws -> Reply {
        let rule = call.viewer.directoryViewer.groupRule
        var unique: [String] = []
        for id in ids where !unique.contains(id) { unique.append(id) }
        for id in unique {
            guard let group = try await metadata.group(id: id), rule.reads(group) else { throw HTTPFailure.notFound("No such group") }
            guard rule.manages(group) else { throw HTTPFailure.forbidden("Only a manager may delete this group") }
        }
        try await metadata.deleteGroups(ids: unique)
        logger.info("deleted groups \(unique.joined(separator: ", "))")
        return .status(.ok, path: "/system/userManager.delete", for: call)
    }
}

extension OakenService {
    static let myGroupsPaths: Set<String> = ["/system/me/groups.json", "/system/me/managedgroups.json"]

    /// `GET /system/me/groups.json` and `managedgroups.json` (contract correction 24): the
    /// groups the caller belongs to (transitively, through role groups) or manages, as group
    /// profiles sorted by id in the search envelope. `q` keeps those with a word of their
    /// title, or their id, matching it whole, without case (`*` is a wildcard). `uid` is
    /// honoured for oneself and administrators only (others get 403).
    func myGroups(_ call: Call) async throws -> Reply {
        let (pageSize, offset) = try Self.paging(call.parameters)
        var viewer = call.viewer
        if let uid = call.parameters["uid"], !uid.isEmpty, uid != viewer.userID {
            guard viewer.isAdministrator else { throw HTTPFailure.forbidden("uid is honoured for oneself and administrators only") }
            viewer = try await self.viewer(forUser: uid)
        }
        guard !viewer.isAnonymous else { return Self.envelope(pageSize: pageSize, results: [], facets: [], total: 0) }
        let ids = call.path.hasSuffix("/managedgroups.json") ? viewer.managedGroups : viewer.principals
        var groups = try await metadata.groups(ids: ids).filter { $0.parentID == nil && !$0.id.hasPrefix("g-contacts-") }
        if let q = call.parameters["q"]?.trimmingCharacters(in: .whitespaces), !q.isEmpty, q != "*" {
            let pattern = Self.wholeWordPattern(q)
            groups = groups.filter { group in
                ([group.id] + group.title.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
                    .contains { word in pattern.map { (try? $0.wholeMatch(in: word.lowercased())) != nil } ?? false }
            }
        }
        groups.sort { $0.id < $1.id }
        let page = groups.dropFirst(min(offset, groups.count)).prefix(pageSize)
        return Self.envelope(pageSize: pageSize, results: page.map { .object(groupInfo($0)) }, facets: nil, total: groups.count)
    }

    /// A case-insensitive whole-word pattern in which `*` matches anything (`nil`: matches
    /// nothing).
    static func wholeWordPattern(_ q: String) -> Regex<AnyRegexOutput>? {
        let escaped = q.lowercased().split(separator: "*", omittingEmptySubsequences: false)
            .map { NSRegularExpression.escapedPattern(for: String($0)) }.joined(separator: ".*")
        return try? Regex(escaped)
    }
}

/// Join requests (contract §2.5): `POST /~<group>/joinrequests.create.html` with `userid`,
/// `GET /var/joinrequests/list.json?groupId=`, and `POST /~<gid>/joinrequests/<userid>` with
/// `:operation=delete`.
extension OakenService {
    static let joinRequestListPath = "/var/joinrequests/list.json"

    /// The group a join-request path names (`/~<group>/joinrequests…`), or `nil`.
    static func joinRequestGroup(_ path: String) -> (group: String, rest: String)? {
        guard let home = NodePath.homeID(of: path) else { return nil }
        let tail = path.dropFirst(2 + home.count)
        guard tail.hasPrefix("/joinrequests") else { return nil }
        return (home, String(tail.dropFirst("/joinrequests".count)))
    }

    /// A request to join: the caller, for themself. A `yes` group (the parent's joinability
    /// decides for a role group) takes them at once; a `withauth` one records the request
    /// for its managers; a `no` one does nothing. 200 in each case.
    func requestToJoin(_ group: GroupRecord, _ call: Call) async throws -> Reply {
        guard let me = call.viewer.userID else { throw HTTPFailure.forbidden("Anonymous users may not join groups") }
        guard call.parameters["userid"] ?? me == me else { throw HTTPFailure.forbidden("You may ask to join only for yourself") }
        // One joins a world through its join role only (never a managing role), and a plain
        // group (one without roles) itself.
        var parent = group
        if let parentID = group.summary.parentID {
            guard let record = try await metadata.group(id: parentID) else { throw HTTPFailure.notFound() }
            parent = record
        }
        let joinRole = parent.summary.properties["sakai:joinRole"]?.stringValue
        var target = group.summary.id
        if group.summary.parentID != nil {
            guard let joinRole, group.summary.roleID == joinRole else { throw HTTPFailure.forbidden("One joins this group as \(joinRole ?? "nobody")") }
        } else if try await !metadata.roleGroupIDs(of: group.summary.id).isEmpty {
            guard let joinRole else { throw HTTPFailure.forbidden("This group names no role to join as") }
            target = "\(group.summary.id)-\(joinRole)"
        }
        switch parent.summary.joinability {
        case "yes":
            var change = GroupChange()
            change.addMembers = [me]
            try await metadata.changeGroup(id: target, change)
        case "withauth":
            try await metadata.requestToJoin(groupID: target, userID: me)
        default:
            break
        }
        return .status(.ok, path: "/~\(target)/joinrequests", for: call)
    }

    /// `GET /var/joinrequests/list.json?groupId=`: the pending requests, for the group's
    /// managers (or its parent's): each the person's basic info with `_created`.
    func joinRequestList(_ call: Call) async throws -> Reply {
        guard let id = call.parameters["groupId"], !id.isEmpty else { throw HTTPFailure.badRequest("groupId is required") }
        let (pageSize, offset) = try Self.paging(call.parameters)
        let group = try await managedGroup(id, call)
        let requests = try await metadata.joinRequests(groupID: group.summary.id)
        var results: [JSONValue] = []
        for request in requests.dropFirst(min(offset, requests.count)).prefix(pageSize) {
            guard case .object(var entry) = try await principalEntry(request.userID) else { continue }
            entry["_created"] = .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(request.requestedAt) / 1000)))
            results.append(.object(entry))
        }
        return Self.envelope(pageSize: pageSize, results: results, facets: nil, total: requests.count)
    }

    /// `POST /~<gid>/joinrequests/<userid>` with `:operation=delete`: withdraws the request
    /// (the user themself) or settles it (a manager), for the group and its roles.
    func removeJoinRequest(groupID: String, userID: String, _ call: Call) async throws -> Reply {
        guard call.parameters[":operation"] == "delete" else { throw HTTPFailure.badRequest("only :operation=delete is taken here") }
        if call.viewer.userID != userID { _ = try await managedGroup(groupID, call) }
        guard try await metadata.removeJoinRequests(groupID: groupID, userID: userID) else { throw HTTPFailure.notFound() }
        return .status(.ok, path: "/~\(groupID)/joinrequests/\(userID)", for: call)
    }

    /// The group, when the caller manages it or its parent: 404 when they may not see it,
    /// 403 when they see but do not manage it.
    private func managedGroup(_ id: String, _ call: Call) async throws -> GroupRecord {
        let rule = call.viewer.directoryViewer.groupRule
        guard let group = try await metadata.group(id: id), rule.reads(group) else { throw HTTPFailure.notFound() }
        var manages = rule.manages(group)
        if !manages, let parent = group.summary.parentID, let record = try await metadata.group(id: parent) { manages = rule.manages(record) }
        guard manages else { throw HTTPFailure.forbidden("Only a manager may see this group's join requests") }
        return group
    }
}
