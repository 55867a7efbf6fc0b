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
    /// The largest form body (URL-encoded parameters) accepted, in bytes.
    package var maximumFormSize = 8 << 20
    package var sessionLifetime = Duration.seconds(20 * 60)
    /// How long an account (or an address) waits after its allowance of failed logins; the
    /// wait doubles with each further failure.
    package var firstLoginWait = Duration.seconds(1)

    package init() {}
}
