import Foundation
import HTTPTypes
import Logging
import Repository

/// Nakamura's user manager beyond registration (contract corrections 5–7):
/// `/system/userManager/user/<id>.json`, `.update.html`, `.changePassword.html` and
/// `.delete.html`. An account is its owner's and the administrators'.
extension OakenService {
    static let accountPrefix = "/system/userManager/user/"
    static let accountDeletePaths: Set<String> = ["/system/userManager/user.delete.html", "/system/userManager/user.delete.json"]

    /// `/system/userManager/user/<id>.<operation>.<html|json>`.
    func account(_ call: Call) async throws -> Reply {
        let sling = SlingPath(String(call.path.dropFirst(Self.accountPrefix.count - 1)))
        let id = String(sling.resource.dropFirst())
        guard !id.isEmpty, !id.contains("/"), sling.extension == "json" || sling.extension == "html" else {
            throw HTTPFailure.notFound()
        }
        if call.isSafe {
            guard sling.selectors.isEmpty || sling.selectors == ["json"] else { throw HTTPFailure.notFound() }
            return try await accountMap(id, viewer: call.viewer)
        }
        switch sling.selectors.first {
        case "update": return try await updateAccount(id, call)
        case "changePassword": return try await changePassword(id, call)
        case "delete": return try await deleteAccounts([id] + Self.applyTo(call), call)
        default: throw HTTPFailure.badRequest("unknown operation on an account")
        }
    }

    /// `POST /system/userManager/user.delete.html` with `:applyTo` for each account.
    func deleteAccountsByList(_ call: Call) async throws -> Reply {
        let ids = Self.applyTo(call)
        guard !ids.isEmpty else { throw HTTPFailure.badRequest(":applyTo is required") }
        return try await deleteAccounts(ids, call)
    }

    /// The ids `:applyTo` names, as ids or principal paths (`/system/userManager/user/<id>`).
    private static func applyTo(_ call: Call) -> [String] {
        call.parameters.all(":applyTo").compactMap { $0.split(separator: "/").last.map(String.init) }.filter { !$0.isEmpty }
    }

    /// Whether the viewer may change the account: its owner or an administrator.
    private func mayChange(account id: String, _ viewer: Viewer) -> Bool {
        viewer.isAdministrator || viewer.userID == id
    }

    /// `GET …/user/<id>.json`: the flat map, whole to the user and administrators; anyone
    /// else sees the public part (the id and what the basic profile shows everybody).
    private func accountMap(_ id: String, viewer: Viewer) async throws -> Reply {
        guard let user = try await metadata.user(id: id) else { throw HTTPFailure.notFound() }
        var map: [String: JSONValue] = [
            "name": .string(user.id), "firstName": .string(user.firstName), "lastName": .string(user.lastName), "type": "u",
        ]
        guard mayChange(account: id, viewer) else {
            for key in ["picture", "preferredName", "role", "department", "college"] {
                if let value = user.properties[key] { map[key] = value }
            }
            return .json(.object(map))
        }
        for (key, value) in user.properties where map[key] == nil && !key.hasPrefix("rep:") { map[key] = value }
        if let email = user.email { map["email"] = .string(email) }
        if let locale = user.locale { map["locale"] = .string(locale) }
        if let timezone = user.timezone { map["timezone"] = .string(timezone) }
        let principals = try await metadata.principalIDs(ofUser: id).subtracting([id])
        map["principals"] = .array(principals.sorted().map(JSONValue.string))
        map["created"] = .int(user.createdAt)
        map["lastModified"] = .int(user.lastModifiedAt)
        return .json(.object(map))
    }

    /// `POST …/user/<id>.update.html`: account fields and any other property; an empty value
    /// or `name@Delete` removes a property; a locale or time zone that is not one keeps the
    /// old one.
    private func updateAccount(_ id: String, _ call: Call) async throws -> Reply {
        guard try await metadata.user(id: id) != nil else { throw HTTPFailure.notFound() }
        guard mayChange(account: id, call.viewer) else { throw HTTPFailure.forbidden("You may not change this account") }
        var change = UserChange()
        for name in call.parameters.names {
            if name.hasSuffix("@Delete") {
                let property = String(name.dropLast("@Delete".count))
                if !Self.accountFields.contains(property) { change.removeProperties.insert(property) }
                continue
            }
            guard Self.isStorableParameter(name), let value = call.parameters[name] else { continue }
            switch name {
            case "firstName": if !value.isEmpty { change.firstName = value }
            case "lastName": if !value.isEmpty { change.lastName = value }
            case "email": change.email = .some(value.isEmpty ? nil : value)
            case "locale": if Self.isLocale(value) { change.locale = value }
            case "timezone": if TimeZone(identifier: value) != nil { change.timezone = value }
            default:
                if value.isEmpty { change.removeProperties.insert(name) } else { change.setProperties[name] = .string(value) }
            }
        }
        _ = try await metadata.updateUser(id: id, change)
        return .status(.ok, path: "\(Self.accountPrefix)\(id)", for: call)
    }

    /// `ll` or `ll_CC`, as Java writes a locale.
    static func isLocale(_ text: String) -> Bool {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (2...3).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && $0.isLowercase })
        else { return false }
        return parts.count == 1 || (parts[1].count == 2 && parts[1].allSatisfy { $0.isASCII && $0.isUppercase })
    }

    /// `POST …/user/<id>.changePassword.html` with `oldPwd`, `newPwd` and `newPwdConfirm`.
    /// The user gives the old password; an administrator need not. The new one works at once.
    private func changePassword(_ id: String, _ call: Call) async throws -> Reply {
        guard let user = try await metadata.user(id: id) else { throw HTTPFailure.notFound() }
        guard mayChange(account: id, call.viewer) else { throw HTTPFailure.forbidden("You may not change this account") }
        guard let new = call.parameters["newPwd"], !new.isEmpty else { throw HTTPFailure.badRequest("newPwd is required") }
        guard call.parameters["newPwdConfirm"] == new else { throw HTTPFailure.badRequest("newPwd and newPwdConfirm differ") }
        if !call.viewer.isAdministrator || call.viewer.userID == id {
            guard let old = call.parameters["oldPwd"],
                try await metadata.authenticate(loginName: user.loginName, password: old)?.id == id
            else { throw HTTPFailure.forbidden("The old password is wrong") }
        }
        try await metadata.setPassword(userID: id, password: new)
        return .status(.ok, path: "\(Self.accountPrefix)\(id)", for: call)
    }

    /// Deletes accounts and their homes, all or none: each must be the caller's own or the
    /// caller an administrator, and the administrator's account stays.
    private func deleteAccounts(_ ids: [String], _ call: Call) async throws -> Reply {
        var unique: [String] = []
        for id in ids where !unique.contains(id) { unique.append(id) }
        for id in unique {
            guard let user = try await metadata.user(id: id) else { throw HTTPFailure.notFound("No such user") }
            guard mayChange(account: id, call.viewer) else { throw HTTPFailure.forbidden("You may not delete this account") }
            guard user.loginName != Site.administratorLoginName else {
                throw HTTPFailure.forbidden("The administrator's account cannot be deleted")
            }
        }
        try await metadata.deleteUsers(ids: unique)
        logger.info("deleted users \(unique.joined(separator: ", "))")
        return .status(.ok, path: Self.accountPrefix.dropLast() + ".delete", for: call)
    }
}
