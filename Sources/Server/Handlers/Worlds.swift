import Foundation
import HTTPTypes
import Logging
import Repository

/// A world template: a category's kind of group (a group, a course, a research project) with
/// its roles, the role people join as and the role its creator takes.
struct WorldTemplate: Sendable, Equatable {
    var category: String
    var id: String
    var roles: [GroupRole]
    var joinRole: String
    var creatorRole: String
    var defaultAccess: String
    var defaultJoin: String

    /// Oaken's own templates, used where the UI tree has none (a site without `--ui`).
    static let builtIn: [WorldTemplate] = [
        WorldTemplate(
            category: "group", id: "simple-group",
            roles: [
                GroupRole(id: "manager", title: "MANAGER", isManagerRole: true, manages: ["member"]),
                GroupRole(id: "member", title: "MEMBER"),
            ],
            joinRole: "member", creatorRole: "manager", defaultAccess: "public", defaultJoin: "yes"),
        WorldTemplate(
            category: "course", id: "basic-course",
            roles: [
                GroupRole(id: "lecturer", title: "LECTURER", isManagerRole: true, manages: ["ta", "student"]),
                GroupRole(id: "ta", title: "TEACHING_ASSISTANT", isManagerRole: true, manages: ["student"]),
                GroupRole(id: "student", title: "STUDENT"),
            ],
            joinRole: "student", creatorRole: "lecturer", defaultAccess: "logged-in-only", defaultJoin: "withauth"),
        WorldTemplate(
            category: "research", id: "research-project",
            roles: [
                GroupRole(id: "leadresearcher", title: "LEAD_RESEARCHER", isManagerRole: true, manages: ["researcher", "contributor"]),
                GroupRole(id: "researcher", title: "RESEARCHER", isManagerRole: true, manages: ["contributor"]),
                GroupRole(id: "contributor", title: "CONTRIBUTOR"),
            ],
            joinRole: "contributor", creatorRole: "leadresearcher", defaultAccess: "members-only", defaultJoin: "withauth"),
    ]

    /// The categories' own properties, for `worlds.2.json`.
    static let builtInCategories: [String: JSONValue] = [
        "group": ["id": "group", "title": "GROUP", "titlePlural": "GROUPS", "menuLabel": "CREATE_A_GROUP", "order": 1],
        "course": ["id": "course", "title": "COURSE", "titlePlural": "COURSES", "menuLabel": "CREATE_A_COURSE", "order": 2],
        "research": [
            "id": "research", "title": "RESEARCH", "titlePlural": "RESEARCH_PROJECTS", "menuLabel": "CREATE_A_RESEARCH_PROJECT",
            "order": 3,
        ],
    ]

    /// A role as templates and `sakai:roles` write it.
    static func json(_ role: GroupRole) -> JSONValue {
        [
            "id": .string(role.id), "title": .string(role.title), "titlePlural": .string(role.title + "S"),
            "isManagerRole": .bool(role.isManagerRole), "manages": .array(role.manages.map(JSONValue.string)),
        ]
    }

    /// The template as the template tree shows it: roles as JSON strings, as Nakamura did.
    var node: JSONValue {
        let roleValues = roles.map { JSONValue.string(Self.json($0).serialized) }
        return [
            "id": .string(id), "title": .string(id.uppercased().replacingOccurrences(of: "-", with: "_")), "order": 0,
            "joinRole": .string(joinRole), "creatorRole": .string(creatorRole), "defaultaccess": .string(defaultAccess),
            "defaultjoin": .string(defaultJoin), "roles": .array(roleValues),
        ]
    }

    /// The built-in template tree (`/var/templates/worlds`).
    static var builtInTree: JSONValue {
        var tree: [String: JSONValue] = [:]
        for (category, properties) in builtInCategories {
            var object = properties.objectValue ?? [:]
            for template in builtIn where template.category == category { object[template.id] = template.node }
            tree[category] = .object(object)
        }
        return .object(tree)
    }

}

extension WorldTemplate {
    /// A template read from the UI tree's JSON (roles as objects or JSON strings).
    init?(category: String, id: String, json: [String: JSONValue]) {
        var roles: [GroupRole] = []
        var values: [JSONValue] = []
        if case .array(let array)? = json["roles"] { values = array }
        for value in values {
            var object: [String: JSONValue]? = value.objectValue
            if case .string(let text) = value { object = (try? JSONValue.parseLeniently(text))?.objectValue }
            guard let object, let roleID = object["id"]?.stringValue else { continue }
            var manages: [String] = []
            if case .array(let list)? = object["manages"] { manages = list.compactMap(\.stringValue) }
            let isManager: Bool = if case .bool(true)? = object["isManagerRole"] { true } else { false }
            roles.append(GroupRole(id: roleID, title: object["title"]?.stringValue ?? roleID, isManagerRole: isManager, manages: manages))
        }
        guard !roles.isEmpty, let joinRole = json["joinRole"]?.stringValue, let creatorRole = json["creatorRole"]?.stringValue else {
            return nil
        }
        self.init(
            category: category, id: id, roles: roles, joinRole: joinRole, creatorRole: creatorRole,
            defaultAccess: json["defaultaccess"]?.stringValue ?? "public", defaultJoin: json["defaultjoin"]?.stringValue ?? "yes")
    }
}

