import Foundation
import GRDB
import Testing

@testable import Repository

/// Groups as principals: roles as pseudo-groups, managers from the data, membership that is
/// transitive and stops at cycles, and deletion that takes every right granted through a
/// group with it.
@Suite struct GroupStoreTests {
    static let template = [
        GroupRole(id: "manager", title: "Manager", isManagerRole: true, manages: ["member"]),
        GroupRole(id: "member", title: "Member"),
    ]

    func user(_ name: String, _ fixture: SiteFixture) async throws -> User {
        try await fixture.site.metadata.createUser(NewUser(loginName: name, firstName: name, lastName: "Tester"), password: nil)
    }

    @Test func aGroupIsMadeWithItsRolesAndItsCreatorManagesIt() async throws {
        let fixture = try await SiteFixture()
        let store = fixture.site.metadata
        let ada = try await user("ada", fixture)
        let bob = try await user("bob", fixture)
        let group = try await store.createGroup(NewGroup(id: "physics", title: "Physics", roles: Self.template, creatorID: ada.id))
        #expect(group.members == ["physics-manager", "physics-member"])
        #expect(group.managers == [ada.id, "physics-manager"].sorted())
        #expect(try await store.group(id: "physics-member")?.managers == [ada.id, "physics-manager"].sorted())
        #expect(try await store.group(id: "physics-member")?.summary.parentID == "physics")
        #expect(try await store.node(at: "/~physics/public/authprofile") != nil, "the group has a home")

        var change = GroupChange()
        change.addMembers = [bob.id]
        try await store.changeGroup(id: "physics-manager", change)
        let membership = try await store.userAndMembership(id: bob.id)!.1
        #expect(membership.principals == [bob.id, "physics-manager", "physics"])
        #expect(membership.managedGroups == ["physics", "physics-member"], "the manager role manages the group and the member role")
        #expect(try await store.userAndMembership(id: ada.id)!.1.managedGroups == ["physics", "physics-manager", "physics-member"])
    }

    @Test func badAndTakenIdsAreRefused() async throws {
        let fixture = try await SiteFixture()
        let store = fixture.site.metadata
        let ada = try await user("ada", fixture)
        for id in ["", "-x", "a/b", "everyone", "physics-manager", "x y", String(repeating: "g", count: 65)] {
            await #expect(throws: RepositoryError.self, "\(id)") { try await store.createGroup(NewGroup(id: id, creatorID: ada.id)) }
        }
        _ = try await store.createGroup(NewGroup(id: "physics", roles: Self.template, creatorID: ada.id))
        await #expect(throws: RepositoryError.conflict("the id 'physics' is taken")) {
            try await store.createGroup(NewGroup(id: "physics", creatorID: ada.id))
        }
        await #expect(throws: RepositoryError.self) { try await store.createGroup(NewGroup(id: ada.id, creatorID: ada.id)) }
    }

    @Test func membershipIsTransitiveAndStopsAtCycles() async throws {
        let fixture = try await SiteFixture()
        let store = fixture.site.metadata
        let ada = try await user("ada", fixture)
        for id in ["outer", "inner"] { _ = try await store.createGroup(NewGroup(id: id, creatorID: ada.id)) }
        var change = GroupChange()
        change.addMembers = ["inner"]
        try await store.changeGroup(id: "outer", change)
        change.addMembers = ["outer", ada.id]
        try await store.changeGroup(id: "inner", change)
        #expect(try await store.principalIDs(ofUser: ada.id) == [ada.id, "inner", "outer"])
        var unknown = GroupChange()
        unknown.addMembers = ["bob-the-builder", ada.id]
        unknown.setProperties = ["x": "y"]
        await #expect(throws: RepositoryError.notFound(kind: "principal", id: "bob-the-builder")) {
            try await store.changeGroup(id: "outer", unknown)
        }
        #expect(try await store.group(id: "outer")?.members == ["inner"], "nothing changed")
    }

    @Test func viewersDecideTheVisibilityTheDirectoryShows() async throws {
        let fixture = try await SiteFixture()
        let store = fixture.site.metadata
        let ada = try await user("ada", fixture)
        _ = try await store.createGroup(NewGroup(id: "club", roles: Self.template, creatorID: ada.id))
        #expect(try await store.group(id: "club")?.summary.visibility == "public")
        var change = GroupChange()
        change.addViewers = ["club-member", "club-manager"]
        try await store.changeGroup(id: "club", change)
        #expect(try await store.group(id: "club")?.summary.visibility == "members-only")
        change = GroupChange()
        change.addViewers = ["everyone"]
        try await store.changeGroup(id: "club", change)
        #expect(try await store.group(id: "club")?.summary.visibility == "logged-in")
        change.addViewers = ["anonymous"]
        try await store.changeGroup(id: "club", change)
        #expect(try await store.group(id: "club")?.summary.visibility == "public")
    }

    @Test func deletingAGroupRevokesEveryRightGrantedThroughIt() async throws {
        let fixture = try await SiteFixture()
        let store = fixture.site.metadata
        let ada = try await user("ada", fixture)
        let bob = try await user("bob", fixture)
        _ = try await store.createGroup(NewGroup(id: "team", roles: Self.template, creatorID: ada.id))
        var change = GroupChange()
        change.addMembers = [bob.id]
        try await store.changeGroup(id: "team-member", change)
        let file = fixture.directory.url.appendingPathComponent("notes.txt")
        try Data("team notes".utf8).write(to: file)
        let item = try await fixture.put(file, owner: ada.id)
        try await store.changeGrants(itemID: item.id, add: [ContentGrant(principalID: "team-member", role: .viewer)], remove: [], by: ada.id)
        #expect(try await store.principalIDs(ofUser: bob.id).contains("team-member"))
        try await store.deleteGroups(ids: ["team"])
        #expect(try await store.group(id: "team") == nil)
        #expect(try await store.group(id: "team-member") == nil)
        #expect(try await store.principalIDs(ofUser: bob.id) == [bob.id])
        #expect(try await store.itemRecord(id: item.id)?.grants.contains { $0.principalID == "team-member" } == false)
        #expect(try await store.node(at: "/~team") == nil)
        await #expect(throws: RepositoryError.notFound(kind: "group", id: "team")) { try await store.deleteGroups(ids: ["team"]) }
    }
}
