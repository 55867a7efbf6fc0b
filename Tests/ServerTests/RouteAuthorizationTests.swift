import Foundation
import Server
import Testing
import TestSupport

/// Every route of the route table (`OakenService.routes`), tried as anonymous, as a
/// stranger, and as a viewer, an editor and the manager of a private item and of a home: what
/// each may read and change. A route that this table does not name fails the suite, so no
/// route can arrive without its rule being checked.
@Suite struct RouteAuthorizationTests {
    enum Actor: String, CaseIterable, CustomStringConvertible {
        case anonymous, stranger, viewer, editor, manager
        var description: String { rawValue }
        static let readers: Set<Actor> = [.viewer, .editor, .manager]
    }

    /// What an actor's request must come to.
    enum Expect {
        case status(Int)
        /// The reply's text holds (`true`) or lacks (`false`) the marker.
        case shows(String, Bool, status: Int = 200)
        /// Not checked (a change that cannot be undone, say).
        case skip
    }

    /// One request tried by every actor, with what each must get; `undo`, run as the manager
    /// after each actor's try, puts back what a successful try changed.
    struct Probe {
        var method: String
        var path: String
        var fields: [(String, String)] = []
        var multipart: [(String, [UInt8])]?
        var expect: [Actor: Expect]
        var undo: [(String, [(String, String)])] = []
    }

    /// The world the probes run in: alice manages a private item (bob edits it, carol views
    /// it) and owns her home, where bob may write one node; dave is a stranger.
    struct Fixture {
        var sessions: [Actor: HTTPSession]
        var ids: [Actor: String]
        var item: String
        var scratch: [String]
    }

    static let secretWords = "zanzibarplan"
    static let diaryWords = "quillmemoir"
    static let tagName = "covertlabel"

    static func fixture(_ server: LiveServer) async throws -> Fixture {
        // Every caller keeps one connection open across its requests, as a browser does.
        var sessions: [Actor: HTTPSession] = [.anonymous: server.session().keepingAlive()]
        var ids: [Actor: String] = [:]
        for (actor, name) in [(Actor.manager, "alice"), (.editor, "bob"), (.viewer, "carol"), (.stranger, "dave")] {
            let (session, id) = try await server.register(name, first: name.capitalized, last: "Tester", email: "\(name)@example.org")
            sessions[actor] = session.keepingAlive()
            ids[actor] = id
        }
        let alice = sessions[.manager]!
        let item = try await alice.uploadOne("plan.txt", Array("the \(secretWords) itself".utf8))
        #expect(try await alice.post("/p/\(item).members.html", [(":editor", ids[.editor]!), (":viewer", ids[.viewer]!)]).status == 200)
        #expect(try await alice.post("/p/\(item)", [(":operation", "tag"), ("key", "/tags/\(tagName)")]).status == 200)
        let home = "/~\(ids[.manager]!)"
        #expect(try await alice.post("\(home)/private/diary", [("text", diaryWords)]).status == 201)
        #expect(try await alice.post("\(home)/public/shared", [("text", "open")]).status == 201)
        #expect(try await alice.post("\(home)/public/shared.modifyAce.html", [("principalId", ids[.editor]!), ("privilege@jcr:write", "granted")]).status == 200)
        // A members-only group alice manages: bob is a member, carol a named viewer.
        let group = try await alice.post("/system/userManager/group.create.html", [
            (":name", "crew"), ("sakai:group-title", "The crew"), (":member", ids[.editor]!), (":viewer", "crew"), (":viewer", ids[.viewer]!),
        ])
        #expect(group.status == 200)
        var scratch: [String] = []
        for index in 0..<5 { scratch.append(try await alice.uploadOne("scratch-\(index).txt", Array("scratch".utf8))) }
        for id in scratch {
            #expect(try await alice.post("/p/\(id).members.html", [(":editor", ids[.editor]!), (":viewer", ids[.viewer]!)]).status == 200)
        }
        await server.extracted()
        return Fixture(sessions: sessions, ids: ids, item: item, scratch: scratch)
    }

