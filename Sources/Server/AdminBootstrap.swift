import Foundation
import Repository

/// The administrator's password on a server's first start.
package enum AdminBootstrap {
    /// The file, in the data folder, that holds a generated password.
    package static let passwordFileName = "admin-password"

    /// Gives `admin` a password when it has none: `OAKEN_ADMIN_PASSWORD` when set (which also
    /// replaces an earlier one), else a random one written to `admin-password` (mode 0600) in
    /// the data folder. Returns a generated password, to be printed once; `nil` otherwise.
    package static func run(site: Site, environment: [String: String], userIDs: UserIDMode = .opaque) async throws -> String? {
        let admin = try await site.administrator(id: userIDs == .login ? Site.administratorLoginName : nil)
        if let password = environment["OAKEN_ADMIN_PASSWORD"], !password.isEmpty {
            try await site.metadata.setPassword(userID: admin.id, password: password)
            return nil
        }
        guard !admin.canLogIn else { return nil }
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let password = String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
        let file = site.dataDirectory.appendingPathComponent(passwordFileName).path
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw RepositoryError.storage("cannot write \(file)") }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let bytes = Array((password + "\n").utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
            throw RepositoryError.storage("cannot write \(file)")
        }
        try await site.metadata.setPassword(userID: admin.id, password: password)
        return password
    }
}
