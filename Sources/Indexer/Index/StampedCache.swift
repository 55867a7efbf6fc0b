import Synchronization

/// What was last made of each item (its record, its rendering), kept with the catalog stamp it
/// was made at (`SearchCatalog.Entry.stamp`): an entry is good exactly while the item's stamp
/// is unchanged, since every change to an item gives it a new stamp. Bounded: when full, it
/// starts over.
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
}
