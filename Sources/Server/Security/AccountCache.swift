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
    private let generationCounter = Atomic<UInt64>(0)
    private let sessions: ExpiringMap<Viewer>
    private let feeds: ExpiringMap<Reply>
    /// Entries kept at most, per kind; past it the cache starts afresh.
    static let capacity = 10_000

    init(lifetime: Duration = .seconds(2)) {
        sessions = ExpiringMap(lifetime: lifetime, capacity: Self.capacity)
        feeds = ExpiringMap(lifetime: lifetime, capacity: Self.capacity)
    }

    var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Something was written: every entry made before is stale.
    func invalidate() {
        generationCounter.add(1, ordering: .releasing)
    }

    func viewer(forToken token: String) -> Viewer? {
        sessions.value(for: token, at: generation)
    }

    /// Remembers a session's viewer, as read at `generation` (taken before the read).
    func remember(_ viewer: Viewer, forToken token: String, readAt generation: UInt64) {
        sessions.set(viewer, for: token, readAt: generation)
    }

    func forget(token: String) {
        sessions.remove(token)
        invalidate()
    }

    func feed(forUser id: String) -> Reply? {
        feeds.value(for: id, at: generation)
    }

    func remember(_ reply: Reply, forUser id: String, readAt generation: UInt64) {
        feeds.set(reply, for: id, readAt: generation)
    }
}

/// Values by key, each valid while the generation it was read at is current and for at most
/// `lifetime`.
private final class ExpiringMap<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private let entries: StampedCache<Entry>
    private let clock = ContinuousClock()
    private let lifetime: Duration

    init(lifetime: Duration, capacity: Int) {
        self.lifetime = lifetime
        entries = StampedCache(capacity: capacity)
    }

    func value(for key: String, at generation: UInt64) -> Value? {
        guard let entry = entries.value(key, at: Int64(bitPattern: generation)), entry.expires > clock.now else { return nil }
        return entry.value
    }

    func set(_ value: Value, for key: String, readAt generation: UInt64) {
        entries.store(Entry(value: value, expires: clock.now + lifetime), for: key, at: Int64(bitPattern: generation))
    }

    func remove(_ key: String) {
        entries.remove(key)
    }
}
