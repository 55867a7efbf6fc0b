import Foundation
import Repository
import Server
import Testing
import TestSupport

/// Scripts written for Nakamura 1.2 work unchanged (contract, "Corrections, checked against
/// Nakamura 1.2's own behaviour", items 1–15), on a site whose ids are login names.
@Suite struct NakamuraCompatibilityTests {
    static let adminPassword = "the administrator's password"

    func login(_ server: LiveServer, _ name: String, _ password: String = "a long enough password") async throws -> HTTPSession {
        let session = server.session()
        let reply = try await session.post("/system/sling/formlogin", [("sakaiauth:un", name), ("sakaiauth:pw", password)])
        guard reply.status == 200 else { throw POSIXError(.EACCES) }
        return session
    }

    @Test func registrationTakesScriptsFormsAndLoginNamesAreUniqueWithoutCase() async throws {
        try await withServer(userIDs: .login) { server in
            let anonymous = server.session()
            // 1: no names, no e-mail.
            let bare = try await anonymous.post("/system/userManager/user.create.json", [(":name", "nico"), ("pwd", "a long enough password")])
            #expect(bare.status == 201)
            let nico = try await login(server, "nico")
            let map = try await nico.get("/system/userManager/user/nico.json").object
            #expect(map["firstName"] as? String == "unknown" && map["lastName"] as? String == "unknown" && map["name"] as? String == "nico")
            // 2: JSON in a form field, written as org.json reads it.
            let profile = "{'basic': {'access': 'everybody', 'elements': {'firstName': {'value': 'Ola'}, 'lastName': {'value': 'Nordmann'},},}}"
            let lenient = try await anonymous.post("/system/userManager/user.create.html", [
                (":name", "ola"), ("pwd", "a long enough password"), (":sakai:profile-import", profile),
            ])
            #expect(lenient.status == 201)
            #expect(try await nico.get("/system/userManager/user/ola.json").object["lastName"] as? String == "Nordmann")
            let imported = try await nico.post("/~nico/public/settings", [
                (":operation", "import"), (":contentType", "json"), (":content", "{'theme': 'dark', 'sizes': [1, 2,],}"),
            ])
            #expect(imported.status == 201)
            #expect(try await nico.get("/~nico/public/settings.json").object["theme"] as? String == "dark")
            // 3: unique regardless of case.
            let shouted = try await anonymous.post("/system/userManager/user.create.html", [(":name", "NICO"), ("pwd", "a long enough password")])
            #expect(shouted.status == 400)
        }
    }

