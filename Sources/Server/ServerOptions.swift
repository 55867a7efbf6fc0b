import Foundation

/// How user ids appear in the API.
package enum UserIDMode: String, Sendable, CaseIterable {
    /// A random, stable id per user; the login name appears in no response.
    case opaque
    /// The login name is the id, as in Nakamura.
    case login
}

/// What `oaken serve` is told.
package struct ServerOptions: Sendable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// The top of a 3akai-ux tree (the folder holding `dev/`, `devwidgets/`, `var/`), or `nil`.
    package var uiDirectory: URL?
    package var userIDs = UserIDMode.opaque
    /// The largest request body accepted, in bytes.
    package var maximumUploadSize: Int64 = 512 << 20
    /// How large a request body may be, by route; uploads are counted separately
    /// (`maximumUploadSize`).
    package var bodyLimits = BodyLimits()
    /// How much one `/system/batch` may ask for and answer.
    package var batchLimits = BatchLimits()
    package var sessionLifetime = Duration.seconds(20 * 60)
    /// How long an account (or an address) waits after its allowance of failed logins; the
    /// wait doubles with each further failure.
    package var firstLoginWait = Duration.seconds(1)
    /// Mark the session cookie `Secure` on every answer: the site is served over HTTPS.
    package var secureCookies = false
    /// Reverse proxies (by address) whose `X-Forwarded-Proto: https` marks a request as
    /// secure, so that its session cookie is `Secure`.
    package var trustedProxies: Set<String> = []

    package init() {}
}

/// The largest request bodies accepted, in bytes. A body over its limit is refused with 413,
/// before it is read when its `Content-Length` says so. Only uploads stream larger bodies.
package struct BodyLimits: Sendable {
    /// A form post (URL-encoded fields), or any other non-upload body.
    package var form = 1 << 20
    /// A JSON import (`:operation=import`) into the node store or the content pool.
    package var `import` = 4 << 20
    /// Anything an anonymous caller may send (login, registration, a batch of GETs).
    package var anonymous = 64 << 10

    package init() {}

    /// The most a request to `path` may carry before its fields are read: an import's
    /// allowance where imports go (a batch may carry imports inside), else a form's.
    package func limit(path: String, anonymous isAnonymous: Bool) -> Int {
        if isAnonymous { return min(anonymous, form) }
        return Self.takesImports(path) ? max(form, `import`) : form
    }

    /// Whether a form of `size` bytes is accepted once its fields are read: a form's worth,
    /// or an import's for an import (or a batch, which may hold imports).
    package func accepts(_ size: Int, path: String, operation: String?) -> Bool {
        size <= form || (Self.takesImports(path) && (operation == "import" || path == "/system/batch") && size <= `import`)
    }

    private static func takesImports(_ path: String) -> Bool {
        path.hasPrefix("/~") || path.hasPrefix("/p/") || path.hasPrefix("/system/pool/createfile") || path == "/system/batch"
    }
}

/// The bounds of one `/system/batch`, so that a small request cannot make the server read and
/// send much more than it was asked: at most `requests` inner requests (`anonymousRequests`
/// for an anonymous caller, whose batches the landing page keeps under 30), each download
/// at most `innerDownload` bytes, and at most `replyBytes` of inner bodies, as written in the
/// reply, in all. An inner request past the reply's budget is answered 413 without running.
package struct BatchLimits: Sendable {
    package var requests = 200
    package var anonymousRequests = 50
    package var innerDownload = 4 << 20
    package var replyBytes = 16 << 20

    package init() {}
}
