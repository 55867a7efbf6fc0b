import Synchronization

/// Values by key, each kept with the stamp it was made at and good only while the caller's
/// stamp for that key is the same: the search catalog's per-item stamp (records and rendered
/// results), or the server's write generation (sessions). Bounded: when full, it starts over.
package final class StampedCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: (stamp: Int64, value: Value)]>([:])
    private let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value made of `id` at `stamp`, if kept.
    package func value(_ id: String, at stamp: Int64) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[id], entry.stamp == stamp else { return nil }
            return entry.value
        }
    }

    package func store(_ value: Value, for id: String, at stamp: Int64) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[id] = (stamp, value)
        }
    }

    package func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}