    /// Everyone gets the same status.
    static func all(_ status: Int) -> [Actor: Expect] {
        Dictionary(uniqueKeysWithValues: Actor.allCases.map { ($0, .status(status)) })
    }

    /// Readers of the item get `reader`, the others `other`.
    static func readers(_ reader: Int, others other: Int) -> [Actor: Expect] {
        Dictionary(uniqueKeysWithValues: Actor.allCases.map { ($0, .status(Actor.readers.contains($0) ? reader : other)) })
    }

    /// The marker shows to the item's readers only; the others get `otherStatus`.
    static func shownToReaders(_ marker: String, otherStatus: Int = 200) -> [Actor: Expect] {
        Dictionary(uniqueKeysWithValues: Actor.allCases.map {
            ($0, Actor.readers.contains($0) ? .shows(marker, true) : .shows(marker, false, status: otherStatus))
        })
    }

    /// A write: anonymous callers are refused before any handler (405), then by role.
    static func write(stranger: Int?, viewer: Int?, editor: Int?, manager: Expect) -> [Actor: Expect] {
        func expect(_ status: Int?) -> Expect { status.map(Expect.status) ?? .skip }
        return [.anonymous: .status(405), .stranger: expect(stranger), .viewer: expect(viewer), .editor: expect(editor), .manager: manager]
    }

