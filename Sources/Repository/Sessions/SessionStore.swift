import Crypto
import Foundation
import GRDB

/// Login sessions: a random token in the browser's cookie, only its SHA-256 in the database,
/// so a copy of the database logs no one in. Sessions slide: each use pushes the expiry out.
package struct SessionStore: Sendable {
    let database: DatabasePool
    let readGate: ReadGate
    /// How long a session lives without being used.
    package let lifetime: Duration

    package init(metadata: SQLiteMetadataStore, lifetime: Duration = .seconds(20 * 60)) {
        database = metadata.database
        readGate = metadata.readGate
        self.lifetime = lifetime
    }

    private var lifetimeMilliseconds: Int64 {
        lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000
    }

    /// Starts a session for the user; returns the token for the cookie.
    package func create(userID: String) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let now = SQLiteMetadataStore.now()
        let expires = now + lifetimeMilliseconds
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO session (tokenHash, userId, createdAt, lastSeenAt, expiresAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [Self.hash(token), userID, now, now, expires])
            // Expired sessions go as new ones come.
            try db.execute(sql: "DELETE FROM session WHERE expiresAt < ?", arguments: [now])
        }
        return token
    }

    /// The user whose live session this is, with every principal they act as, or `nil`.
    /// Pushes the expiry out, writing at most once a minute per session so that busy pages
    /// do not turn every read into a write.
    package func account(forToken token: String) async throws -> (User, Membership)? {
        guard !token.isEmpty, token.utf8.count <= 128 else { return nil }
        let hash = Self.hash(token)
        let now = SQLiteMetadataStore.now()
        let found = try await database.read(through: readGate) { db -> (User, Membership, Int64)? in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT userId, lastSeenAt FROM session WHERE tokenHash = ? AND expiresAt > ?"), arguments: [hash, now]),
                let user = try SQLiteMetadataStore.fetchUser(id: row["userId"], in: db)
            else { return nil }
            return (user, try SQLiteMetadataStore.fetchMembership(ofUser: user.id, in: db), row["lastSeenAt"])
        }
        guard let (user, membership, lastSeen) = found else { return nil }
        if now - lastSeen > 60_000 {
            let expires = now + lifetimeMilliseconds
            try await database.write { db in
                try db.execute(
                    sql: "UPDATE session SET lastSeenAt = ?, expiresAt = ? WHERE tokenHash = ?", arguments: [now, expires, hash])
            }
        }
        return (user, membership)
    }

    /// Ends the session.
    package func delete(token: String) async throws {
        let hash = Self.hash(token)
        try await database.write { db in
            try db.execute(sql: "DELETE FROM session WHERE tokenHash = ?", arguments: [hash])
        }
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}
