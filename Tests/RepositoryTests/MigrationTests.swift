import Foundation
import GRDB
import Testing

@testable import Repository

@Suite struct MigrationTests {
    static let allMigrations = [
        "v1-createContent", "v1-createExtractionQueue", "v1-createNodeStore", "v1-createPrincipals", "v1-createSocial",
        "v2-createImportedFile",
    ]

    @Test func migrationsRunOnAFreshFileAndAreANoOpOnAnExistingOne() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("oaken.sqlite").path
        let fresh = try SQLiteMetadataStore(path: path, passwordHasher: SiteFixture.testHasher)
        try fresh.migrate()
        #expect(try await fresh.appliedMigrations() == Self.allMigrations)
        let journal = try await fresh.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        let user = try await fresh.createUser(NewUser(loginName: "ada", firstName: "Ada", lastName: "L"), password: "secret-pw")
        let schema = try await Self.schema(of: fresh)

        let reopened = try SQLiteMetadataStore(path: path, passwordHasher: SiteFixture.testHasher)
        try reopened.migrate()
        #expect(try await reopened.appliedMigrations() == Self.allMigrations)
        #expect(try await Self.schema(of: reopened) == schema)
        #expect(try await reopened.user(id: user.id) == user)
    }

    @Test func theSchemaHasEveryAggregateTheAPINeeds() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteMetadataStore(path: dir.file("oaken.sqlite").path)
        try store.migrate()
        let tables = try await store.database.read { db in
            try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        }
        let expected: Set<String> = [
            "principal", "user", "userGroup", "credential", "session", "groupMembership", "joinRequest",
            "tag", "principalTag", "blob", "contentItem", "contentVersion", "contentGrant", "contentTag",
            "comment", "message", "contact", "activity", "node", "nodeAccess", "extractionJob", "importedFile",
        ]
        #expect(expected.isSubset(of: tables), "missing: \(expected.subtracting(tables))")
        #expect(try await store.databaseProblems().isEmpty)
    }

    static func schema(of store: SQLiteMetadataStore) async throws -> [String] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        }
    }
}
