import Foundation
@testable import Server
import HTTPTypes
import Testing
import TestSupport

/// Registration, login, `/system/me`, the profile, logout, and the session cookie.
@Suite struct SessionTests {
    @Test func aUserRegistersLogsInUpdatesTheirProfileAndLogsOut() async throws {
        try await withServer { server in
            let browser = server.session()
            let fields = [(":name", "carol"), ("pwd", "a long enough password"), ("pwdConfirm", "a long enough password"),
                          ("firstName", "Carol"), ("lastName", "Ames"), ("email", "carol@example.edu"), ("locale", "en_GB"),
                          ("timezone", "Europe/London"), (":create-auth", "reCAPTCHA.net"), ("_charset_", "utf-8")]
            #expect(try await browser.post("/system/userManager/user.create.html", fields).status == 201)
            #expect(try await browser.post("/system/userManager/user.create.html", fields).status == 400, "the name is taken")
            #expect(try await browser.get("/system/userManager/user.exists.html?userid=carol").status == 204)
            #expect(try await browser.get("/system/userManager/user.exists.html?userid=CAROL").status == 204)
            #expect(try await browser.get("/system/userManager/user.exists.html?userid=nobody-here").status == 404)
            #expect(try await browser.get("/system/userManager/user.exists.html").status == 400)

            let wrong = try await browser.post("/system/sling/formlogin", [("sakaiauth:un", "carol"), ("sakaiauth:pw", "wrong")])
            #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)
            let login = try await browser.post(
                "/system/sling/formlogin", [("sakaiauth:login", "1"), ("sakaiauth:un", "carol"), ("sakaiauth:pw", "a long enough password")])
            #expect(login.status == 200)
            let cookie = try #require(login.header("Set-Cookie"))
            #expect(cookie.hasPrefix("sakai-trusted-authn=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))

            let me = try await browser.get("/system/me").object
            let user = try #require(me["user"] as? [String: Any])
            let id = try #require(user["userid"] as? String)
            #expect((user["properties"] as? [String: Any])?["email"] as? String == "carol@example.edu")
            #expect((user["properties"] as? [String: Any])?["timezone"] as? String == "Europe/London")
            #expect((user["locale"] as? [String: Any])?["country"] as? String == "GB")

            let update = try await browser.post("/~\(id)/public/authprofile.profile.json", [
                ("picture", #"{"name":"256x256_tmp1.jpg","_name":"tmp1.jpg"}"#), ("firstName", "Caroline"),
            ])
            #expect(update.status == 200)
            let renamed = try await browser.get("/system/me").object
            #expect(((renamed["user"] as? [String: Any])?["properties"] as? [String: Any])?["firstName"] as? String == "Caroline",
                    "the next /system/me shows the change")
            let basic = try await browser.post("/~\(id)/public/authprofile/basic.profile.json", [
                (":operation", "import"), (":contentType", "json"), (":removeTree", "true"), (":replace", "true"),
                (":content", #"{"elements":{"lastName":{"value":"Ames-Smith"},"role":{"value":"Lecturer"}}}"#),
            ])
            #expect(basic.status == 200)
            let profile = try await browser.get("/~\(id)/public/authprofile.profile.json").object
            let elements = try #require((profile["basic"] as? [String: Any])?["elements"] as? [String: Any])
            #expect((elements["firstName"] as? [String: Any])?["value"] as? String == "Caroline")
            #expect((elements["lastName"] as? [String: Any])?["value"] as? String == "Ames-Smith")
            #expect((elements["picture"] as? [String: Any])?["value"] as? String == #"{"name":"256x256_tmp1.jpg","_name":"tmp1.jpg"}"#)
            #expect((elements["email"] as? [String: Any])?["value"] as? String == "carol@example.edu", "the owner sees their e-mail")
            let stranger = try await server.session().get("/~\(id)/public/authprofile.profile.json").object
            #expect(((stranger["basic"] as? [String: Any])?["elements"] as? [String: Any])?["email"] == nil, "nobody else does")

            let logout = try await browser.get("/system/sling/logout?resource=/index")
            #expect(logout.status == 302 && logout.header("Location") == "/index")
            #expect(logout.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(((try await browser.get("/system/me").object)["user"] as? [String: Any])?["anon"] as? Bool == true)
        }
    }

    @Test func aSessionEndsWhenItsLifetimeHasPassed() async throws {
        try await withServer(sessionLifetime: .zero) { server in
            let browser = server.session()
            _ = try await browser.post("/system/userManager/user.create.html", [
                (":name", "dora"), ("pwd", "a long enough password"), ("firstName", "Dora"), ("lastName", "Diaz"),
            ])
            let login = try await browser.post("/system/sling/formlogin", [("sakaiauth:un", "dora"), ("sakaiauth:pw", "a long enough password")])
            #expect(login.status == 200 && !browser.cookies.isEmpty)
            let me = try await browser.get("/system/me").object
            #expect((me["user"] as? [String: Any])?["anon"] as? Bool == true, "an expired session is anonymous")
        }
    }

    @Test func loginWithAURLRedirectsOnlyWithinTheSite() async throws {
        try await withServer { server in
            _ = try await server.register("erin")
            let browser = server.session()
            let local = try await browser.post("/system/sling/formlogin", [
                ("sakaiauth:un", "erin"), ("sakaiauth:pw", "a long enough password"), ("url", "/me#l=dashboard"),
            ])
            #expect(local.status == 302 && local.header("Location") == "/me#l=dashboard")
            let foreign = try await browser.post("/system/sling/formlogin", [
                ("sakaiauth:un", "erin"), ("sakaiauth:pw", "a long enough password"), ("url", "//evil.example/"),
            ])
            #expect(foreign.status == 200 && foreign.header("Location") == nil)
        }
    }

    @Test func loginNamesModeUsesTheLoginNameAsTheID() async throws {
        try await withServer(userIDs: .login) { server in
            let (browser, id) = try await server.register("frank")
            #expect(id == "frank")
            #expect(try await browser.get("/~frank/public/authprofile.profile.json").object["userid"] as? String == "frank")
        }
    }
}

/// The session cookie is read from any `Cookie` field, among other cookies, with blanks
/// around names and values, and only under its exact name; an empty value is none.
@Suite struct CookieParsingTests {
    @Test func aCookieIsFoundByItsExactName() throws {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .cookie, value: "theme=dark;  sakai-trusted-authentication-x = no ;token= abc=def "))
        headers.append(HTTPField(name: .cookie, value: "other=1; token2=zz"))
        #expect(OakenService.cookie("token", in: headers) == "abc=def")
        #expect(OakenService.cookie("theme", in: headers) == "dark")
        #expect(OakenService.cookie("token2", in: headers) == "zz")
        #expect(OakenService.cookie("tok", in: headers) == nil)
        #expect(OakenService.cookie("missing", in: headers) == nil)
        var empty = HTTPFields()
        empty.append(HTTPField(name: .cookie, value: "token=; ;="))
        #expect(OakenService.cookie("token", in: empty) == nil)
    }
}
