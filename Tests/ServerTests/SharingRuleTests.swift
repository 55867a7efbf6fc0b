import Foundation
import Testing
import TestSupport

/// Who may read an item is the managers' to decide (contract correction 15): an editor
/// changes the body and properties but not the visibility, a non-manager gives no one access
/// they lacked, and the access list is the managers' to read.
@Suite struct SharingRuleTests {
    /// A private item of alice's with bob as editor and carol as viewer; dave is a stranger.
    static func privateItem(_ server: LiveServer) async throws
        -> (id: String, alice: HTTPSession, bob: HTTPSession, carol: HTTPSession, dave: HTTPSession, daveID: String)
    {
        let (alice, _) = try await server.register("alice")
        let (bob, bobID) = try await server.register("bob")
        let (carol, carolID) = try await server.register("carol")
        let (dave, daveID) = try await server.register("dave")
        let id = try await alice.uploadOne("plan.txt", Array("the private plan".utf8))
        #expect(try await alice.post("/p/\(id).members.html", [(":editor", bobID), (":viewer", carolID)]).status == 200)
        return (id, alice, bob, carol, dave, daveID)
    }

    @Test func anEditorCannotMakeAPrivateItemPublic() async throws {
        try await withServer { server in
            let (id, alice, bob, _, _, _) = try await Self.privateItem(server)
            let anonymous = server.session()
            #expect(try await anonymous.get("/p/\(id).json").status == 404)
            #expect(try await bob.post("/p/\(id)", [("sakai:permissions", "public")]).status == 403)
            let imported = #"{"sakai:permissions":"public","sakai:description":"sneaky"}"#
            #expect(try await bob.post("/p/\(id)", [(":operation", "import"), (":contentType", "json"), (":content", imported)]).status == 403)
            #expect(try await bob.post("/p/\(id).modifyAce.html", [("principalId", "anonymous"), ("privilege@jcr:read", "granted")]).status == 403)
            #expect(try await bob.post("/p/\(id).members.html", [(":viewer", "anonymous")]).status == 403)
            #expect(try await anonymous.get("/p/\(id).json").status == 404, "still private")
            #expect(try await alice.get("/p/\(id).json").object["sakai:description"] as? String == "", "a refused change changed nothing")
            // What an editor may do, they do; restating the visibility is no change.
            #expect(try await bob.post("/p/\(id)", [("sakai:description", "edited"), ("sakai:permissions", "private")]).status == 200)
            #expect(try await alice.get("/p/\(id).json").object["sakai:description"] as? String == "edited")
            #expect(try await alice.post("/p/\(id)", [("sakai:permissions", "public")]).status == 200, "a manager may")
            #expect(try await anonymous.get("/p/\(id).json").status == 200)
        }
    }

    @Test func aNonManagerGivesNoOneAccessTheyLacked() async throws {
        try await withServer { server in
            let (id, alice, bob, carol, dave, daveID) = try await Self.privateItem(server)
            for sharer in [carol, bob] {
                #expect(try await sharer.post("/p/\(id).members.html", [(":viewer", daveID)]).status == 403)
                #expect(try await dave.get("/p/\(id).json").status == 404, "dave still cannot read it")
            }
            #expect(try await carol.post("/p/\(id).members.html", [(":viewer", daveID), (":viewer@Delete", "no-one")]).status == 403)
            // Once the item is for signed-in users, adding it to someone's library is fine.
            #expect(try await alice.post("/p/\(id)", [("sakai:permissions", "everyone")]).status == 200)
            #expect(try await carol.post("/p/\(id).members.html", [(":viewer", daveID)]).status == 200)
            let viewers = try await alice.get("/p/\(id).members.json").object["viewers"] as? [[String: Any]] ?? []
            #expect(viewers.contains { $0["userid"] as? String == daveID })
        }
    }

    @Test func theAccessListIsTheManagersOnly() async throws {
        try await withServer { server in
            let (id, alice, bob, carol, dave, _) = try await Self.privateItem(server)
            for other in [bob, carol, dave, server.session()] {
                #expect(try await other.get("/p/\(id).acl.json").status == 404)
            }
            let list = try await alice.get("/p/\(id).acl.json")
            #expect(list.status == 200)
            let entries = list.object.values.compactMap { $0 as? [String: Any] }
            let byPrincipal = Dictionary(entries.map { ($0["principal"] as? String ?? "", $0["granted"] as? [String] ?? []) }) { a, _ in a }
            #expect(byPrincipal.values.contains(["Read", "Write"]), "the editor")
            #expect(byPrincipal.values.contains(["Read"]), "the viewer")
            #expect(byPrincipal.values.contains { $0.contains("Manage") && $0.contains("Read ACL") }, "the manager")
            #expect((list.object["anonymous"] as? [String: Any])?["denied"] as? [String] == ["Read"])
        }
    }
}
