import Foundation
import GRDB

/// The metadata in one SQLite file, in WAL mode behind a GRDB `DatabasePool`.
///
/// Every store method is one transaction. Writes that must not interleave with a concurrent
/// `gc` (in this process or another) take the write lock up front (`BEGIN IMMEDIATE`).
package struct SQLiteMetadataStore: Sendable {
    package let database: DatabasePool
    package let passwordHasher: PasswordHasher
    /// Every read goes through here (see `ReadGate`).
    package let readGate: ReadGate
    /// Logins verified a moment ago (see `VerifiedCredentials`).
    let verifiedCredentials = VerifiedCredentials()

    /// Opens (creating if needed) the database file. Call `migrate()` before use.
    /// `prepareDatabase` runs on every connection as it opens (another layer's SQLite
    /// functions, say).
    package init(
        path: String, passwordHasher: PasswordHasher = .standard,
        prepareDatabase: (@Sendable (Database) throws -> Void)? = nil
    ) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Other processes (`oaken gc` beside a running server) hold the write lock for short
        // transactions; wait for them rather than fail.
        configuration.busyMode = .timeout(30)
        // A larger page cache than SQLite's 2 MiB default keeps full-text index merges from
        // re-reading the segments they just wrote. It is a ceiling, filled only as needed.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -32768")
            try prepareDatabase?(db)
        }
        readGate = ReadGate(permits: configuration.maximumReaderCount)
        do {
            database = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw RepositoryError.storage("cannot open the database \(path): \(error)")
        }
        self.passwordHasher = passwordHasher
    }

    /// Brings the schema up to date. Idempotent: on a current database it changes nothing.
    package func migrate() throws {
        try SQLiteSchema.migrator.migrate(database)
    }

    /// The names of the migrations applied so far, in order.
    package func appliedMigrations() async throws -> [String] {
        try await database.read(through: readGate) { db in
            try SQLiteSchema.migrator.appliedIdentifiers(db).sorted()
        }
    }

    /// Runs `body` in a transaction that holds the write lock from its start.
    func writeImmediately<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await database.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Now, in epoch milliseconds: how every timestamp in the database is kept.
    package static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

extension SQLiteMetadataStore: UserStore, ContentItemStore, BlobReferenceStore {}

extension DatabaseError {
    var isUniqueViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

extension SQLiteMetadataStore {
    /// A JSON array of strings, for `json_each(?)`: one statement for a whole set of ids.
    package static func jsonArray(_ values: some Sequence<String>) -> String {
        JSONValue.array(values.map(JSONValue.string)).serialized
    }
}
