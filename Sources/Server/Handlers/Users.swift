import Foundation
import HTTPTypes
import Logging
import Repository

extension OakenService {
    /// Account fields that live in the user's row rather than among its free properties.
    static let accountFields: Set<String> = ["firstName", "lastName", "email", "locale", "timezone"]

    /// `POST /system/userManager/user.create.html`: registration. Answers 201; 400 for a
    /// taken name (without repeating it) or a bad field. The captcha fields are ignored.
    func createUser(_ call: Call, address: String) async throws -> Reply {
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("register with POST") }
        guard call.viewer.isAdministrator || registrations.allow(address) else {
            throw HTTPFailure(.tooManyRequests, "Too many registrations from this address; try again later", headers: [("Retry-After", "60")])
        }
        let parameters = call.parameters
        guard let name = parameters[":name"], !name.isEmpty else { throw HTTPFailure.badRequest(":name is required") }
        guard let password = parameters["pwd"], !password.isEmpty else { throw HTTPFailure.badRequest("pwd is required") }
        if let confirmation = parameters["pwdConfirm"], confirmation != password {
            throw HTTPFailure.badRequest("pwd and pwdConfirm differ")
        }
        // Names may also come inside the profile import, as the UI sends them.
        var elements: [String: JSONValue] = [:]
        if let text = parameters[":sakai:profile-import"] {
            let profile = try JSONValue.parseLeniently(text, field: ":sakai:profile-import").objectValue
            elements = profile?["basic"]?.objectValue?["elements"]?.objectValue ?? [:]
        }
        func field(_ key: String) -> String? {
            parameters[key] ?? elements[key]?.objectValue?["value"]?.stringValue
        }
        // Scripts written for Nakamura register without names (contract correction 1): a
        // missing name is "unknown", never the login name, which stays private.
        let firstName = field("firstName").flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        let lastName = field("lastName").flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        var properties: [String: JSONValue] = [:]
        for key in parameters.names where Self.isStorableParameter(key) && !Self.accountFields.contains(key)
            && !["pwd", "pwdConfirm"].contains(key)
        {
            properties[key] = .string(parameters[key]!)
        }
        let new = NewUser(
            loginName: name, firstName: firstName, lastName: lastName, email: field("email"),
            locale: parameters["locale"], timezone: parameters["timezone"],
            id: options.userIDs == .login ? name : nil, properties: properties)
        let user: User
        do {
            user = try await metadata.createUser(new, password: password)
        } catch RepositoryError.conflict {
            throw HTTPFailure.badRequest("User already exists")
        }
        logger.info("registered user \(user.id)")
        return .status(.created, path: "/~\(user.id)", for: call, message: "Created")
    }

    /// `GET /system/userManager/user.exists.html?userid=`: 204 when the login name is taken,
    /// 404 when free. Rate-limited per address, so names cannot be harvested quickly.
    func userExists(_ call: Call, address: String) async throws -> Reply {
        guard let name = call.parameters["userid"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw HTTPFailure.badRequest("userid is required")
        }
        guard existsChecks.allow(address) else {
            throw HTTPFailure(.tooManyRequests, "Too many checks; try again shortly", headers: [("Retry-After", "1")])
        }
        var taken = NewUser.reservedLoginNames.contains(name.lowercased())
        if !taken { taken = try await metadata.user(loginName: name) != nil }
        if !taken, options.userIDs == .login { taken = try await metadata.principalKind(of: name) != nil }
        return taken ? Reply(status: .noContent) : .failure(.notFound("No such user"), for: call)
    }

    /// Parameters that become stored properties: not Sling's `:` operations, not
    /// `_charset_`, not `name@Suffix` instructions, not system properties.
    static func isStorableParameter(_ name: String) -> Bool {
        !name.hasPrefix(":") && name != "_charset_" && name != "_" && !name.contains("@")
            && !NodePath.systemProperties.contains(name) && !name.hasPrefix("jcr:") && !name.hasPrefix("rep:")
    }

    /// The basic-info map of a user that profiles, feeds and `/system/me` share, counts
    /// included (the UI's person templates read `counts.contentCount`). E-mail is shown only
    /// to the user themself (`showPrivate`).
    func basicInfo(of user: User, counts: AccountCounts, showPrivate: Bool) -> [String: JSONValue] {
        var elements: [String: JSONValue] = [
            "firstName": ["value": .string(user.firstName)], "lastName": ["value": .string(user.lastName)],
        ]
        if showPrivate, let email = user.email { elements["email"] = ["value": .string(email)] }
        if let picture = user.properties["picture"] { elements["picture"] = ["value": picture] }
        for key in ["preferredName", "role", "department", "college"] {
            if let value = user.properties[key] { elements[key] = ["value": value] }
        }
        var info: [String: JSONValue] = [
            "userid": .string(user.id), "rep:userId": .string(user.id), "hash": .string(user.id),
            "homePath": .string("/~\(user.id)"), "sakai:excludeSearch": false,
            "basic": ["access": "everybody", "elements": .object(elements)],
            "_lastModified": .int(user.lastModifiedAt), "_created": .int(user.createdAt),
        ]
        info["counts"] = [
            "contentCount": .int(Int64(counts.contentCount)), "contactsCount": .int(Int64(counts.contactsAccepted)),
            "membershipsCount": .int(Int64(counts.membershipsCount)), "countLastUpdate": .int(SQLiteMetadataStore.now()),
        ]
        return info
    }

    /// The basic-info map of a group.
    func groupInfo(_ group: GroupSummary) -> [String: JSONValue] {
        var info: [String: JSONValue] = [
            "groupid": .string(group.id), "sakai:group-id": .string(group.id), "sakai:group-title": .string(group.title),
            "sakai:group-description": .string(group.description), "sakai:group-joinable": .string(group.joinability),
            "sakai:group-visible": .string(group.visibility), "homePath": .string("/~\(group.id)"),
            "created": .int(group.createdAt), "lastModified": .int(group.lastModifiedAt),
            "sakai:excludeSearch": .bool(group.parentID != nil), "basic": ["access": "everybody", "elements": [:]],
            "counts": [
                "contentCount": .int(Int64(group.contentCount)), "membersCount": .int(Int64(group.membersCount)),
                "countLastUpdate": .int(SQLiteMetadataStore.now()),
            ],
        ]
        if let creator = group.createdBy { info["createdBy"] = .string(creator) }
        if let category = group.properties["sakai:category"] { info["sakai:category"] = category }
        if let parent = group.parentID {
            info["sakai:pseudoGroup"] = true
            info["sakai:parent-group-id"] = .string(parent)
            if let title = group.properties["sakai:role-title"] { info["sakai:role-title"] = title }
        }
        return info
    }

    /// `GET /~<id>/public/authprofile.profile.json` (and plain reads of the authprofile
    /// node): the basic info merged with the profile's stored sections.
    func profile(ofPrincipal id: String, viewer: Viewer) async throws -> Reply {
        let path = "/~\(id)/public/authprofile"
        guard try await canRead(path, viewer: viewer) else { throw HTTPFailure.notFound() }
        var result: [String: JSONValue]
        if let user = try await metadata.user(id: id) {
            let principals = try await metadata.principalIDs(ofUser: id)
            let counts = try await metadata.accountCounts(ofUser: id, principals: principals)
            result = basicInfo(of: user, counts: counts, showPrivate: viewer.userID == id || viewer.isAdministrator)
        } else if let group = try await metadata.groups(ids: [id]).first {
            result = groupInfo(group)
        } else {
            throw HTTPFailure.notFound()
        }
        if let tree = try await metadata.tree(at: path, depth: nil, readableBy: viewer.nodeRule) {
            for (name, child) in tree.children where name != "basic" {
                result[name] = render(child, depth: nil)
            }
        }
        result["_path"] = .string(path)
        return .json(.object(result))
    }

    /// `POST /~<id>/public/authprofile.profile.json` in form mode: `picture` and the names
    /// are also copied onto the account, so they show wherever the user is listed.
    func updateProfile(ofUser id: String, _ call: Call) async throws -> Reply {
        let path = "/~\(id)/public/authprofile"
        guard try await canWrite(path, viewer: call.viewer) else { throw HTTPFailure.forbidden("You may not change this profile") }
        var change = UserChange()
        var nodeChange = NodeChange()
        for name in call.parameters.names where Self.isStorableParameter(name) {
            let value = call.parameters[name]!
            switch name {
            case "firstName": change.firstName = value
            case "lastName": change.lastName = value
            case "email": change.email = .some(value)
            default:
                change.setProperties[name] = .string(value)
                nodeChange.set[name] = .string(value)
            }
        }
        if try await metadata.principalKind(of: id) == .user {
            _ = try await metadata.updateUser(id: id, change)
        }
        try await metadata.modifyNode(at: path, nodeChange, as: call.viewer.nodeRule)
        return .status(.ok, path: path, for: call)
    }

    /// The `basic` section of a profile, imported: its elements are account fields.
    func importBasicProfile(ofUser id: String, content: [String: JSONValue], call: Call) async throws -> Reply {
        let elements = content["elements"]?.objectValue ?? [:]
        var change = UserChange()
        for (key, element) in elements {
            guard let value = element.objectValue?["value"] else { continue }
            switch key {
            case "firstName": change.firstName = value.stringValue
            case "lastName": change.lastName = value.stringValue
            case "email": change.email = .some(value.stringValue)
            default: change.setProperties[key] = value
            }
        }
        _ = try await metadata.updateUser(id: id, change)
        return .text("Ok")
    }
}
