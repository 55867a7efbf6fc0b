import HTTPTypes

/// OAE's request rules, checked before a request reaches a handler.
enum RequestGuard {
    /// A non-GET request must come from a page of this site: its `Referer` is a path, or an
    /// absolute URL whose origin is this host's. This is OAE's defence against cross-site
    /// request forgery. Throws 400 otherwise.
    static func checkReferer(method: HTTPRequest.Method, referer: String?, host: String?) throws {
        guard method != .get, method != .head else { return }
        guard let referer, !referer.isEmpty else {
            throw HTTPFailure.badRequest("a \(method.rawValue) request needs a Referer from this site")
        }
        if referer.hasPrefix("/") && !referer.hasPrefix("//") { return }
        guard let host, !host.isEmpty else {
            throw HTTPFailure.badRequest("the Referer is not from this site")
        }
        for scheme in ["http://", "https://"] {
            let origin = scheme + host.lowercased()
            let lowered = referer.lowercased()
            if lowered == origin || lowered.hasPrefix(origin + "/") || lowered.hasPrefix(origin + "?") { return }
        }
        throw HTTPFailure.badRequest("the Referer is not from this site")
    }

    /// Paths an anonymous caller may POST to: login and registration. `/system/batch` is let
    /// through too; it refuses itself when an inner request is not a GET.
    static func anonymousMayPost(to path: String) -> Bool {
        path == "/system/sling/formlogin" || path == "/system/batch"
            || path.hasPrefix("/system/userManager/user.create.")
    }
}
