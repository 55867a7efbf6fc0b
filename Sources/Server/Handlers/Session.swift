import Foundation
import HTTPTypes
import Repository
import Synchronization

extension OakenService {
    static let sessionCookie = "sakai-trusted-authn"

    /// `GET /system/me`: the caller's own account, groups and counts; with `uid`, a reduced
    /// feed of another user (their public profile and the groups anyone may see).
    func me(_ call: Call) async throws -> Reply {
        guard call.isSafe else { throw HTTPFailure.methodNotAllowed("/system/me is read with GET") }
        if let uid = call.parameters["uid"], uid != call.viewer.userID {
            guard let user = try await metadata.user(id: uid) else { throw HTTPFailure.badRequest("unknown user") }
            guard call.viewer.isAdministrator else { return try await otherUsersFeed(user, viewer: call.viewer) }
            return try await meFeed(for: try await viewer(forUser: user.id))
        }
        guard call.viewer.user != nil else {
            return .json([
                "user": ["anon": true, "subjects": [], "superUser": false],
                "profile": [
                    "rep:userId": "anonymous",
                    "basic": [
                        "access": "everybody",
                        "elements": [
                            "firstName": ["value": "Anonymous"], "lastName": ["value": "User"],
                            "email": ["value": "anon@sakai.invalid"],
                        ],
                    ],
                ],
                "messages": ["unread": 0], "contacts": [:], "groups": [],
            ])
        }
        let id = call.viewer.userID!
        if let cached = accounts.feed(forUser: id) { return cached }
        let generation = accounts.generation
        let reply = try await meFeed(for: call.viewer)
        accounts.remember(reply, forUser: id, readAt: generation)
        return reply
    }

    private func meFeed(for viewer: Viewer) async throws -> Reply {
        guard let user = viewer.user else { throw HTTPFailure.notFound() }
        let groupIDs = viewer.principals.subtracting([user.id])
        let (counts, groups) = try await metadata.accountSummary(ofUser: user.id, principals: viewer.principals)
        var properties = user.properties.filter { !$0.key.hasPrefix("rep:") }
        properties["firstName"] = .string(user.firstName)
        properties["lastName"] = .string(user.lastName)
        if let email = user.email { properties["email"] = .string(email) }
        properties["locale"] = .string(user.locale ?? "en_US")
        properties["timezone"] = .string(user.timezone ?? "Etc/UTC")
        properties["contentCount"] = .int(Int64(counts.contentCount))
        for key in ["isAutoTagging", "sendTagMsg"] where properties[key] == nil { properties[key] = "true" }
        let profile = basicInfo(of: user, counts: counts, showPrivate: true)
        return .json([
            "user": [
                "userid": .string(user.id), "userStoragePrefix": .string("~\(user.id)/"),
                "userProfilePath": .string("/~\(user.id)/public/authprofile"), "superUser": .bool(viewer.isAdministrator),
                "properties": .object(properties),
                "subjects": .array(groupIDs.sorted().map(JSONValue.string)),
                "locale": Self.localeInfo(user.locale, timezone: user.timezone),
            ],
            "profile": .object(profile),
            "messages": ["unread": .int(Int64(counts.unreadMessages))],
            "contacts": [
                "accepted": .int(Int64(counts.contactsAccepted)), "invited": .int(Int64(counts.contactsInvited)),
                "pending": .int(Int64(counts.contactsPending)),
            ],
            "groups": .array(groups.filter { !$0.id.hasPrefix("g-contacts-") }.map { .object(groupInfo($0)) }),
        ])
    }

    /// Another user's feed: their public profile and only the groups anyone may see.
    private func otherUsersFeed(_ user: User, viewer: Viewer) async throws -> Reply {
        let principals = try await metadata.principalIDs(ofUser: user.id)
        let counts = try await metadata.accountCounts(ofUser: user.id, principals: principals)
        let visible = try await metadata.groups(ids: principals.subtracting([user.id])).filter { group in
            group.parentID == nil && (group.visibility == "public" || (group.visibility == "logged-in" && !viewer.isAnonymous))
        }
        return .json([
            "user": ["userid": .string(user.id), "subjects": .array(visible.map { .string($0.id) }), "superUser": false],
            "profile": .object(basicInfo(of: user, counts: counts, showPrivate: false)),
            "groups": .array(visible.map { .object(groupInfo($0)) }),
        ])
    }

