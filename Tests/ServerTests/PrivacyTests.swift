import Foundation
import Repository
import Testing
import TestSupport

/// In opaque mode no response, body or header, ever shows a login name, and nobody but the
/// user sees their e-mail address.
@Suite struct PrivacyTests {
    @Test func noResponseRevealsALoginNameOrAnotherUsersEmail() async throws {
        try await withServer { server in
            let logins = ["qx-login-alpha", "qx-login-bravo"]
            let emails = ["alpha-mail@example.edu", "bravo-mail@example.edu"]
            var replies: [(String, HTTPResult)] = []
            var repliesToOthers: [(String, HTTPResult)] = []
            let anonymous = server.session()
            func record(_ label: String, _ reply: HTTPResult, privateToAlpha: Bool = false) {
                replies.append((label, reply))
                if !privateToAlpha { repliesToOthers.append((label, reply)) }
            }

            // Registration, the name check and login.
            for (login, email) in zip(logins, emails) {
                let fields = [(":name", login), ("pwd", "a long enough password"), ("pwdConfirm", "a long enough password"),
                              ("firstName", "First"), ("lastName", "Last"), ("email", email),
                              (":sakai:profile-import", #"{"basic":{"elements":{"email":{"value":"\#(email)"}},"access":"everybody"}}"#)]
                record("create", try await anonymous.post("/system/userManager/user.create.html", fields), privateToAlpha: true)
                record("create again", try await anonymous.post("/system/userManager/user.create.json", fields), privateToAlpha: true)
                record("exists", try await anonymous.get("/system/userManager/user.exists.html?userid=\(login)"))
            }
            let alpha = server.session()
            let bravo = server.session()
            record("bad login", try await alpha.post("/system/sling/formlogin", [("sakaiauth:un", logins[0]), ("sakaiauth:pw", "wrong")]))
            record("login", try await alpha.post("/system/sling/formlogin", [("sakaiauth:un", logins[0]), ("sakaiauth:pw", "a long enough password")]), privateToAlpha: true)
            record("login", try await bravo.post("/system/sling/formlogin", [("sakaiauth:un", logins[1]), ("sakaiauth:pw", "a long enough password")]))
            let alphaMe = try await alpha.get("/system/me")
            record("me", alphaMe, privateToAlpha: true)
            let alphaID = try #require((alphaMe.object["user"] as? [String: Any])?["userid"] as? String)
            let bravoID = try #require(((try await bravo.get("/system/me")).object["user"] as? [String: Any])?["userid"] as? String)
            let admin = try await server.site.administrator()
            try await server.site.metadata.setPassword(userID: admin.id, password: "an admin password")
            let basic = "Basic " + Data("admin:an admin password".utf8).base64EncodedString()
            record("admin me", try await server.session().get("/system/me", headers: [("Authorization", basic)]))

            // Everything else built so far, as the owner, as another user and anonymously.
            let home = "/~\(alphaID)"
            record("profile update", try await alpha.post("\(home)/public/authprofile.profile.json", [("picture", "{}")]), privateToAlpha: true)
            record("section import", try await alpha.post("\(home)/public/authprofile/aboutme.profile.json", [
                (":operation", "import"), (":contentType", "json"), (":content", #"{"elements":{"aboutme":{"value":"hi"}}}"#)]), privateToAlpha: true)
            record("basic import", try await alpha.post("\(home)/public/authprofile/basic.profile.json", [
                (":operation", "import"), (":contentType", "json"), (":content", #"{"elements":{"firstName":{"value":"A"}}}"#)]), privateToAlpha: true)
            record("pubspace", try await alpha.post("\(home)/public/pubspace", [(":operation", "import"), (":contentType", "json"), (":content", #"{"a":{"b":"c"}}"#)]), privateToAlpha: true)
            record("tag", try await alpha.post("\(home)/public/pubspace", [(":operation", "tag"), ("key", "/tags/t1")]), privateToAlpha: true)
            record("ace", try await alpha.post("\(home)/public.modifyAce.html", [("principalId", "everyone"), ("privilege@jcr:read", "granted")]), privateToAlpha: true)
            for viewer in [alpha, bravo, anonymous] {
                let own = viewer === alpha
                for target in [
                    "/system/me", "/system/me?uid=\(alphaID)", "/system/me?uid=\(bravoID)", "\(home)/public/authprofile.profile.json",
                    "\(home)/public/authprofile.infinity.json", "\(home)/public.infinity.json", "\(home).json", "\(home).acl.json",
                    "\(home)/public/pubspace.infinity.json", "\(home)/private.infinity.json", "\(home)/message.count.json",
                    "/~\(bravoID)/public/authprofile.profile.json", "/tags/t1.json", "/var/widgets.json?callback=define",
                    "/var/templates/worlds.2.json", "/var/search/pool/manager-viewer.json?userid=\(alphaID)", "/", "/me", home,
                    "/dev/bundle/default.properties", "/no/such/path", "/~\(logins[0])", "/~\(logins[0])/public.json",
                    BootSequenceTests.batchTarget(["/system/me", "\(home)/public/authprofile.profile.json", "/~\(bravoID).json"]),
                ] {
                    record("\(own ? "owner" : "other") GET \(target)", try await viewer.get(target), privateToAlpha: own)
                }
                record("batch POST", try await viewer.post("/system/batch", [("requests", #"[{"url":"/system/me","method":"GET"},{"url":"\#(home)/public/authprofile.profile.json"}]"#)]), privateToAlpha: own)
            }
            record("denied write", try await bravo.post("\(home)/public/x", [("a", "b")]))
            record("presence", try await alpha.post("/var/presence.json", [("sakai:status", "offline")]), privateToAlpha: true)
            for _ in 0..<8 {
                record("throttled", try await anonymous.post("/system/sling/formlogin", [("sakaiauth:un", logins[1]), ("sakaiauth:pw", "guess")]))
            }
            record("logout", try await alpha.get("/system/sling/logout?resource=/"), privateToAlpha: true)

            #expect(replies.count > 90)
            for (label, reply) in replies {
                for login in logins + [Site.administratorLoginName] {
                    #expect(!reply.everything.contains(login), "\(label) shows the login name \(login)")
                }
            }
            for (label, reply) in repliesToOthers {
                #expect(!reply.everything.contains(emails[0]), "\(label) shows alpha's e-mail to someone else")
            }
            #expect(replies.contains { $0.1.everything.contains(emails[0]) }, "the owner does see their e-mail")
        }
    }
}
