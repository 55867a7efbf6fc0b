import Repository
import Synchronization

/// Recent answers to "whose session is this?" and "what is this user's `/system/me`?", so
/// that the UI's frequent `/system/me` calls and every page's identity check do not read the
/// database each time.
///
/// An entry is used only while nothing has been written through this server since it was
/// made (every non-GET request, login and logout bump `generation`) and for at most
/// `lifetime`, which bounds how stale it can be after a change made by another process (the
/// `oaken` command on the same data folder).
final class AccountCache: Sendable {
    private struct Session {
        var viewer: Viewer
        var generation: UInt64
        var expires: ContinuousClock.Instant
    }

    private struct Feed {
        var reply: Reply
        var generation: UInt64
        var expires: ContinuousClock.Instant
    }

    private let generationCounter = Atomic<UInt64>(0)
    private let sessions = Mutex<[String: Session]>([:])
    private let feeds = Mutex<[String: Feed]>([:])
    private let clock = ContinuousClock()
    let lifetime: Duration
    /// Entries kept at most, per kind; past it the cache starts afresh.
    static let capacity = 10_000

    init(lifetime: Duration = .seconds(2)) {
        self.lifetime = lifetime
    }

    var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Something was written: every entry made before is stale.
    func invalidate() {
        generationCounter.add(1, ordering: .releasing)
    }

    func viewer(forToken token: String) -> Viewer? {
        let now = clock.now
        let generation = generation
        return sessions.withLock { sessions in
            guard let entry = sessions[token], entry.generation == generation, entry.expires > now else { return nil }
            return entry.viewer
        }
    }

    /// Remembers a session's viewer, as read at `generation` (taken before the read).
    func remember(_ viewer: Viewer, forToken token: String, readAt generation: UInt64) {
        let expires = clock.now + lifetime
        sessions.withLock { sessions in
            if sessions.count >= Self.capacity { sessions.removeAll() }
            sessions[token] = Session(viewer: viewer, generation: generation, expires: expires)
        }
    }

    func forget(token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
        invalidate()
    }

    func feed(forUser id: String) -> Reply? {
        let now = clock.now
        let generation = generation
        return feeds.withLock { feeds in
            guard let entry = feeds[id], entry.generation == generation, entry.expires > now else { return nil }
            return entry.reply
        }
    }

    func remember(_ reply: Reply, forUser id: String, readAt generation: UInt64) {
        let expires = clock.now + lifetime
        feeds.withLock { feeds in
            if feeds.count >= Self.capacity { feeds.removeAll() }
            feeds[id] = Feed(reply: reply, generation: generation, expires: expires)
        }
    }
}
