import Foundation
import GRDB
import Repository
import Server
import Testing
import TestSupport

/// Every node a tree rendering, an import or a delete touches passes the same access rule as a
/// single read, and ownership of a home comes from the data model, never from an id's spelling.
@Suite struct NodeAccessTests {
    /// Every `_path` in a rendered tree.
    static func paths(in value: Any?) -> Set<String> {
        var found: Set<String> = []
        if let object = value as? [String: Any] {
            if let path = object["_path"] as? String { found.insert(path) }
            for child in object.values { found.formUnion(paths(in: child)) }
        }
        return found
    }

    @Test func depthSelectorsShowNoNodeADirectReadRefuses() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let home = "/~\(aliceID)"
            for area in ["private/diary", "message/inbox/m1", "contacts/c1", "public/note", "public/secret/inner"] {
                #expect(try await alice.post("\(home)/\(area)", [("text", "words of \(area)")]).status == 201)
            }
            let deny = [("principalId", "everyone"), ("principalId", "anonymous"), ("privilege@jcr:read", "denied")]
            #expect(try await alice.post("\(home)/public/secret.modifyAce.html", deny).status == 200)
            let anonymous = server.session()
            for caller in [anonymous, bob] {
                for selector in [".json", ".1.json", ".2.json", ".3.json", ".infinity.json"] {
                    let reply = try await caller.get(home + selector)
                    #expect(reply.status == 200)
                    let shown = Self.paths(in: reply.json)
                    for path in shown {
                        let direct = try await caller.get(path + ".json").status
                        #expect(direct == 200, "\(selector) showed \(path), which a direct read refuses (\(direct))")
                    }
                    #expect(!reply.text.contains("words of private") && !reply.text.contains("words of message"))
                    #expect(!reply.text.contains("words of contacts") && !reply.text.contains("words of public/secret"))
                }
                #expect(try await caller.get("\(home)/public/secret/inner.json").status == 404, "below a denial is denied")
                let publicArea = try await caller.get("\(home)/public.infinity.json")
                #expect(Self.paths(in: publicArea.json).contains("\(home)/public/note"))
            }
            let own = try await alice.get("\(home).infinity.json").text
            #expect(own.contains("words of private/diary") && own.contains("words of public/secret/inner"), "the owner sees all")
        }
    }

    @Test func importsAndDeletesTouchOnlyNodesTheCallerMayWrite() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let (bob, bobID) = try await server.register("bob")
            let shared = "/~\(aliceID)/public/shared"
            #expect(try await alice.post("\(shared)/locked", [("keep", "me")]).status == 201)
            #expect(try await alice.post("\(shared).modifyAce.html", [("principalId", bobID), ("privilege@jcr:write", "granted")]).status == 200)
            #expect(try await alice.post("\(shared)/locked.modifyAce.html", [("principalId", bobID), ("privilege@jcr:write", "denied")]).status == 200)
            func importJSON(_ json: String, _ extra: [(String, String)] = []) async throws -> Int {
                try await bob.post(shared, [(":operation", "import"), (":contentType", "json"), (":content", json)] + extra).status
            }
            #expect(try await importJSON(#"{"locked":{"keep":"changed"}}"#, [(":replaceProperties", "true")]) == 403)
            #expect(try await importJSON(#"{"locked@Delete":true}"#) == 403)
            #expect(try await importJSON(#"{"fresh":{"a":1}}"#, [(":removeTree", "true")]) == 403)
            #expect(try await bob.post(shared, [(":operation", "delete")]).status == 403)
            #expect(try await bob.post("\(shared)/locked", [("keep", "changed")]).status == 403)
            let locked = try await alice.get("\(shared)/locked.json").object
            #expect(locked["keep"] as? String == "me", "nothing changed")
            #expect(try await alice.get("\(shared)/fresh.json").status == 404, "a refused import wrote nothing")
            #expect(try await importJSON(#"{"open":{"a":1}}"#) == 200, "what bob may write, he writes")
            #expect(try await bob.post("\(shared)/open", [(":operation", "delete")]).status == 200)
            #expect(try await alice.post(shared, [(":operation", "delete")]).status == 200, "the owner deletes it all")
            #expect(try await alice.get("\(shared)/locked.json").status == 404)
        }
    }

    @Test func profileSectionsFollowTheirAccessEntries() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let profile = "/~\(aliceID)/public/authprofile"
            let section = [(":operation", "import"), (":contentType", "json"), (":content", #"{"elements":{"hobby":{"value":"chess"}}}"#)]
            #expect(try await alice.post("\(profile)/aboutme.profile.json", section).status == 201)
            #expect(try await bob.get("\(profile).profile.json").text.contains("chess"))
            let deny = [("principalId", "everyone"), ("principalId", "anonymous"), ("privilege@jcr:read", "denied")]
            #expect(try await alice.post("\(profile)/aboutme.modifyAce.html", deny).status == 200)
            for caller in [bob, server.session()] {
                for target in ["\(profile).profile.json", "\(profile).infinity.json", "/~\(aliceID).infinity.json"] {
                    #expect(!(try await caller.get(target).text.contains("chess")), "\(target)")
                }
            }
            #expect(try await alice.get("\(profile).profile.json").text.contains("chess"))
        }
    }

    @Test func aNodesAccessListIsItsOwnersOnly() async throws {
        try await withServer { server in
            let (alice, aliceID) = try await server.register("alice")
            let (bob, _) = try await server.register("bob")
            let node = "/~\(aliceID)/public/note"
            #expect(try await alice.post(node, [("a", "1")]).status == 201)
            #expect(try await alice.get("\(node).acl.json").status == 200)
            #expect(try await bob.get("\(node).acl.json").status == 404)
            #expect(try await server.session().get("\(node).acl.json").status == 404)
        }
    }

    @Test func aLoginNameEndingInARoleOwnsNothing() async throws {
        try await withServer(userIDs: .login) { server in
            let (alice, _) = try await server.register("alice")
            #expect(try await alice.post("/~alice/private/diary", [("text", "mine")]).status == 201)
            let refused = try await server.session().post("/system/userManager/user.create.html", [
                (":name", "alice-manager"), ("pwd", "a long enough password"), ("firstName", "M"), ("lastName", "X"),
            ])
            #expect(refused.status == 400, "a name that reads like a role is refused")
            // One made before that rule (straight in the database) still owns nothing.
            try await server.site.metadata.database.write { db in
                try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES ('alice-manager', 'user', 0, 0)")
                try db.execute(sql: "INSERT INTO user (id, loginName, firstName, lastName) VALUES ('alice-manager', 'alice-manager', 'M', 'X')")
            }
            try await server.site.metadata.setPassword(userID: "alice-manager", password: "a long enough password")
            let mallory = server.session()
            let login = try await mallory.post("/system/sling/formlogin", [("sakaiauth:un", "alice-manager"), ("sakaiauth:pw", "a long enough password")])
            #expect(login.status == 200)
            #expect(try await mallory.get("/~alice/private/diary.json").status == 404)
            #expect(try await mallory.get("/~alice.infinity.json").text.contains("mine") == false)
            #expect(try await mallory.post("/~alice/private/diary", [("text", "overwritten")]).status == 403)
            #expect(try await alice.get("/~alice/private/diary.json").object["text"] as? String == "mine")
        }
    }

    @Test func aGroupsManagerRoleComesFromTheData() async throws {
        try await withServer(userIDs: .login) { server in
            let (lead, _) = try await server.register("lead")
            let (plain, _) = try await server.register("plain")
            try await server.site.metadata.database.write { db in
                for id in ["physics", "physics-lead", "physics-manager"] {
                    try db.execute(sql: "INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'group', 0, 0)", arguments: [id])
                }
                try db.execute(sql: "INSERT INTO userGroup (id) VALUES ('physics')")
                // The managing role is the one marked so, whatever it is called.
                try db.execute(sql: "INSERT INTO userGroup (id, parentId, roleId, isManagerRole) VALUES ('physics-lead', 'physics', 'lead', 1)")
                try db.execute(sql: "INSERT INTO userGroup (id, parentId, roleId, isManagerRole) VALUES ('physics-manager', 'physics', 'manager', 0)")
                for (group, member) in [("physics-lead", "lead"), ("physics-manager", "plain"), ("physics", "physics-lead"), ("physics", "physics-manager")] {
                    try db.execute(sql: "INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES (?, ?, 0)", arguments: [group, member])
                }
            }
            #expect(try await lead.post("/~physics/private/plans", [("text", "x")]).status == 201)
            #expect(try await plain.post("/~physics/private/plans", [("text", "y")]).status == 403)
            #expect(try await plain.get("/~physics/private/plans.json").status == 404)
        }
    }

    /// Random trees in random homes, random read entries, random depth selectors: no
    /// rendering ever holds a node that a brute-force model of the rule says the caller may
    /// not read, nor misses one it may.
    @Test(arguments: [3, 17])
    func noDepthSelectorShowsANodeTheModelRefuses(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        try await withServer(userIDs: .login) { server in
            var sessions: [String: HTTPSession] = [:]
            for name in ["ann", "ben", "cat"] { sessions[name] = try await server.register(name).session }
            let users = sessions.keys.sorted()
            var model = NodeModel()
            func randomTree(depth: Int) -> [String: JSONValue] {
                var object: [String: JSONValue] = ["v": .string("value\(random.next() % 1000)")]
                guard depth < 4 else { return object }
                for name in ["a", "b", "c"] where random.next() % 3 != 0 {
                    object[name] = .object(randomTree(depth: depth + 1))
                }
                return object
            }
            func paths(of object: [String: JSONValue], at path: String) -> [String] {
                object.compactMap { key, value -> [String]? in
                    guard case .object(let child) = value else { return nil }
                    return [path + "/" + key] + paths(of: child, at: path + "/" + key)
                }.flatMap { $0 }
            }
            for user in users {
                for area in ["public", "private", "message"] {
                    let root = "/~\(user)/\(area)/tree"
                    let tree = randomTree(depth: 0)
                    let reply = try await sessions[user]!.post(root, [(":operation", "import"), (":contentType", "json"), (":content", JSONValue.object(tree).serialized)])
                    #expect(reply.status == 201)
                    model.nodes.formUnion([root] + paths(of: tree, at: root))
                }
            }
            for home in users {
                // Each home's standard layout.
                model.nodes.formUnion(["", "/public", "/public/authprofile", "/private", "/message", "/contacts", "/calendar"].map { "/~\(home)" + $0 })
            }
            // Random read entries, set by each home's owner.
            let principals = users + ["everyone", "anonymous"]
            for path in model.nodes.sorted() where random.next() % 4 == 0 {
                let owner = String(path.dropFirst(2).prefix { $0 != "/" })
                let principal = principals[Int(random.next() % UInt64(principals.count))]
                let granted = random.next() % 2 == 0
                let reply = try await sessions[owner]!.post("\(path).modifyAce.html", [("principalId", principal), ("privilege@jcr:read", granted ? "granted" : "denied")])
                #expect(reply.status == 200)
                model.entries[path, default: [:]][principal] = granted
            }
            let callers: [(String?, HTTPSession)] = users.map { ($0, sessions[$0]!) } + [(nil, server.session())]
            let nodes = model.nodes.sorted()
            var compared = 0
            for (caller, session) in callers {
                for _ in 0..<40 {
                    let root = nodes[Int(random.next() % UInt64(nodes.count))]
                    let selector = ["", ".1", ".2", ".3", ".infinity"][Int(random.next() % 5)]
                    let depth: Int? = selector == ".infinity" ? nil : Int(selector.dropFirst()) ?? 0
                    let reply = try await session.get(root + selector + ".json")
                    let who = caller ?? "anonymous"
                    guard model.readable(root, by: caller) else {
                        #expect(reply.status == 404, "\(who) read \(root)\(selector).json")
                        continue
                    }
                    #expect(reply.status == 200, "\(who) \(root)\(selector).json")
                    let shown = Self.paths(in: reply.json)
                    #expect(shown == model.rendering(of: root, depth: depth, by: caller), "\(who) \(root)\(selector).json")
                    compared += 1
                }
            }
            #expect(compared > 40, "too few readable roots were tried: \(compared)")
        }
    }
}

