import Foundation
import GRDB

extension SQLiteMetadataStore {
    package func createUser(_ new: NewUser, password: String?) async throws -> User {
        try new.validate()
        // Hash before the transaction: the KDF is slow on purpose and must not hold the lock.
        let hasher = passwordHasher
        var hash: PasswordHasher.Hash?
        if let password {
            try hasher.validate(password)
            hash = try await hasher.offPool { try hasher.hash(password) }
        }
        let now = Self.now()
        do {
            return try await insertUser(new, hash: hash, at: now)
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw RepositoryError.conflict("the login name '\(new.loginName)' is taken")
        }
    }

    private func insertUser(_ new: NewUser, hash: PasswordHasher.Hash?, at now: Int64) async throws -> User {
        try await database.write { db in
            if try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM user WHERE loginName = ?"), arguments: [new.loginName]) != nil {
                throw RepositoryError.conflict("the login name '\(new.loginName)' is taken")
            }
            var id = new.id ?? Identifiers.userID()
            while try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM principal WHERE id = ?"), arguments: [id]) != nil {
                guard new.id == nil else { throw RepositoryError.conflict("the id '\(id)' is taken") }
                id = Identifiers.userID()
            }
            try db.execute(
                sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt, properties) VALUES (?, 'user', ?, ?, ?)",
                arguments: [id, now, now, JSONValue.object(new.properties).serialized])
            try db.execute(
                sql: """
                    INSERT INTO user (id, loginName, firstName, lastName, email, locale, timezone)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, new.loginName, new.firstName, new.lastName, new.email, new.locale, new.timezone])
            if let hash {
                try Self.storeCredential(hash, userID: id, at: now, in: db)
            }
            try Self.createHome(of: id, kind: .user, at: now, in: db)
            return User(
                id: id, loginName: new.loginName, firstName: new.firstName, lastName: new.lastName,
                email: new.email, createdAt: now, canLogIn: hash != nil, locale: new.locale, timezone: new.timezone,
                lastModifiedAt: now, properties: new.properties)
        }
    }

    package func user(id: String) async throws -> User? {
        try await database.read(through: readGate) { db in try Self.fetchUser(id: id, in: db) }
    }

    /// The user and every principal they act as, in one read.
    package func userAndMembership(id: String) async throws -> (User, Membership)? {
        try await database.read(through: readGate) { db in
            guard let user = try Self.fetchUser(id: id, in: db) else { return nil }
            return (user, try Self.fetchMembership(ofUser: id, in: db))
        }
    }

    static func fetchUser(id: String, in db: Database) throws -> User? {
        try Row.fetchOne(db.cachedStatement(sql: Self.userQuery + " WHERE u.id = ?"), arguments: [id]).map { try Self.user(from: $0) }
    }

    package func user(loginName: String) async throws -> User? {
        try await database.read(through: readGate) { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.userQuery + " WHERE u.loginName = ?"), arguments: [loginName]).map { try Self.user(from: $0) }
        }
    }

    /// The user whose login name and password these are, or `nil`. A success is kept for a
    /// minute (by an HMAC of the credentials, see `VerifiedCredentials`), and concurrent
    /// checks of the same credentials share one derivation.
    package func authenticate(loginName: String, password: String) async throws -> User? {
        guard let id = try await authenticatedID(loginName: loginName, password: password) else { return nil }
        return try await user(id: id)
    }

    /// The id of the user whose login name and password these are, or `nil`: as
    /// `authenticate`, without reading the user when the credentials were verified a moment
    /// ago.
    package func authenticatedID(loginName: String, password: String) async throws -> String? {
        let store = self
        return try await verifiedCredentials.userID(loginName: loginName, password: password) {
            try await store.verify(loginName: loginName, password: password)?.id
        }
    }

    private func verify(loginName: String, password: String) async throws -> User? {
        let found: (User, PasswordHasher.Hash)? = try await database.read(through: readGate) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: Self.credentialQuery), arguments: [loginName]) else { return nil }
            let hash = PasswordHasher.Hash(
                algorithm: row["algorithm"], parameters: row["parameters"],
                salt: [UInt8](row["salt"] as Data), hash: [UInt8](row["hash"] as Data))
            return (try Self.user(from: row), hash)
        }
        let hasher = passwordHasher
        guard let (user, hash) = found else {
            try await hasher.offPool { hasher.wasteVerification(password) }
            return nil
        }
        return try await hasher.offPool { try hasher.verify(password, against: hash) } ? user : nil
    }

    package func setPassword(userID: String, password: String) async throws {
        let hasher = passwordHasher
        try hasher.validate(password)
        let hash = try await hasher.offPool { try hasher.hash(password) }
        let now = Self.now()
        try await database.write { db in
            guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM user WHERE id = ?"), arguments: [userID]) != nil else {
                throw RepositoryError.notFound(kind: "user", id: userID)
            }
            try Self.storeCredential(hash, userID: userID, at: now, in: db)
        }
        verifiedCredentials.forget(userID: userID)
    }

    package func updateUser(id: String, _ change: UserChange) async throws -> User {
        for (field, value) in [("firstName", change.firstName), ("lastName", change.lastName)] {
            if let value, value.count > 256 { throw RepositoryError.invalid(field: field, reason: "must be at most 256 characters") }
        }
        let now = Self.now()
        return try await database.write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: Self.userQuery + " WHERE u.id = ?"), arguments: [id]) else {
                throw RepositoryError.notFound(kind: "user", id: id)
            }
            var user = try Self.user(from: row)
            if let value = change.firstName { user.firstName = value }
            if let value = change.lastName { user.lastName = value }
            if let value = change.email { user.email = value }
            if let value = change.locale { user.locale = value }
            if let value = change.timezone { user.timezone = value }
            for name in change.removeProperties { user.properties[name] = nil }
            for (name, value) in change.setProperties { user.properties[name] = value }
            user.lastModifiedAt = now
            try db.execute(
                sql: "UPDATE user SET firstName = ?, lastName = ?, email = ?, locale = ?, timezone = ? WHERE id = ?",
                arguments: [user.firstName, user.lastName, user.email, user.locale, user.timezone, id])
            try db.execute(
                sql: "UPDATE principal SET properties = ?, lastModifiedAt = ? WHERE id = ?",
                arguments: [JSONValue.object(user.properties).serialized, now, id])
            return user
        }
    }

    package func deleteUsers(ids: [String]) async throws {
        try await database.write { db in
            for id in ids {
                guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM user WHERE id = ?"), arguments: [id]) != nil else {
                    throw RepositoryError.notFound(kind: "user", id: id)
                }
                let home = "/~" + id
                let (prefix, upper) = Self.subtreeRange(of: home)
                try db.execute(sql: "DELETE FROM node WHERE path = ? OR (path >= ? AND path < ?)", arguments: [home, prefix, upper])
                try db.execute(sql: "DELETE FROM nodeAccess WHERE path = ? OR (path >= ? AND path < ?)", arguments: [home, prefix, upper])
                // Cascades to the user, credential, sessions, memberships, grants and mail.
                try db.execute(sql: "DELETE FROM principal WHERE id = ?", arguments: [id])
            }
        }
        for id in ids { verifiedCredentials.forget(userID: id) }
    }

    package func principalKind(of id: String) async throws -> PrincipalKind? {
        try await database.read(through: readGate) { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT kind FROM principal WHERE id = ?"), arguments: [id]).flatMap(PrincipalKind.init(rawValue:))
        }
    }

    /// Creates the home tree of a user or group (`/~<id>` and its standard children), keeping
    /// whatever exists already.
    static func createHome(of id: String, kind: PrincipalKind, at now: Int64, in db: Database) throws {
        let home = "/~" + id
        var layout: [(String, String)] = [
            (home, kind == .user ? "sakai/user-home" : "sakai/group-home"),
            (home + "/public", "sakai/public"),
            (home + "/public/authprofile", kind == .user ? "sakai/user-profile" : "sakai/group-profile"),
            (home + "/private", "sakai/private"),
            (home + "/message", "sakai/messagestore"),
            (home + "/calendar", "sakai/calendar"),
        ]
        layout.append(kind == .user ? (home + "/contacts", "sparse/contactstore") : (home + "/joinrequests", "sparse/joinrequests"))
        for (path, type) in layout {
            let properties = JSONValue.object(["sling:resourceType": .string(type)]).serialized
            try db.execute(
                sql: """
                    INSERT INTO node (path, parentPath, properties, createdAt, createdBy, lastModifiedAt, lastModifiedBy)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING
                    """,
                arguments: [path, NodePath.parent(of: path), properties, now, id, now, id])
        }
    }

    /// Gives every user and group that lacks one its home tree (principals created before
    /// homes existed).
    package func createMissingHomes() async throws {
        let now = Self.now()
        try await database.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, kind FROM principal p WHERE NOT EXISTS (SELECT 1 FROM node WHERE path = '/~' || p.id)")
            for row in rows {
                try Self.createHome(of: row["id"], kind: PrincipalKind(rawValue: row["kind"]) ?? .user, at: now, in: db)
            }
        }
    }

    private static let userQuery = """
        SELECT u.id, u.loginName, u.firstName, u.lastName, u.email, u.locale, u.timezone, p.createdAt,
               p.lastModifiedAt, p.properties, EXISTS (SELECT 1 FROM credential WHERE userId = u.id) AS canLogIn
        FROM user u JOIN principal p ON p.id = u.id
        """

    private static let credentialQuery = """
        SELECT u.id, u.loginName, u.firstName, u.lastName, u.email, u.locale, u.timezone, p.createdAt,
               p.lastModifiedAt, p.properties, 1 AS canLogIn, c.algorithm, c.parameters, c.salt, c.hash
        FROM user u JOIN principal p ON p.id = u.id JOIN credential c ON c.userId = u.id
        WHERE u.loginName = ?
        """

    private static func user(from row: Row) throws -> User {
        User(
            id: row["id"], loginName: row["loginName"], firstName: row["firstName"], lastName: row["lastName"],
            email: row["email"], createdAt: row["createdAt"], canLogIn: row["canLogIn"], locale: row["locale"],
            timezone: row["timezone"], lastModifiedAt: row["lastModifiedAt"],
            properties: try JSONValue.parse(row["properties"], field: "properties").objectValue ?? [:])
    }

    private static func storeCredential(_ hash: PasswordHasher.Hash, userID: String, at now: Int64, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO credential (userId, algorithm, parameters, salt, hash, updatedAt) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (userId) DO UPDATE SET
                    algorithm = excluded.algorithm, parameters = excluded.parameters,
                    salt = excluded.salt, hash = excluded.hash, updatedAt = excluded.updatedAt
                """,
            arguments: [userID, hash.algorithm, hash.parameters, Data(hash.salt), Data(hash.hash), now])
    }
}
