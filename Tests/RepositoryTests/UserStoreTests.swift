import Foundation
import GRDB
import Testing

@testable import Repository

@Suite struct UserStoreTests {
    @Test func aRegisteredUserLogsInWithTheirPasswordOnly() async throws {
        let fixture = try await SiteFixture()
        let users = fixture.site.metadata
        let ada = try await users.createUser(
            NewUser(loginName: "ada", firstName: "Ada", lastName: "Lovelace", email: "ada@example.org"), password: "analytical")
        #expect(ada.canLogIn)
        #expect(ada.id != "ada", "the user id must be opaque")
        #expect(try await users.authenticate(loginName: "ada", password: "analytical") == ada)
        #expect(try await users.authenticate(loginName: "ADA", password: "analytical") == ada)
        #expect(try await users.authenticate(loginName: "ada", password: "Analytical") == nil)
        #expect(try await users.authenticate(loginName: "nobody", password: "analytical") == nil)

        try await users.setPassword(userID: ada.id, password: "engine-2")
        #expect(try await users.authenticate(loginName: "ada", password: "analytical") == nil)
        #expect(try await users.authenticate(loginName: "ada", password: "engine-2") == ada)
    }

    @Test func passwordsAreStoredOnlyAsSaltedScryptHashes() async throws {
        let fixture = try await SiteFixture()
        _ = try await fixture.site.metadata.createUser(NewUser(loginName: "a", firstName: "A", lastName: "A"), password: "same-password")
        _ = try await fixture.site.metadata.createUser(NewUser(loginName: "b", firstName: "B", lastName: "B"), password: "same-password")
        let rows = try fixture.site.metadata.database.read { db in
            try Row.fetchAll(db, sql: "SELECT userId, algorithm, parameters, salt, hash FROM credential ORDER BY userId")
        }
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { ($0["algorithm"] as String) == "scrypt" })
        #expect(Set(rows.map { $0["hash"] as Data }).count == 2, "equal passwords must hash differently")
        let everything = rows.map { "\($0)" }.joined()
        #expect(!everything.contains("same-password"))
    }

    @Test func theStandardKDFIsSlow() throws {
        // scrypt with N = 2^15 needs 32 MiB per hash; the cost is in the parameters, not a clock.
        let hash = try PasswordHasher.standard.hash("pw-1234")
        #expect(hash.parameters == "n=15,r=8,p=1")
        #expect(try PasswordHasher.standard.verify("pw-1234", against: hash))
    }

    @Test func loginNamesAreUniqueWithoutCase() async throws {
        let fixture = try await SiteFixture()
        _ = try await fixture.site.metadata.createUser(NewUser(loginName: "Grace", firstName: "G", lastName: "H"), password: "cobol-1959")
        await #expect(throws: RepositoryError.conflict("the login name 'grace' is taken")) {
            try await fixture.site.metadata.createUser(NewUser(loginName: "grace", firstName: "G", lastName: "H"), password: "cobol-1959")
        }
    }

    @Test(arguments: ["", "anonymous", "Everyone", "-dash", "white space", "sla/sh", String(repeating: "x", count: 65), "ünï"])
    func badLoginNamesAreRejected(name: String) async throws {
        let fixture = try await SiteFixture()
        await #expect(throws: RepositoryError.self) {
            try await fixture.site.metadata.createUser(NewUser(loginName: name, firstName: "F", lastName: "L"), password: "long-enough")
        }
        #expect(try await fixture.site.metadata.statistics().users == 0)
    }

    @Test func aTooShortPasswordIsRejected() async throws {
        let fixture = try await SiteFixture()
        await #expect(throws: RepositoryError.invalid(field: "password", reason: "must be at least 4 characters")) {
            try await fixture.site.metadata.createUser(NewUser(loginName: "x", firstName: "F", lastName: "L"), password: "abc")
        }
    }

    @Test func theAdministratorIsCreatedOnceWithoutAPassword() async throws {
        let fixture = try await SiteFixture()
        let admin = try await fixture.site.administrator()
        #expect(admin.loginName == "admin")
        #expect(!admin.canLogIn)
        #expect(try await fixture.site.administrator() == admin)
    }
}