extension OakenService {
    static let worldCreatePath = "/system/world/create"

    /// The template at `/var/templates/worlds/<category>/<id>`: the UI tree's when it has
    /// one, else Oaken's own.
    func worldTemplate(_ path: String) -> WorldTemplate? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 5, parts[0] == "var", parts[1] == "templates", parts[2] == "worlds" else { return nil }
        if let node = ui?.templateNode(path, depth: 1)?.objectValue,
            let template = WorldTemplate(category: parts[3], id: parts[4], json: node)
        {
            return template
        }
        return WorldTemplate.builtIn.first { $0.category == parts[3] && $0.id == parts[4] }
    }

    /// `POST /system/world/create` with `data` (contract §2.5, correction 16): the group from
    /// the template, its role groups with the visibility's viewers, its first members, and the
    /// creator in the creator role. Always 200 with `results`; a taken or bad id, or an
    /// unknown template, ends with `{"created":false}` and makes nothing.
    func createWorld(_ call: Call) async throws -> Reply {
        guard let user = call.viewer.user else { throw HTTPFailure.forbidden("Anonymous users may not create groups") }
        guard let text = call.parameters["data"], case .object(let data) = try JSONValue.parseLeniently(text, field: "data") else {
            throw HTTPFailure.badRequest("data must be a JSON object")
        }
        func refused(_ message: String) -> Reply {
            .json(["results": [["error": .string(message)], ["created": false]]])
        }
        guard let id = data["id"]?.stringValue, !id.isEmpty else { return refused("id is required") }
        guard let template = worldTemplate(data["worldTemplate"]?.stringValue ?? "/var/templates/worlds/group/simple-group") else {
            return refused("Unknown world template")
        }
        let visibility = data["visibility"]?.stringValue ?? template.defaultAccess
        let joinability = data["joinability"]?.stringValue ?? template.defaultJoin
        let tags: [JSONValue] = if case .array(let values)? = data["tags"] { values.filter { $0.stringValue?.isEmpty == false } } else { [] }
        let roles = JSONValue.array(template.roles.map(WorldTemplate.json))
        let properties: [String: JSONValue] = [
            "sakai:roles": .string(roles.serialized), "sakai:joinRole": .string(template.joinRole),
            "sakai:creatorRole": .string(template.creatorRole), "sakai:category": .string(template.category),
            "sakai:templateid": .string(template.id), "sakai:group-visible": .string(visibility), "sakai:tags": .array(tags),
        ]
        do {
            _ = try await metadata.createGroup(NewGroup(
                id: id, title: data["title"]?.stringValue ?? "", description: data["description"]?.stringValue ?? "",
                properties: properties, roles: template.roles, creatorID: user.id))
        } catch RepositoryError.conflict {
            return refused("Group already exists")
        } catch RepositoryError.invalid(_, let reason) {
            return refused("The id \(reason)")
        }
        let roleGroups = template.roles.map { "\(id)-\($0.id)" }
        // Who may see the group and each role: the roles and the group, then everyone
        // signed in, then anyone.
        var viewers = roleGroups + [id]
        if visibility == "logged-in-only" || visibility == "public" { viewers.append("everyone") }
        if visibility == "public" { viewers.append("anonymous") }
        var seen = GroupChange()
        seen.addViewers = viewers
        seen.setProperties = ["sakai:group-joinable": .string(joinability)]
        try await metadata.changeGroup(id: id, seen)
        seen.setProperties = [:]
        for role in roleGroups { try await metadata.changeGroup(id: role, seen) }
        // The first members, by role; an unknown user or role is skipped.
        var placed: [String: [String]] = [template.creatorRole: [user.id]]
        if case .array(let entries)? = data["usersToAdd"] {
            for entry in entries {
                guard let userID = entry.objectValue?["userid"]?.stringValue, let role = entry.objectValue?["role"]?.stringValue,
                    template.roles.contains(where: { $0.id == role }), try await metadata.principalKind(of: userID) == .user
                else { continue }
                placed[role, default: []].append(userID)
            }
        }
        for (role, members) in placed where template.roles.contains(where: { $0.id == role }) {
            var change = GroupChange()
            change.addMembers = members
            try await metadata.changeGroup(id: "\(id)-\(role)", change)
        }
        // The creator manages through their role now, not by name.
        if template.roles.first(where: { $0.id == template.creatorRole })?.isManagerRole == true {
            var change = GroupChange()
            change.removeManagers = [user.id]
            for group in [id] + roleGroups { try await metadata.changeGroup(id: group, change) }
        }
        logger.info("created world \(id) from \(template.category)/\(template.id)")
        return .json(["results": [
            ["url": "/system/userManager/group.create.json", "success": true, "status": 200], ["created": true],
        ]])
    }
}