    static func probes(_ f: Fixture) -> [String: [Probe]] {
        let item = f.item
        let alice = f.ids[.manager]!
        let dave = f.ids[.stranger]!
        let home = "/~\(alice)"
        let innerRead = #"[{"url":"/p/\#(item).json","method":"GET"}]"#
        let innerWrite = #"[{"url":"/p/\#(item)","method":"POST","parameters":{"sakai:copyright":"cc"}}]"#
        return [
            "batch": [
                Probe(method: "POST", path: "/system/batch", fields: [("requests", innerRead)], expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows(#""status":\#(Actor.readers.contains($0) ? 200 : 404)"#, true)) })),
                Probe(method: "POST", path: "/system/batch", fields: [("requests", innerWrite)], expect: [
                    .anonymous: .status(405), .stranger: .shows(#""status":404"#, true), .viewer: .shows(#""status":403"#, true),
                    .editor: .shows(#""status":200"#, true), .manager: .shows(#""status":200"#, true),
                ]),
            ],
            "me": [Probe(method: "GET", path: "/system/me", expect: all(200))],
            "my groups": [
                Probe(method: "GET", path: "/system/me/groups.json", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows("\"crew\"", $0 == .editor)) })),
                Probe(method: "GET", path: "/system/me/managedgroups.json", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows("\"crew\"", $0 == .manager)) })),
                Probe(method: "GET", path: "/system/me/managedgroups.json?uid=\(alice)", expect: [
                    .anonymous: .status(403), .stranger: .status(403), .viewer: .status(403), .editor: .status(403),
                    .manager: .shows("\"crew\"", true),
                ]),
            ],
            "login": [Probe(method: "POST", path: "/system/sling/formlogin", fields: [("sakaiauth:un", "alice"), ("sakaiauth:pw", "wrong")], expect: all(401))],
            "logout": [Probe(method: "GET", path: "/system/sling/logout?resource=/", expect: [
                // Logging out would end the actors' sessions: only the anonymous one tries.
                .anonymous: .status(302), .stranger: .skip, .viewer: .skip, .editor: .skip, .manager: .skip,
            ])],
            "presence": [
                Probe(method: "GET", path: "/var/presence.json", expect: all(200)),
                Probe(method: "POST", path: "/var/presence.json", fields: [("sakai:status", "online")], expect: write(stranger: 200, viewer: 200, editor: 200, manager: .status(200))),
            ],
            "captcha": [Probe(method: "GET", path: "/system/captcha", expect: all(200))],
            "user.create": [Probe(method: "POST", path: "/system/userManager/user.create.html", fields: [(":name", "alice"), ("pwd", "a long enough password")], expect: all(400))],
            "user.exists": [Probe(method: "GET", path: "/system/userManager/user.exists.html?userid=alice", expect: all(204))],
            "account": [
                Probe(method: "GET", path: "/system/userManager/user/\(alice).json", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows("alice@example.org", $0 == .manager)) })),
                Probe(method: "POST", path: "/system/userManager/user/\(alice).update.html", fields: [("hobby", "chess")],
                      expect: write(stranger: 403, viewer: 403, editor: 403, manager: .status(200))),
                Probe(method: "POST", path: "/system/userManager/user/\(dave).delete.html",
                      expect: write(stranger: nil, viewer: 403, editor: 403, manager: .status(403))),
            ],
            "account deletion": [
                Probe(method: "POST", path: "/system/userManager/user.delete.html", fields: [(":applyTo", alice)],
                      expect: write(stranger: 403, viewer: 403, editor: 403, manager: .skip)),
            ],
            "widgets": [Probe(method: "GET", path: "/var/widgets.json", expect: all(200))],
            "world.create": [
                Probe(method: "POST", path: "/system/world/create", fields: [("data", #"{"id":"voyage","title":"Voyage"}"#)],
                      expect: write(stranger: 200, viewer: 200, editor: 200, manager: .status(200))),
            ],
            "group.create": [
                Probe(method: "POST", path: "/system/userManager/group.create.html", fields: [(":name", "crew")],
                      expect: write(stranger: 400, viewer: 400, editor: 400, manager: .status(400))),
            ],
            "group": [
                Probe(method: "GET", path: "/system/userManager/group/crew.json", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/system/userManager/group/crew.everyone.json", expect: readers(200, others: 404)),
                Probe(method: "POST", path: "/system/userManager/group/crew.update.html", fields: [("sakai:motto", "ahoy")],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200))),
                Probe(method: "POST", path: "/system/userManager/group/crew.update.html", fields: [(":member", dave)],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200)),
                      undo: [("/system/userManager/group/crew.update.html", [(":member@Delete", dave)])]),
                Probe(method: "POST", path: "/system/userManager/group/crew.leave.json",
                      expect: write(stranger: 404, viewer: nil, editor: nil, manager: .status(400))),
            ],
            "join requests": [
                Probe(method: "GET", path: "/var/joinrequests/list.json?groupId=crew", expect: [
                    .anonymous: .status(404), .stranger: .status(404), .viewer: .status(403), .editor: .status(403), .manager: .status(200),
                ]),
            ],
            "principal deletion": [
                Probe(method: "POST", path: "/system/userManager.delete.json", fields: [(":applyTo", "crew")],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .skip)),
            ],
            "upload": [
                Probe(method: "POST", path: "/system/pool/createfile", multipart: [("new.txt", Array("new".utf8))],
                      expect: write(stranger: 201, viewer: 201, editor: 201, manager: .status(201))),
                Probe(method: "POST", path: "/system/pool/createfile.\(item)", multipart: [("plan.txt", Array("the \(secretWords) again".utf8))],
                      expect: write(stranger: 404, viewer: 403, editor: 200, manager: .status(200))),
            ],
            "pool": [
                Probe(method: "GET", path: "/p/\(item).json", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/p/\(item).infinity.json", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/p/\(item)", expect: shownToReaders(secretWords, otherStatus: 404)),
                Probe(method: "GET", path: "/p/\(item).members.json", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/p/\(item).comments", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/p/\(item)/.versions.json", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/p/\(item).acl.json", expect: [
                    .anonymous: .status(404), .stranger: .status(404), .viewer: .status(404), .editor: .status(404), .manager: .status(200),
                ]),
                Probe(method: "POST", path: "/p/\(item)", fields: [("sakai:description", "changed")],
                      expect: write(stranger: 404, viewer: 403, editor: 200, manager: .status(200))),
                Probe(method: "POST", path: "/p/\(item)", fields: [("sakai:permissions", "public")],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200)),
                      undo: [("/p/\(item)", [("sakai:permissions", "private")])]),
                Probe(method: "POST", path: "/p/\(item).members.html", fields: [(":viewer", dave)],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200)),
                      undo: [("/p/\(item).members.html", [(":viewer@Delete", dave)])]),
                Probe(method: "POST", path: "/p/\(item).modifyAce.html", fields: [("principalId", "anonymous"), ("privilege@jcr:read", "granted")],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200)),
                      undo: [("/p/\(item)", [("sakai:permissions", "private")])]),
                Probe(method: "POST", path: "/p/\(item).comments", fields: [("comment", "hello")],
                      expect: write(stranger: 404, viewer: 201, editor: 201, manager: .status(201))),
                Probe(method: "POST", path: "/p/\(item)", fields: [(":operation", "tag"), ("key", "/tags/extra")],
                      expect: write(stranger: 404, viewer: 403, editor: 200, manager: .status(200))),
                Probe(method: "POST", path: "/p/\(item).resource.html", fields: [("title", "a resource")],
                      expect: write(stranger: 404, viewer: 403, editor: 201, manager: .status(201))),
                Probe(method: "POST", path: "/p/\(item).resource.html", multipart: [("attached.txt", Array("attached".utf8))],
                      expect: write(stranger: 404, viewer: 403, editor: 201, manager: .status(201))),
                Probe(method: "POST", path: "/p/\(f.scratch[0])", fields: [(":operation", "delete")],
                      expect: write(stranger: 404, viewer: 403, editor: 403, manager: .status(200))),
            ],
            "content feeds": [
                Probe(method: "GET", path: "/var/search/pool/manager-viewer.json?userid=crew", expect: readers(200, others: 404)),
                Probe(method: "GET", path: "/var/search/pool/all.json?q=\(secretWords)", expect: shownToReaders(item)),
                Probe(method: "GET", path: "/var/search/pool/me/manager-all.json", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows(item, $0 == .manager)) })),
            ],
            "activity feed": [
                Probe(method: "GET", path: "/var/search/activity/all.json?items=50", expect: [
                    .anonymous: .shows(item, false), .stranger: .shows(item, false), .viewer: .shows(item, true), .editor: .shows(item, true),
                    .manager: .skip,
                ]),
            ],
            "public feeds": [
                Probe(method: "GET", path: "/var/search/public/tagcloud.json", expect: shownToReaders(tagName)),
                Probe(method: "GET", path: "/var/search/public/random-content.json?items=50", expect: [
                    .anonymous: .shows(item, false), .stranger: .shows(item, false), .viewer: .skip, .editor: .skip, .manager: .skip,
                ]),
            ],
            "directory feeds": [
                Probe(method: "GET", path: "/var/search/users.json?q=Alice", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows("alice@example.org", $0 == .manager)) })),
            ],
            "general feeds": [Probe(method: "GET", path: "/var/search/general.json?q=\(secretWords)", expect: shownToReaders(item))],
            "pending feeds": [Probe(method: "GET", path: "/var/search/myrelatedgroups.json", expect: all(200))],
            "templates": [Probe(method: "GET", path: "/var/templates/worlds.2.json", expect: all(200))],
            "pages": [Probe(method: "GET", path: "/me", expect: all(200))],
            "nodes": [
                Probe(method: "GET", path: "\(home)/private/diary.json", expect: [
                    .anonymous: .status(404), .stranger: .status(404), .viewer: .status(404), .editor: .status(404), .manager: .status(200),
                ]),
                Probe(method: "GET", path: "\(home).infinity.json", expect: Dictionary(
                    uniqueKeysWithValues: Actor.allCases.map { ($0, .shows(diaryWords, $0 == .manager)) })),
                Probe(method: "GET", path: "\(home)/public/shared.acl.json", expect: [
                    .anonymous: .status(404), .stranger: .status(404), .viewer: .status(404), .editor: .status(404), .manager: .status(200),
                ]),
                Probe(method: "POST", path: "\(home)/public/shared", fields: [("note", "x")],
                      expect: write(stranger: 403, viewer: 403, editor: 200, manager: .status(200))),
                Probe(method: "POST", path: "\(home)/public/shared", fields: [(":operation", "import"), (":contentType", "json"), (":content", #"{"child":{"a":1}}"#)],
                      expect: write(stranger: 403, viewer: 403, editor: 200, manager: .status(200))),
                Probe(method: "POST", path: "\(home)/private/diary", fields: [("text", "overwritten")],
                      expect: write(stranger: 403, viewer: 403, editor: 403, manager: .status(200))),
                Probe(method: "POST", path: "\(home)/public/shared.modifyAce.html", fields: [("principalId", "everyone"), ("privilege@jcr:write", "granted")],
                      expect: write(stranger: 403, viewer: 403, editor: 403, manager: .status(200)),
                      undo: [("\(home)/public/shared.modifyAce.html", [("principalId", "everyone"), ("privilege@jcr:write", "none")])]),
                Probe(method: "POST", path: "\(home)/public/shared", fields: [(":operation", "delete")],
                      expect: write(stranger: 403, viewer: 403, editor: nil, manager: .skip)),
            ],
            "tags": [
                Probe(method: "POST", path: "/tags/anything", fields: [("a", "b")], expect: write(stranger: 403, viewer: 403, editor: 403, manager: .status(403))),
            ],
            "static files": [
                Probe(method: "GET", path: "/dev/index.html", expect: all(200)),
                Probe(method: "POST", path: "/dev/index.html", expect: write(stranger: 405, viewer: 405, editor: 405, manager: .status(405))),
            ],
        ]
    }

    @Test func everyRouteAnswersEachCallerByItsRule() async throws {
        try await withServer { server in
            let fixture = try await Self.fixture(server)
            let table = Self.probes(fixture)
            let routes = OakenService.routes.map(\.name)
            #expect(Set(routes).subtracting(table.keys).isEmpty, "routes without an authorization rule here: \(Set(routes).subtracting(table.keys).sorted())")
            #expect(Set(table.keys).subtracting(routes).isEmpty, "rules for routes that no longer exist: \(Set(table.keys).subtracting(routes).sorted())")
            var tried = 0
            for route in routes {
                for probe in table[route] ?? [] {
                    for actor in Actor.allCases {
                        let expected = probe.expect[actor] ?? .skip
                        if case .skip = expected { continue }
                        let session = fixture.sessions[actor]!
                        let reply: HTTPResult
                        if let files = probe.multipart {
                            reply = try await session.upload(files, to: probe.path)
                        } else if probe.method == "GET" {
                            reply = try await session.get(probe.path)
                        } else {
                            reply = try await session.post(probe.path, probe.fields)
                        }
                        tried += 1
                        let label = "\(route): \(actor) \(probe.method) \(probe.path.prefix(80))"
                        switch expected {
                        case .status(let status):
                            #expect(reply.status == status, "\(label) got \(reply.status): \(reply.text.prefix(160))")
                        case .shows(let marker, let shown, let status):
                            #expect(reply.status == status, "\(label) got \(reply.status)")
                            #expect(reply.text.contains(marker) == shown, "\(label): \(marker) \(shown ? "missing" : "shown")")
                        case .skip:
                            break
                        }
                        if reply.status < 300 {
                            for (path, fields) in probe.undo {
                                #expect(try await fixture.sessions[.manager]!.post(path, fields).status < 300, "undo of \(label)")
                            }
                        }
                    }
                }
            }
            #expect(tried > 200, "only \(tried) requests were tried")
            for (actor, session) in fixture.sessions where actor != .anonymous {
                #expect((session.connection?.reconnects ?? 0) <= 2, "\(actor)'s connection was not kept alive")
            }
        }
    }
}