    @Test func theAdministratorIsAdminAndAccountsAreTheirOwnersAndAdministrators() async throws {
        try await withServer(userIDs: .login, adminPassword: Self.adminPassword) { server in
            // 4: the administrator's id is admin.
            let admin = try await login(server, "admin", Self.adminPassword)
            let me = try await admin.get("/system/me").object
            #expect((me["user"] as? [String: Any])?["userid"] as? String == "admin")
            #expect((me["user"] as? [String: Any])?["superUser"] as? Bool == true)
            #expect(try await admin.get("/~admin/public/authprofile.profile.json").status == 200)
            let (alice, _) = try await server.register("alice", email: "alice@example.org")
            let (bob, _) = try await server.register("bob")
            _ = try await server.register("carol")
            // 5: the flat map, whole to its owner and administrators only.
            let own = try await alice.get("/system/userManager/user/alice.json").object
            #expect(own["name"] as? String == "alice" && own["type"] as? String == "u" && own["email"] as? String == "alice@example.org")
            #expect(own["principals"] as? [String] == [] && own["created"] is Int && own["lastModified"] is Int)
            #expect(try await admin.get("/system/userManager/user/alice.json").object["email"] as? String == "alice@example.org")
            let seen = try await bob.get("/system/userManager/user/alice.json").object
            #expect(seen["name"] as? String == "alice" && seen["email"] == nil && seen["principals"] == nil)
            // 7: update and locale.
            #expect(try await alice.post("/system/userManager/user/alice.update.html", [("locale", "nl_BE"), ("hobby", "chess")]).status == 200)
            var locale = (try await alice.get("/system/me").object["user"] as? [String: Any])?["locale"] as? [String: Any]
            #expect(locale?["country"] as? String == "BE")
            #expect(try await alice.post("/system/userManager/user/alice.update.html", [("locale", "not a locale")]).status == 200)
            locale = (try await alice.get("/system/me").object["user"] as? [String: Any])?["locale"] as? [String: Any]
            #expect(locale?["country"] as? String == "BE", "an invalid locale keeps the old one")
            #expect(try await alice.get("/system/userManager/user/alice.json").object["hobby"] as? String == "chess")
            #expect(try await bob.post("/system/userManager/user/alice.update.html", [("hobby", "darts")]).status == 403)
            // 7: a new password works at once, by form and by Basic; the old one stops.
            let basicOld = "Basic " + Data("alice:a long enough password".utf8).base64EncodedString()
            #expect(try await server.session().get("/system/me", headers: [("Authorization", basicOld)]).status == 200)
            #expect(try await alice.post("/system/userManager/user/alice.changePassword.html", [
                ("oldPwd", "wrong"), ("newPwd", "a brand new password"), ("newPwdConfirm", "a brand new password"),
            ]).status == 403)
            #expect(try await alice.post("/system/userManager/user/alice.changePassword.html", [
                ("oldPwd", "a long enough password"), ("newPwd", "a brand new password"), ("newPwdConfirm", "a brand new password"),
            ]).status == 200)
            _ = try await login(server, "alice", "a brand new password")
            let basicNew = "Basic " + Data("alice:a brand new password".utf8).base64EncodedString()
            #expect(try await server.session().get("/system/me", headers: [("Authorization", basicNew)]).status == 200)
            #expect(try await server.session().get("/system/me", headers: [("Authorization", basicOld)]).status == 401)
            // 6: deletion, by the user or an administrator, several at once with :applyTo.
            #expect(try await bob.post("/system/userManager/user/alice.delete.html").status == 403)
            #expect(try await alice.post("/system/userManager/user/alice.delete.html").status == 200)
            #expect(try await admin.get("/system/userManager/user/alice.json").status == 404)
            #expect(try await admin.get("/~alice/public/authprofile.json").status == 404)
            #expect(try await server.session().post("/system/sling/formlogin", [("sakaiauth:un", "alice"), ("sakaiauth:pw", "a brand new password")]).status == 401)
            let both = try await admin.post("/system/userManager/user.delete.html", [(":applyTo", "bob"), (":applyTo", "/system/userManager/user/carol")])
            #expect(both.status == 200)
            #expect(try await admin.get("/system/userManager/user/bob.json").status == 404)
            #expect(try await admin.get("/system/userManager/user/carol.json").status == 404)
            #expect(try await admin.post("/system/userManager/user/admin.delete.html").status == 403)
        }
    }

    @Test func nodeWritesAnswerAsSlingDoes() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            // 8: 201 with Location for a new node, 200 after; no properties still creates it.
            let created = try await alice.post("/~alice/public/notes", [("a", "1")])
            #expect(created.status == 201 && created.header("Location") == "/~alice/public/notes")
            #expect(try await alice.post("/~alice/public/notes", [("b", "2")]).status == 200)
            #expect(try await alice.post("/~alice/public/empty").status == 201)
            #expect(try await alice.get("/~alice/public/empty.json").status == 200)
            let batch = try await alice.post("/system/batch", [("requests", #"[{"url":"/~alice/public/fresh","method":"POST","parameters":{"x":"1"}}]"#)])
            #expect((batch.object["results"] as? [[String: Any]])?.first?["status"] as? Int == 201)
            #expect(try await alice.post("/~alice/public/authprofile.profile.json", [("firstName", "Alice")]).status == 200)
            // 9: an empty value removes a property.
            #expect(try await alice.post("/~alice/public/notes", [("a", "")]).status == 200)
            let notes = try await alice.get("/~alice/public/notes.json").object
            #expect(notes["a"] == nil && notes["b"] as? String == "2")
            // 10: a doubled extension and unknown selectors read as the plain form.
            #expect(try await alice.get("/~alice/public/notes.json.json").object["b"] as? String == "2")
            #expect(try await alice.get("/~alice/public/notes.tidy.json").object["b"] as? String == "2")
        }
    }

    @Test func theContentPoolAnswersAsNakamurasDoes() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            // 11: form-mode createfile without a mimeType.
            let form = try await alice.post("/system/pool/createfile", [("sakai:pooled-content-file-name", "A link"), ("sakai:custom", "x")])
            #expect(form.status == 201)
            let content = try #require(form.object["_contentItem"] as? [String: Any])
            let linkID = try #require(content["poolId"] as? String)
            #expect((content["item"] as? [String: Any])?["sakai:custom"] as? String == "x")
            // 9 on /p/: an empty value removes a free property.
            #expect(try await alice.post("/p/\(linkID)", [("sakai:custom", "")]).status == 200)
            #expect(try await alice.get("/p/\(linkID).json").object["sakai:custom"] == nil)
            // 10: /p/ID.json.json reads like /p/ID.json.
            #expect(try await alice.get("/p/\(linkID).json.json").object["sakai:pooled-content-file-name"] as? String == "A link")
            // 13: only .save.json makes a version; a new body or properties make none.
            let id = try await alice.uploadOne("draft.txt", Array("first words".utf8))
            #expect(try await alice.get("/p/\(id).versions.json").object["total"] as? Int == 0)
            #expect(try await alice.post("/p/\(id)", [("sakai:description", "changed")]).status == 200)
            #expect(try await alice.post("/p/\(id).save.json").status == 200)
            #expect(try await alice.upload([("draft.txt", Array("second words".utf8))], to: "/system/pool/createfile.\(id)").status == 200)
            #expect(try await alice.get("/p/\(id)").text == "second words")
            #expect(try await alice.get("/p/\(id).versions.json").object["total"] as? Int == 1, "the new body made no version")
            // ... and every spelling reads them.
            #expect(try await alice.get("/p/\(id).version.,1.0").text == "first words")
            let saved = try await alice.get("/p/\(id).version.,1.0,.json").object
            #expect(saved["versionId"] as? String == "1.0" && saved["sakai:description"] as? String == "changed")
            #expect(try await alice.get("/p/\(id).version.,1.9,.json").status == 400)
            #expect(try await alice.get("/p/\(id)/.versions.json").object["total"] as? Int == 1)
            // 14: the access list, with Nakamura's privilege names.
            #expect(try await alice.post("/p/\(id).members.html", [(":editor", "bob")]).status == 200)
            let acl = try await alice.get("/p/\(id).acl.json").object
            #expect((acl["bob"] as? [String: Any])?["granted"] as? [String] == ["Read", "Write"])
            let manager = (acl["alice"] as? [String: Any])?["granted"] as? [String] ?? []
            #expect(manager.contains("Read ACL") && manager.contains("Manage"))
            #expect(try await bob.get("/p/\(id).acl.json").status == 404)
            #expect(try await alice.post("/p/\(id).members.html", [(":editor@Delete", "bob")]).status == 200)
            let emptied = try await alice.get("/p/\(id).acl.json").object["bob"] as? [String: Any]
            #expect(emptied?["granted"] as? [String] == [] && emptied?["principal"] as? String == "bob", "the key stays, emptied")
            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", "bob")]).status == 200)
            #expect((try await alice.get("/p/\(id).acl.json").object["bob"] as? [String: Any])?["granted"] as? [String] == ["Read"])
            // 15: sharing is the managers'. An editor changes properties but not who may read;
            // a viewer gives no one access to a private item.
            let (carol, _) = try await server.register("carol")
            #expect(try await alice.post("/p/\(id).members.html", [(":editor", "carol")]).status == 200)
            #expect(try await carol.post("/p/\(id)", [("sakai:description", "edited")]).status == 200)
            #expect(try await carol.post("/p/\(id)", [("sakai:permissions", "public")]).status == 403)
            #expect(try await carol.post("/p/\(id).members.html", [(":viewer", "anonymous")]).status == 403)
            _ = try await server.register("dave")
            #expect(try await bob.post("/p/\(id).members.html", [(":viewer", "dave")]).status == 403)
            #expect(try await bob.post("/p/\(id).members.html", [(":viewer@Delete", "bob")]).status == 200, "a viewer may leave")
            #expect(try await server.session().get("/p/\(id).json").status == 404)
        }
    }

    /// On a site whose ids are login names, a deleted account's name can be taken again: the
    /// newcomer inherits nothing of the old account's access, in reads or in search.
    @Test func aNameTakenAgainInheritsNoAccess() async throws {
        try await withServer(userIDs: .login, adminPassword: Self.adminPassword) { server in
            let admin = try await login(server, "admin", Self.adminPassword)
            let (alice, _) = try await server.register("alice")
            let (carol, _) = try await server.register("carol")
            let id = try await alice.uploadOne("secret.txt", Array("heirloom recipe".utf8))
            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", "carol")]).status == 200)
            await server.extracted()
            #expect(try await carol.get("/var/search/pool/all.json?q=heirloom").object["total"] as? Int == 1)
            #expect(try await admin.post("/system/userManager/user/carol.delete.html").status == 200)
            let (newcomer, newID) = try await server.register("carol")
            #expect(newID == "carol")
            #expect(try await newcomer.get("/p/\(id).json").status == 404)
            #expect(try await newcomer.get("/var/search/pool/all.json?q=heirloom").object["total"] as? Int == 0)
            #expect(try await newcomer.get("/var/search/pool/me/viewer-all.json").object["total"] as? Int == 0)
            let viewers = try await alice.get("/p/\(id).members.json").object["viewers"] as? [[String: Any]] ?? []
            #expect(viewers.isEmpty, "the old account's grant went with it")
        }
    }

    /// 12: child resources of an item, by id and through a doc's structure, as readable as
    /// the item and kept by `gc`.
    @Test func anItemHoldsChildResources() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let form = try await alice.post("/system/pool/createfile", [("mimeType", "x-sakai/document"), ("sakai:pooled-content-file-name", "Doc")])
            let id = try #require((form.object["_contentItem"] as? [String: Any])?["poolId"] as? String)
            // Form mode: a resource of fields.
            let fields = try await alice.post("/p/\(id).resource.html", [("title", "a page"), ("sakai:pooled-content-file-name", "page")])
            #expect(fields.status == 201)
            let fieldsID = try #require((fields.object["_contentItem"] as? [String: Any])?["resourceId"] as? String)
            #expect(try await alice.get("/p/\(id)/\(fieldsID)").object["title"] as? String == "a page")
            // Multipart: a resource with a body, streamed back.
            let upload = try await alice.upload([("file.txt", Array("attached words".utf8))], to: "/p/\(id).resource.html")
            #expect(upload.status == 201)
            let fileID = try #require((upload.object["file.txt"] as? [String: Any])?["resourceId"] as? String)
            #expect(try await alice.get("/p/\(id)/\(fileID)").text == "attached words")
            // Through a structure property.
            let structure = #"{"a":{"file.txt":{"_ref":"\#(fileID)"}}}"#
            #expect(try await alice.post("/p/\(id)", [("structure7", structure)]).status == 200)
            #expect(try await alice.get("/p/\(id)/7/a/file.txt").text == "attached words")
            #expect(try await alice.get("/p/\(id)/7/a/other.txt").status == 404)
            // As readable and writable as the item.
            #expect(try await bob.get("/p/\(id)/\(fileID)").status == 404)
            #expect(try await bob.post("/p/\(id).resource.html", [("title", "x")]).status == 404)
            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", "bob")]).status == 200)
            #expect(try await bob.get("/p/\(id)/7/a/file.txt").text == "attached words")
            #expect(try await bob.post("/p/\(id).resource.html", [("title", "x")]).status == 403)
            // Its blob is a reference: gc keeps it.
            _ = try await server.site.collectGarbage()
            #expect(try await alice.get("/p/\(id)/\(fileID)").text == "attached words")
        }
    }

    /// Corrections 17–23: groups as principals, as Nakamura's scripts use them.
    @Test func groupsAnswerAsNakamurasDo() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let (carol, _) = try await server.register("carol")
            let (erin, _) = try await server.register("erin")
            let anonymous = server.session()
            // 17: create, with properties, members and a managing member; the creator manages.
            let created = try await alice.post("/system/userManager/group.create.html", [
                (":name", "chess"), ("sakai:group-title", "Chess club"), ("motto", "check"), (":member", "erin"), (":sakai:manager", "bob"),
            ])
            #expect(created.status == 200)
            #expect(try await alice.post("/system/userManager/group.create.html", [(":name", "chess")]).status == 400)
            #expect(try await anonymous.post("/system/userManager/group.create.html", [(":name", "anon")]).status == 405)
            #expect(try await alice.get("/~chess/public/authprofile.json").status == 200, "the group has a home")
            // 18: the map.
            let map = try await carol.get("/system/userManager/group/chess.json").object
            let properties = map["properties"] as? [String: Any] ?? [:]
            #expect(properties["name"] as? String == "chess" && properties["motto"] as? String == "check")
            #expect(Set(map["members"] as? [String] ?? []) == ["bob", "erin"])
            #expect(Set(properties["rep:group-managers"] as? [String] ?? []) == ["alice", "bob"])
            // 21: managers among the direct members, the others, and both.
            func userids(_ session: HTTPSession, _ selector: String) async throws -> Set<String> {
                Set((try await session.get("/system/userManager/group/chess.\(selector).json").json as? [[String: Any]] ?? []).compactMap { $0["userid"] as? String })
            }
            #expect(try await userids(carol, "managers") == ["bob"])
            #expect(try await userids(carol, "members") == ["erin"])
            #expect(try await userids(carol, "everyone") == ["bob", "erin"])
            // 20: ids or principal paths; no-ops are 200; a non-manager changes nothing.
            let update = "/system/userManager/group/chess.update.html"
            #expect(try await alice.post(update, [(":member", "/system/userManager/user/carol"), (":member", "erin"), (":member@Delete", "nobody-here")]).status == 200)
            #expect(try await carol.post(update, [(":member@Delete", "erin"), ("motto", "mate")]).status == 403)
            #expect(Set(try await alice.get("/system/userManager/group/chess.json").object["members"] as? [String] ?? []) == ["bob", "carol", "erin"])
            #expect(try await alice.post(update, [(":member", "chess")]).status == 200, "a group may contain itself")
            #expect(try await erin.get("/system/me").status == 200, "membership expansion stops at the cycle")
            // 19: viewers decide who sees it; plain membership does not.
            #expect(try await anonymous.get("/system/userManager/group/chess.json").status == 200, "no viewers: public")
            #expect(try await alice.post(update, [(":viewer", "carol")]).status == 200)
            #expect(try await anonymous.get("/system/userManager/group/chess.json").status == 404)
            #expect(try await erin.get("/system/userManager/group/chess.json").status == 404, "a plain member does not see it")
            #expect(try await carol.get("/system/userManager/group/chess.json").status == 200)
            #expect(try await bob.get("/system/userManager/group/chess.json").status == 200, "a manager does")
            #expect(try await alice.post(update, [(":viewer", "anonymous")]).status == 200)
            #expect(try await anonymous.get("/system/userManager/group/chess.json").status == 200, "public again")
            // 23: leave; the last manager may not.
            #expect(try await erin.post("/system/userManager/group/chess.leave.json").status == 200)
            #expect(!(try await alice.get("/system/userManager/group/chess.json").object["members"] as? [String] ?? []).contains("erin"))
            #expect(try await alice.post(update, [(":manager@Delete", "bob")]).status == 200)
            #expect(try await alice.post("/system/userManager/group/chess.leave.json").status == 400)
            // 22: delete, by a manager only; the group goes from every member's /system/me.
            #expect(try await carol.post("/system/userManager/group/chess.delete.html").status == 403)
            let groupsOf = { (session: HTTPSession) async throws -> [String] in
                (try await session.get("/system/me").object["groups"] as? [[String: Any]] ?? []).compactMap { $0["groupid"] as? String }
            }
            #expect(try await groupsOf(carol).contains("chess"))
            #expect(try await alice.post("/system/userManager.delete.json", [(":applyTo", "chess")]).status == 200)
            #expect(try await alice.get("/system/userManager/group/chess.json").status == 404)
            #expect(try await alice.get("/~chess.json").status == 404)
            #expect(try await groupsOf(carol).contains("chess") == false)
        }
    }

    /// Correction 24, and a group's library: the caller's groups and managed groups, and what
    /// is shared with a group or its roles, for those who may see the group.
    @Test func myGroupsAndAGroupsLibrary() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let (carol, _) = try await server.register("carol")
            for (name, title) in [("zeta", "Zeta Reading Circle"), ("alpha", "Alpha Chess Club"), ("mid", "Chessboard makers")] {
                #expect(try await alice.post("/system/userManager/group.create.html", [(":name", name), ("sakai:group-title", title), (":member", "bob")]).status == 200)
            }
            func ids(_ session: HTTPSession, _ target: String) async throws -> [String] {
                (try await session.get(target).object["results"] as? [[String: Any]] ?? []).compactMap { $0["sakai:group-id"] as? String }
            }
            #expect(try await ids(bob, "/system/me/groups.json") == ["alpha", "mid", "zeta"])
            #expect(try await ids(bob, "/system/me/managedgroups.json") == [])
            #expect(try await ids(alice, "/system/me/managedgroups.json") == ["alpha", "mid", "zeta"])
            #expect(try await ids(bob, "/system/me/groups.json?q=CHESS") == ["alpha"], "a whole word, without case")
            #expect(try await ids(bob, "/system/me/groups.json?q=chess*") == ["alpha", "mid"])
            #expect(try await ids(bob, "/system/me/groups.json?q=zeta") == ["zeta"], "the id counts as a word")
            #expect(try await bob.get("/system/me/groups.json?uid=alice").status == 403)
            #expect(try await ids(bob, "/system/me/groups.json?uid=bob") == ["alpha", "mid", "zeta"])
            // The library of a group: what is shared with it; hidden from those who may not see it.
            let id = try await alice.uploadOne("minutes.txt", Array("club minutes".utf8))
            #expect(try await alice.post("/p/\(id).members.html", [(":viewer", "alpha")]).status == 200)
            let library = "/var/search/pool/manager-viewer.json?userid=alpha"
            #expect((try await bob.get(library).object["results"] as? [[String: Any]])?.compactMap { $0["_path"] as? String } == [id])
            #expect(try await alice.post("/system/userManager/group/alpha.update.html", [(":viewer", "alpha")]).status == 200)
            #expect(try await carol.get(library).status == 404, "a members-only group's library is hidden")
            #expect(try await bob.get(library).status == 200)
        }
    }

    /// Joining: a `yes` group takes a user at once, a `withauth` one records the request for
    /// its managers to approve or deny, a `no` one does nothing; nobody asks for another.
    @Test func joiningFollowsTheGroupsJoinability() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let (carol, _) = try await server.register("carol")
            for (name, joinable) in [("open", "yes"), ("asked", "withauth"), ("closed", "no")] {
                #expect(try await alice.post("/system/userManager/group.create.html", [(":name", name)]).status == 200)
                #expect(try await alice.post("/system/userManager/group/\(name).update.html", [("sakai:group-joinable", joinable)]).status == 200)
            }
            func members(_ group: String) async throws -> Set<String> {
                Set(try await alice.get("/system/userManager/group/\(group).json").object["members"] as? [String] ?? [])
            }
            #expect(try await bob.post("/~open/joinrequests.create.html", [("userid", "bob")]).status == 200)
            #expect(try await members("open") == ["bob"], "a yes group takes bob at once")
            #expect(try await bob.post("/~asked/joinrequests.create.html", [("userid", "carol")]).status == 403, "only for oneself")
            #expect(try await server.session().post("/~asked/joinrequests.create.html", [("userid", "bob")]).status == 405)
            for session in [bob, carol] {
                #expect(try await session.post("/~asked/joinrequests.create.html").status == 200)
            }
            #expect(try await members("asked") == [], "withauth waits for a manager")
            let list = try await alice.get("/var/joinrequests/list.json?groupId=asked").object
            #expect(list["total"] as? Int == 2)
            #expect(Set((list["results"] as? [[String: Any]] ?? []).compactMap { $0["userid"] as? String }) == ["bob", "carol"])
            #expect(((list["results"] as? [[String: Any]])?.first?["_created"] as? String)?.contains("T") == true)
            #expect(try await bob.get("/var/joinrequests/list.json?groupId=asked").status == 403)
            // Approve bob, deny carol.
            #expect(try await alice.post("/system/userManager/group/asked.update.html", [(":member", "bob")]).status == 200)
            #expect(try await alice.post("/~asked/joinrequests/bob", [(":operation", "delete")]).status == 200)
            #expect(try await alice.post("/~asked/joinrequests/carol", [(":operation", "delete")]).status == 200)
            #expect(try await members("asked") == ["bob"])
            #expect(try await alice.get("/var/joinrequests/list.json?groupId=asked").object["total"] as? Int == 0)
            #expect(try await carol.post("/~asked/joinrequests/carol", [(":operation", "delete")]).status == 404, "nothing left to withdraw")
            #expect(try await carol.post("/~closed/joinrequests.create.html").status == 200)
            #expect(try await members("closed") == [], "a no group takes nobody")
        }
    }

    /// World creation from the templates, on a site without a UI tree (Oaken's own templates)
    /// and as scripted clients call it (correction 16).
    @Test func worldsAreMadeFromTheTemplates() async throws {
        try await withServer(userIDs: .login, configure: { $0.uiDirectory = nil }) { server in
            let (alice, _) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let (carol, _) = try await server.register("carol")
            let anonymous = server.session()
            let tree = try await anonymous.get("/var/templates/worlds.2.json").object
            let simple = (tree["group"] as? [String: Any])?["simple-group"] as? [String: Any]
            #expect(simple?["joinRole"] as? String == "member" && (simple?["roles"] as? [String])?.count == 2)
            #expect((tree["course"] as? [String: Any])?["basic-course"] != nil && tree["research"] != nil)
            // A scripted world: no message, no schema version, an empty title and tags, an unknown user.
            let data = #"{"id":"sailing","title":"","tags":[],"worldTemplate":"/var/templates/worlds/group/simple-group","usersToAdd":[{"userid":"bob","role":"member"},{"userid":"nobody","role":"member"}]}"#
            let created = try await alice.post("/system/world/create", [("data", data)])
            #expect(created.status == 200 && created.text.contains(#""created":true"#))
            let group = try await anonymous.get("/system/userManager/group/sailing.json").object
            #expect(Set(group["members"] as? [String] ?? []) == ["sailing-manager", "sailing-member"])
            let properties = group["properties"] as? [String: Any] ?? [:]
            #expect(properties["rep:group-managers"] as? [String] == ["sailing-manager"], "the creator manages through the role")
            #expect(properties["sakai:joinRole"] as? String == "member" && properties["sakai:templateid"] as? String == "simple-group")
            #expect(try await anonymous.get("/system/userManager/group/sailing-member.json").object["members"] as? [String] == ["bob"])
            #expect(try await anonymous.get("/system/userManager/group/sailing-manager.json").object["members"] as? [String] == ["alice"])
            #expect(try await alice.post("/system/userManager/group/sailing-member.update.html", [(":member", "carol")]).status == 200)
            #expect(try await bob.post("/system/userManager/group/sailing-member.update.html", [(":member", "carol")]).status == 403)
            // Joining a world goes through its join role, never a managing one.
            let (dave, _) = try await server.register("dave")
            #expect(try await dave.post("/~sailing-manager/joinrequests.create.html").status == 403)
            #expect(try await dave.post("/~sailing/joinrequests.create.html").status == 200)
            #expect(try await anonymous.get("/system/userManager/group/sailing-member.json").object["members"] as? [String] == ["bob", "carol", "dave"])
            #expect(try await anonymous.get("/system/userManager/group/sailing-manager.json").object["members"] as? [String] == ["alice"])
            // Taken and bad ids: 200, created false, nothing made.
            for id in ["sailing", "bad/id", "x-member"] {
                let again = try await alice.post("/system/world/create", [("data", #"{"id":"\#(id)"}"#)])
                #expect(again.status == 200 && again.text.contains(#""created":false"#), "\(id)")
            }
            // A members-only course: its roles see it, nobody else.
            let course = #"{"id":"physics","title":"Physics","visibility":"members-only","worldTemplate":"/var/templates/worlds/course/basic-course","usersToAdd":[{"userid":"bob","role":"student"}]}"#
            #expect(try await alice.post("/system/world/create", [("data", course)]).text.contains(#""created":true"#))
            #expect(try await bob.get("/system/userManager/group/physics.json").status == 200)
            #expect(try await carol.get("/system/userManager/group/physics.json").status == 404)
            #expect(try await anonymous.get("/system/userManager/group/physics-student.json").status == 404)
            #expect(try await alice.post("/system/userManager/group/physics-ta.update.html", [(":member", "carol")]).status == 200, "the lecturer manages the TAs")
            #expect(try await carol.get("/system/userManager/group/physics.json").status == 200, "a TA sees the course")
            let groups = (try await bob.get("/system/me/groups.json").object["results"] as? [[String: Any]] ?? []).compactMap { $0["sakai:group-id"] as? String }
            #expect(groups == ["physics", "sailing"])
        }
    }
}

