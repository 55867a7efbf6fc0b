import HTTPTypes
import Repository

/// The route table: every path the server answers, in the order they are tried, with the
/// methods each takes and the rule that decides who may use it. A newcomer reads here which
/// handler answers a request; `RouteAuthorizationTests` checks every entry as anonymous, as
/// a stranger, and as a viewer, an editor and a manager.
extension OakenService {
    package static let routes: [Route] = [
        // Session and accounts (contract §2.2, §2.4).
        Route("batch", .paths(["/system/batch"]), methods: [.get, .post], access: .anyoneReadsSignedInWrites) {
            try await $0.batch($1, address: $2)
        },
        Route("me", .paths(["/system/me", "/system/me.json"]), methods: .reads, access: .anyone) { service, call, _ in
            try await service.me(call)
        },
        Route("my groups", .paths(myGroupsPaths), methods: .reads, access: .accountRule) { service, call, _ in
            try await service.myGroups(call)
        },
        Route("login", .paths(["/system/sling/formlogin"]), methods: [.post], access: .anyone) {
            try await $0.login($1, address: $2)
        },
        Route("logout", .paths(["/system/sling/logout"]), methods: .readsAndPosts, access: .anyone) { service, call, _ in
            try await service.logout(call)
        },
        Route("presence", .paths(["/var/presence.json"]), methods: .readsAndPosts, access: .anyoneReadsSignedInWrites) { _, _, _ in
            .json([:])
        },
        Route("captcha", .paths(["/system/captcha"]), methods: .reads, access: .anyone) { _, _, _ in
            // Registration never checks a captcha (offline sites cannot reach reCAPTCHA).
            .json(["public-key": ""])
        },
        Route(
            "user.create", .paths(["/system/userManager/user.create.html", "/system/userManager/user.create.json"]),
            methods: [.post], access: .anyone
        ) { try await $0.createUser($1, address: $2) },
        Route(
            "user.exists", .paths(["/system/userManager/user.exists.html", "/system/userManager/user.exists.json"]),
            methods: .reads, access: .anyone
        ) { try await $0.userExists($1, address: $2) },
        Route("account", .prefix(accountPrefix), methods: .readsAndPosts, access: .accountRule) { service, call, _ in
            try await service.account(call)
        },
        Route("account deletion", .paths(accountDeletePaths), methods: [.post], access: .accountRule) { service, call, _ in
            try await service.deleteAccountsByList(call)
        },
        // Groups (§2.5).
        Route("world.create", .paths([worldCreatePath]), methods: [.post], access: .signedIn) { service, call, _ in
            try await service.createWorld(call)
        },
        Route("group.create", .paths(groupCreatePaths), methods: [.post], access: .signedIn) { service, call, _ in
            try await service.createGroup(call)
        },
        Route("group", .prefix(groupPrefix), methods: .readsAndPosts, access: .groupRule) { service, call, _ in
            try await service.group(call)
        },
        Route("join requests", .paths([joinRequestListPath]), methods: .reads, access: .groupRule) { service, call, _ in
            try await service.joinRequestList(call)
        },
        Route("principal deletion", .paths(principalDeletePaths), methods: [.post], access: .groupRule) { service, call, _ in
            try await service.deletePrincipals(call)
        },
        Route("widgets", .paths(["/var/widgets.json"]), methods: .reads, access: .anyone) { service, call, _ in
            try await service.widgets(call)
        },
        // The content pool (§2.6).
        Route("upload", .prefix("/system/pool/createfile"), methods: [.post], access: .itemRule) { service, call, _ in
            try await service.createFile(call)
        },
        Route("pool", .prefix("/p/"), methods: [.get, .head, .post, .delete], access: .itemRule) { service, call, _ in
            try await service.poolItem(call)
        },
        // Search feeds (§2.7).
        Route("content feeds", .feeds(contentFeeds), methods: .reads, access: .itemRule) { service, call, _ in
            try await service.contentFeed(call)
        },
        Route("activity feed", .feeds([activityFeedPath]), methods: .reads, access: .itemRule) { service, call, _ in
            try await service.activityFeed(call)
        },
        Route("public feeds", .feeds([randomContentFeed, tagCloudFeed]), methods: .reads, access: .itemRule) { service, call, _ in
            try await service.publicFeed(call)
        },
        Route("directory feeds", .feeds(Set(directoryFeeds.keys)), methods: .reads, access: .directoryRule) { service, call, _ in
            try await service.directoryFeed(call)
        },
        Route("general feeds", .feeds(generalFeeds), methods: .reads, access: .itemRule) { service, call, _ in
            try await service.generalFeed(call)
        },
        Route("pending feeds", .feeds(pendingFeeds), methods: .reads, access: .anyone) { service, call, _ in
            service.emptyFeed(call)
        },
        // The UI's own files and the node store.
        Route("templates", .prefix("/var/templates/"), methods: .reads, access: .anyone) { service, call, _ in
            try service.templates(call)
        },
        Route("pages", .paths(Set(pages.keys)), methods: .reads, access: .anyone) { service, call, _ in
            try service.page(call)
        },
        // `/~<id>` itself, read by a browser, is the user's or group's page shell.
        Route("nodes", .prefix("/~"), methods: .readsAndPosts, access: .nodeRule) { service, call, _ in
            try await service.nodes(call)
        },
        Route("tags", .tree("/tags"), methods: .readsAndPosts, access: .nodeRule) { service, call, _ in
            try await service.nodes(call)
        },
        Route("static files", .rest, methods: .reads, access: .anyone) { service, call, _ in
            try service.staticFile(call)
        },
    ]

    /// The route that takes `path`: the first in the table.
    static func route(for path: String) -> Route {
        routes.first { $0.takes(path) }!
    }
}