/// The brute-force model of the node rule: owners read all of their home; nobody else enters
/// a home's private, message, contacts, calendar or join-request area; elsewhere the deepest read entry naming the caller (or
/// everyone or anonymous) decides, and with none anyone may read.
struct NodeModel {
    var nodes: Set<String> = []
    /// Path → principal → granted.
    var entries: [String: [String: Bool]] = [:]

    func readable(_ path: String, by user: String?) -> Bool {
        let segments = path.split(separator: "/")
        let owner = String(segments[0].dropFirst())
        if owner == user { return true }
        if segments.count > 1, ["private", "message", "contacts", "calendar", "joinrequests"].contains(segments[1]) { return false }
        let names: Set<String> = user.map { [$0, "everyone"] } ?? ["anonymous"]
        var current = path
        while true {
            let here = (entries[current] ?? [:]).filter { names.contains($0.key) }
            if !here.isEmpty { return !here.values.contains(false) }
            guard let slash = current.lastIndex(of: "/"), slash != current.startIndex else { return true }
            current = String(current[..<slash])
        }
    }

    /// The paths a rendering of `root` to `depth` must hold: the root, and every node below it
    /// within the depth whose whole line from the root is readable.
    func rendering(of root: String, depth: Int?, by user: String?) -> Set<String> {
        var shown: Set<String> = [root]
        for node in nodes where node.hasPrefix(root + "/") {
            let relative = node.dropFirst(root.count + 1).split(separator: "/")
            if let depth, relative.count > depth { continue }
            var line = root
            var visible = true
            for segment in relative {
                line += "/" + segment
                if !readable(line, by: user) { visible = false; break }
            }
            if visible { shown.insert(node) }
        }
        return shown
    }
}