    /// `POST /system/sling/formlogin`: checks the password (throttled per account and per
    /// address) and starts a session in the `sakai-trusted-authn` cookie.
    func login(_ call: Call, address: String) async throws -> Reply {
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("log in with POST") }
        guard let name = call.parameters["sakaiauth:un"], let password = call.parameters["sakaiauth:pw"], !name.isEmpty else {
            throw HTTPFailure.badRequest("sakaiauth:un and sakaiauth:pw are required")
        }
        guard let id = try await authenticate(name, password, address: address) else {
            throw HTTPFailure(.unauthorized, "The user name or password is wrong")
        }
        let token = try await sessions.create(userID: id)
        let cookie = "\(Self.sessionCookie)=\(token); Path=/; HttpOnly; SameSite=Lax" + (call.isSecure ? "; Secure" : "")
        if let target = call.parameters["url"], Self.isLocalRedirect(target) {
            return Reply(status: .found, headers: [("Set-Cookie", cookie), ("Location", target)])
        }
        return Reply(status: .ok, headers: [("Set-Cookie", cookie), ("Content-Type", "text/plain; charset=utf-8")])
    }

    /// Checks a password, throttled: past a few failures for the account from this address
    /// (or many from the address), attempts wait, with 429 and `Retry-After`, whatever the
    /// password. The account is counted per address, so that nobody can lock its owner out
    /// by failing on purpose from elsewhere.
    func authenticate(_ name: String, _ password: String, address: String) async throws -> String? {
        let accountKey = name.lowercased() + "\n" + address
        if let delay = loginFailures.delay(for: accountKey) ?? addressFailures.delay(for: address) {
            let seconds = max(1, delay.components.seconds)
            throw HTTPFailure(.tooManyRequests, "Too many failed logins; try again in \(seconds) s", headers: [("Retry-After", String(seconds))])
        }
        guard let id = try await metadata.authenticatedID(loginName: name, password: password) else {
            loginFailures.recordFailure(for: accountKey)
            addressFailures.recordFailure(for: address)
            return nil
        }
        loginFailures.recordSuccess(for: accountKey)
        return id
    }

    /// `GET /system/sling/logout?resource=/index`: ends the session and redirects.
    func logout(_ call: Call) async throws -> Reply {
        if let token = Self.cookie(Self.sessionCookie, in: call.headers) {
            try await sessions.delete(token: token)
            accounts.forget(token: token)
        }
        let target = call.parameters["resource"].flatMap { Self.isLocalRedirect($0) ? $0 : nil } ?? "/"
        return Reply(status: .found, headers: [
            ("Set-Cookie", "\(Self.sessionCookie)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (call.isSecure ? "; Secure" : "")),
            ("Location", target),
        ])
    }

    /// A redirect target on this site: a path, not `//host` or a URL.
    static func isLocalRedirect(_ target: String) -> Bool {
        target.hasPrefix("/") && !target.hasPrefix("//") && !target.hasPrefix("/\\")
            && !target.unicodeScalars.contains { $0.value < 0x20 }
    }

    static func cookie(_ name: String, in headers: HTTPFields) -> String? {
        // On bytes: this runs for every request.
        func trimmed(_ part: Substring.UTF8View) -> Substring.UTF8View {
            let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            guard let first = part.firstIndex(where: { !blank($0) }) else { return part[part.endIndex...] }
            return part[first...part.lastIndex(where: { !blank($0) })!]
        }
        for field in headers[values: .cookie] {
            for pair in field.utf8.split(separator: UInt8(ascii: ";")) {
                guard let equals = pair.firstIndex(of: UInt8(ascii: "=")),
                    trimmed(pair[..<equals]).elementsEqual(name.utf8)
                else { continue }
                let value = trimmed(pair[pair.index(after: equals)...])
                return value.isEmpty ? nil : String(Substring(value))
            }
        }
        return nil
    }

    /// The locale block of `/system/me`, from a `ll_CC` code and a time zone name. Display
    /// names come from ICU, which is slow to ask, so they are looked up once per locale; the
    /// time zone's offset is computed each time (it changes with daylight saving).
    static func localeInfo(_ code: String?, timezone: String?) -> JSONValue {
        let code = code ?? "en_US"
        var info: [String: JSONValue]
        if let cached = localeCache.withLock({ $0[code] }) {
            info = cached
        } else {
            info = makeLocaleInfo(code)
            localeCache.withLock { cache in
                if cache.count > 1000 { cache.removeAll() }
                cache[code] = info
            }
        }
        let zone = TimeZone(identifier: timezone ?? "Etc/UTC") ?? TimeZone(identifier: "UTC")!
        info["timezone"] = ["name": .string(zone.identifier), "GMT": .double(Double(zone.secondsFromGMT()) / 3600)]
        return .object(info)
    }

    private static let localeCache = Mutex<[String: [String: JSONValue]]>([:])

    private static func makeLocaleInfo(_ code: String) -> [String: JSONValue] {
        let parts = code.split(separator: "_").map(String.init)
        let language = parts.first ?? "en"
        let country = parts.count > 1 ? parts[1] : ""
        let english = Locale(identifier: "en_US")
        let displayLanguage = english.localizedString(forLanguageCode: language) ?? language
        let displayCountry = english.localizedString(forRegionCode: country) ?? country
        return [
            "language": .string(language), "country": .string(country), "variant": "",
            "displayLanguage": .string(displayLanguage), "displayCountry": .string(displayCountry), "displayVariant": "",
            "displayName": .string(country.isEmpty ? displayLanguage : "\(displayLanguage) (\(displayCountry))"),
            "ISO3Language": .string(iso3Languages[language] ?? ""), "ISO3Country": .string(iso3Countries[country] ?? ""),
        ]
    }

    private static let iso3Languages = [
        "en": "eng", "es": "spa", "fr": "fra", "de": "deu", "nl": "nld", "zh": "zho", "ja": "jpn", "ko": "kor",
        "pt": "por", "it": "ita", "ru": "rus", "hu": "hun", "ca": "cat", "pl": "pol", "sv": "swe",
    ]
    private static let iso3Countries = [
        "US": "USA", "GB": "GBR", "ES": "ESP", "FR": "FRA", "DE": "DEU", "NL": "NLD", "CN": "CHN", "JP": "JPN",
        "KR": "KOR", "BR": "BRA", "PT": "PRT", "IT": "ITA", "RU": "RUS", "HU": "HUN", "AU": "AUS", "CA": "CAN",
        "ZA": "ZAF", "PL": "POL", "SE": "SWE",
    ]
}
