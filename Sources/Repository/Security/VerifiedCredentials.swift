import Crypto
import Foundation
import Synchronization

/// Credentials verified a moment ago, so that a script sending HTTP Basic with every request
/// pays for one password derivation a minute rather than one per request, and concurrent
/// requests with the same credentials share one derivation.
///
/// Entries are keyed by an HMAC of the login name and password under a key made at random
/// for this process: neither is kept, and the key cannot be tested against offline. Only
/// successes are kept, for `lifetime`; a password change forgets the user's entries.
package final class VerifiedCredentials: Sendable {
    private struct Entry {
        var userID: String
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Data: Entry] = [:]
        var inFlight: [Data: Task<String?, any Error>] = [:]
    }

    private let secret = SymmetricKey(size: .bits256)
    private let state = Mutex(State())
    private let clock = ContinuousClock()
    private let lifetime: Duration
    static let capacity = 10_000

    package init(lifetime: Duration = .seconds(60)) {
        self.lifetime = lifetime
    }

    private func key(_ loginName: String, _ password: String) -> Data {
        var message = Data(loginName.lowercased().utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: secret))
    }

    /// The user id these credentials were verified for, or the result of `verify`, which runs
    /// once for all concurrent callers with the same credentials and is kept when it names a
    /// user.
    package func userID(
        loginName: String, password: String, verify: @escaping @Sendable () async throws -> String?
    ) async throws -> String? {
        let key = key(loginName, password)
        let now = clock.now
        let task: Task<String?, any Error> = state.withLock { state in
            if let entry = state.entries[key], entry.expires > now {
                return Task { entry.userID }
            }
            if let running = state.inFlight[key] { return running }
            let task = Task { try await verify() }
            state.inFlight[key] = task
            return task
        }
        let result: String?
        do {
            result = try await task.value
        } catch {
            state.withLock { _ = $0.inFlight.removeValue(forKey: key) }
            throw error
        }
        state.withLock { state in
            guard state.inFlight.removeValue(forKey: key) != nil, let result else { return }
            if state.entries.count >= Self.capacity { state.entries = state.entries.filter { $0.value.expires > now } }
            if state.entries.count >= Self.capacity { state.entries.removeAll() }
            state.entries[key] = Entry(userID: result, expires: clock.now + lifetime)
        }
        return result
    }

    /// Forgets every verification of the user's credentials (their password changed).
    package func forget(userID: String) {
        state.withLock { state in state.entries = state.entries.filter { $0.value.userID != userID } }
    }
}
