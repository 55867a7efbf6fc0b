import Foundation
import GRDB
import Testing

@testable import Repository

@Suite struct MigrationTests {
    static let allMigrations = [
        "v1-createContent", "v1-createExtractionQueue", "v1-createNodeStore", "v1-createPrincipals", "v1-createSocial",
        "v2-createImportedFile", "v3-indexPendingJobsOnly", "v4-markManagerRoles", "v5-createFormerGrantee", "v6-createContentResource", "v7-createGroupManagersAndViewers",
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
            "comment", "message", "contact", "activity", "node", "nodeAccess", "extractionJob", "importedFile", "formerGrantee", "contentResource", "groupManager", "groupViewer",
        ]
        #expect(expected.isSubset(of: tables), "missing: \(expected.subtracting(tables))")
        #expect(try await store.databaseProblems().isEmpty)
    }

    @Test func theExtractionQueueKeepsItsJobsWhenOnlyPendingOnesBecomeIndexed() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteMetadataStore(path: dir.file("oaken.sqlite").path)
        try SQLiteSchema.migrator.migrate(store.database, upTo: "v2-createImportedFile")
        try await store.database.write { db in
            for (blob, state, enqueuedAt) in [("b1", "done", 1), ("b2", "pending", 3), ("b3", "running", 2), ("b4", "pending", 2)] {
                try db.execute(sql: "INSERT INTO blob (id, length, createdAt) VALUES (?, 1, 0)", arguments: [blob])
                try db.execute(
                    sql: "INSERT INTO extractionJob (blobId, state, enqueuedAt, outcome) VALUES (?, ?, ?, 'indexed')",
                    arguments: [blob, state, enqueuedAt])
            }
        }
        try store.migrate()
        let claim = "SELECT blobId FROM extractionJob WHERE state = 'pending' ORDER BY enqueuedAt"
        let (jobs, pending, plan) = try await store.database.read { db in
            (try [String: String](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT blobId, state FROM extractionJob").map { ($0[0], $0[1]) }),
             try String.fetchAll(db, sql: claim),
             try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + claim).map { $0["detail"] as String }.joined())
        }
        #expect(jobs == ["b1": "done", "b2": "pending", "b3": "running", "b4": "pending"])
        #expect(pending == ["b4", "b2"])
        #expect(plan.contains("extractionJob_pending"), "\(plan)")
    }

    static func schema(of store: SQLiteMetadataStore) async throws -> [String] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        }
    }
}
