/// A person who can log in. `id` is the opaque, stable id the API shows; `loginName` is what
/// they type at login and is private to them.
package struct User: Sendable, Equatable {
    package var id: String
    package var loginName: String
    package var firstName: String
    package var lastName: String
    package var email: String?
    package var createdAt: Int64
    /// Whether the account has a password at all; a bootstrapped account may not yet.
    package var canLogIn: Bool
    package var locale: String? = nil
    package var timezone: String? = nil
    package var lastModifiedAt: Int64 = 0
    /// Free-form account properties the UI sets (`isAutoTagging`, `picture`, …).
    package var properties: [String: JSONValue] = [:]
}

/// A change of a user's account fields and free-form properties.
package struct UserChange: Sendable, Equatable {
    package var firstName: String?
    package var lastName: String?
    package var email: String??
    package var locale: String?
    package var timezone: String?
    package var setProperties: [String: JSONValue] = [:]
    package var removeProperties: Set<String> = []

    package init(
        firstName: String? = nil, lastName: String? = nil, email: String?? = nil, locale: String? = nil,
        timezone: String? = nil, setProperties: [String: JSONValue] = [:], removeProperties: Set<String> = []
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.locale = locale
        self.timezone = timezone
        self.setProperties = setProperties
        self.removeProperties = removeProperties
    }
}

/// What it takes to register a user.
package struct NewUser: Sendable, Equatable {
    package var loginName: String
    package var firstName: String
    package var lastName: String
    package var email: String?
    package var locale: String?
    package var timezone: String?
    /// The id to give the user; `nil` makes a random, opaque one. A Nakamura-compatible site
    /// uses the login name.
    package var id: String?
    package var properties: [String: JSONValue]

    package init(
        loginName: String, firstName: String, lastName: String,
        email: String? = nil, locale: String? = nil, timezone: String? = nil, id: String? = nil,
        properties: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.properties = properties
        self.loginName = loginName
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.locale = locale
        self.timezone = timezone
    }

    /// Names that stand for everybody or nobody in OAE's access rules, and so can never log in.
    package static let reservedLoginNames: Set<String> = ["anonymous", "everyone", "system", "guest"]

    /// Checks the login name: 1 to 64 characters of letters, digits, `.`, `_`, `-` and `@`,
    /// starting with a letter or digit, and not a reserved name.
    package func validate() throws {
        let name = loginName
        guard (1...64).contains(name.count) else {
            throw RepositoryError.invalid(field: "loginName", reason: "must be 1 to 64 characters")
        }
        let allowed = name.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || ".-_@".unicodeScalars.contains(c))
        }
        guard allowed, let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else {
            throw RepositoryError.invalid(
                field: "loginName", reason: "may hold letters, digits, '.', '_', '-' and '@', and starts with a letter or digit")
        }
        guard !Self.reservedLoginNames.contains(name.lowercased()) else {
            throw RepositoryError.invalid(field: "loginName", reason: "'\(name)' is reserved")
        }
        guard !RoleNaming.looksLikeRole(name) else {
            throw RepositoryError.invalid(field: "loginName", reason: "may not end in a group role such as -manager or -member")
        }
        for (field, value) in [("firstName", firstName), ("lastName", lastName)] where value.count > 256 {
            throw RepositoryError.invalid(field: field, reason: "must be at most 256 characters")
        }
    }
}
