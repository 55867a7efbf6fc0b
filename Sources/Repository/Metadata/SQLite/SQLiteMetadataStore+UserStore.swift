import Foundation
import GRDB

extension SQLiteMetadataStore {
    package func createUser(_ new: NewUser, password: String?) async throws -> User {
        try new.validate()
        // Hash before the transaction: the KDF is slow on purpose and must not hold the lock.
        let hash = try password.map { password in
            try passwordHasher.validate(password)
            return try passwordHasher.hash(password)
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
            if try Row.fetchOne(db, sql: "SELECT 1 FROM user WHERE loginName = ?", arguments: [new.loginName]) != nil {
                throw RepositoryError.conflict("the login name '\(new.loginName)' is taken")
            }
            var id = Identifiers.userID()
            while try Row.fetchOne(db, sql: "SELECT 1 FROM principal WHERE id = ?", arguments: [id]) != nil {
                id = Identifiers.userID()
            }
            try db.execute(
                sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'user', ?, ?)",
                arguments: [id, now, now])
            try db.execute(
                sql: """
                    INSERT INTO user (id, loginName, firstName, lastName, email, locale, timezone)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, new.loginName, new.firstName, new.lastName, new.email, new.locale, new.timezone])
            if let hash {
                try Self.storeCredential(hash, userID: id, at: now, in: db)
            }
            return User(
                id: id, loginName: new.loginName, firstName: new.firstName, lastName: new.lastName,
                email: new.email, createdAt: now, canLogIn: hash != nil)
        }
    }

    package func user(id: String) async throws -> User? {
        try await database.read { db in
            try Row.fetchOne(db, sql: Self.userQuery + " WHERE u.id = ?", arguments: [id]).map(Self.user(from:))
        }
    }

    package func user(loginName: String) async throws -> User? {
        try await database.read { db in
            try Row.fetchOne(db, sql: Self.userQuery + " WHERE u.loginName = ?", arguments: [loginName]).map(Self.user(from:))
        }
    }

    package func authenticate(loginName: String, password: String) async throws -> User? {
        let found: (User, PasswordHasher.Hash)? = try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: Self.credentialQuery, arguments: [loginName]) else { return nil }
            let hash = PasswordHasher.Hash(
                algorithm: row["algorithm"], parameters: row["parameters"],
                salt: [UInt8](row["salt"] as Data), hash: [UInt8](row["hash"] as Data))
            return (Self.user(from: row), hash)
        }
        guard let (user, hash) = found else {
            passwordHasher.wasteVerification(password)
            return nil
        }
        return try passwordHasher.verify(password, against: hash) ? user : nil
    }

    package func setPassword(userID: String, password: String) async throws {
        try passwordHasher.validate(password)
        let hash = try passwordHasher.hash(password)
        let now = Self.now()
        try await database.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM user WHERE id = ?", arguments: [userID]) != nil else {
                throw RepositoryError.notFound(kind: "user", id: userID)
            }
            try Self.storeCredential(hash, userID: userID, at: now, in: db)
        }
    }

    private static let userQuery = """
        SELECT u.id, u.loginName, u.firstName, u.lastName, u.email, p.createdAt,
               EXISTS (SELECT 1 FROM credential WHERE userId = u.id) AS canLogIn
        FROM user u JOIN principal p ON p.id = u.id
        """

    private static let credentialQuery = """
        SELECT u.id, u.loginName, u.firstName, u.lastName, u.email, p.createdAt, 1 AS canLogIn,
               c.algorithm, c.parameters, c.salt, c.hash
        FROM user u JOIN principal p ON p.id = u.id JOIN credential c ON c.userId = u.id
        WHERE u.loginName = ?
        """

    private static func user(from row: Row) -> User {
        User(
            id: row["id"], loginName: row["loginName"], firstName: row["firstName"], lastName: row["lastName"],
            email: row["email"], createdAt: row["createdAt"], canLogIn: row["canLogIn"])
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
