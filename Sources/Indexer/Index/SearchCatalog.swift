import GRDB
import Repository
import Synchronization

/// What a search needs to know of every item, in memory: who may read it, its library roles,
/// tags, media type, sort keys and current blob. With it, deciding which of a hundred
/// thousand full-text hits the caller may read, counting them and their tags, takes a few
/// array reads per hit instead of several index lookups.
///
/// It is never stale: before each query it catches up, inside the query's own read
/// transaction, with the changes the database logged since (`searchChange`, fed by
/// triggers). It may be newer than a query's snapshot (another query caught it up further),
/// which can only hide an item that snapshot has not indexed yet, never show one that may no
/// longer be read.
package final class SearchCatalog: Sendable {
    /// One item.
    struct Entry: Sendable {
        var id: String
        var visibility: Visibility
        var grants: [ContentGrant]
        var tags: [String]
        var mimeType: String
        var name: String
        var createdAt: Int64
        var lastModifiedAt: Int64
        var blobID: String?
        /// Changes whenever anything about the item changes (its row, grants, tags, comments):
        /// the change log's sequence number when the catalog last read the item.
        var stamp: Int64
    }

    /// An extracted blob: its id, whether its rows are numbered pages, and the items whose
    /// current version it is.
    struct Blob: Sendable {
        var id: String
        var paged: Bool
        var items: [Int]
    }

    /// Small numbers for strings (principals, tags), given in order of first sight.
    struct Numbering: Sendable {
        var names: [String] = []
        var numbers: [String: Int32] = [:]

        mutating func number(_ name: String) -> Int32 {
            if let number = numbers[name] { return number }
            let number = Int32(names.count)
            names.append(name)
            numbers[name] = number
            return number
        }
    }

    /// Up to four numbers in a SIMD4, -1 in unused lanes; a set of more than four is all -1
    /// but `more` in the last lane, and is read from the item's entry instead.
    enum Lanes {
        static let none = SIMD4<Int32>(repeating: -1)
        static let more: Int32 = -2

        static func of(_ names: Set<String>, numbering: inout Numbering) -> SIMD4<Int32> {
            var lanes = none
            guard names.count <= 4 else {
                lanes[3] = more
                return lanes
            }
            for (lane, name) in names.enumerated() { lanes[lane] = numbering.number(name) }
            return lanes
        }
    }

    /// The catalog as of one change-log position. Items are kept by their key, their row in
    /// `itemRow` (also their `itemText` rowid), and blobs by their number in `blobText` (a body
    /// rowid >> `SearchIndexSchema.pageBits`): both small dense integers, so both tables are
    /// arrays.
    struct Snapshot: Sendable {
        var changeSeq: Int64 = 0
        /// The change-log position of the transaction this snapshot was asked for in: below
        /// `changeSeq` when another query had caught the catalog up further.
        var readerSeq: Int64 = 0
        var entries: [Entry?] = []
        /// Each key's visibility, apart, so that the common case (a public or logged-in item)
        /// is decided without touching its entry: 0 none, 1 private, 2 logged-in, 3 public.
        var visibility: [UInt8] = []
        /// Each key's grantees, apart, as principal numbers (see `Lanes`). Deciding a private
        /// item then reads 16 bytes here instead of its entry and grants.
        var grantees: [SIMD4<Int32>] = []
        /// A small number for each principal that holds a grant.
        var principals = Numbering()
        /// Each key's tags, apart, as tag numbers (see `Lanes`): counting the tags of a
        /// hundred thousand results then reads 16 bytes each and increments an array.
        var tagLanes: [SIMD4<Int32>] = []
        var tags = Numbering()
        /// Each key's sort times, apart (epoch milliseconds).
        var lastModified: [Int64] = []
        var created: [Int64] = []
        var keys: [String: Int] = [:]
        var blobs: [Blob?] = []
        /// Each blob's item, apart, for the common case of one item per blob: its key, or
        /// -1 for none, or -2 for several (then see `blobs`).
        var blobItem: [Int32] = []
        var blobNumbers: [String: Int] = [:]
        /// Items whose blob is not extracted yet, by blob.
        var waiting: [String: [Int]] = [:]
        var lastBlobNumber: Int64 = 0

        func blob(_ number: Int) -> Blob? { number >= 0 && number < blobs.count ? blobs[number] : nil }

        mutating func add(_ entry: Entry, key: Int) {
            Self.extend(&entries, toHold: key, with: nil)
            Self.extend(&visibility, toHold: key, with: 0)
            Self.extend(&grantees, toHold: key, with: Lanes.none)
            Self.extend(&tagLanes, toHold: key, with: Lanes.none)
            Self.extend(&lastModified, toHold: key, with: 0)
            Self.extend(&created, toHold: key, with: 0)
            lastModified[key] = entry.lastModifiedAt
            created[key] = entry.createdAt
            entries[key] = entry
            visibility[key] = Self.code(entry.visibility)
            grantees[key] = Lanes.of(Set(entry.grants.map(\.principalID)), numbering: &principals)
            tagLanes[key] = Lanes.of(Set(entry.tags), numbering: &tags)
            keys[entry.id] = key
            guard let blob = entry.blobID else { return }
            if let number = blobNumbers[blob] {
                blobs[number]!.items.append(key)
                noteItems(of: number)
            } else {
                waiting[blob, default: []].append(key)
            }
        }

        /// Grows `array` with `value` until `index` is in it.
        private static func extend<T>(_ array: inout [T], toHold index: Int, with value: T) {
            if index >= array.count { array += Array(repeating: value, count: index - array.count + 1) }
        }

        /// How many of `keys` carry each tag.
        func tagCounts(of keys: [Int]) -> [String: Int] {
            var counts = [Int](repeating: 0, count: tags.names.count)
            var more: [String: Int] = [:]
            for key in keys {
                let lanes = tagLanes[key]
                if lanes[3] == Lanes.more {
                    for tag in Set(entries[key]!.tags) { more[tag, default: 0] += 1 }
                    continue
                }
                for lane in 0..<4 where lanes[lane] >= 0 { counts[Int(lanes[lane])] += 1 }
            }
            for (number, count) in counts.enumerated() where count > 0 { more[tags.names[number], default: 0] += count }
            return more
        }

        /// Whether `viewer` may read the item at `key`, by the one item rule
        /// (`ItemAccessRule`): an item it reads without a role (`opens`, indexed by
        /// visibility code), else one in which it holds any role. `bits` is `principalSet` of
        /// the viewer's principals.
        func readable(_ key: Int, by viewer: Viewer, opens: Opens, bits: [UInt64]) -> Bool {
            let level = visibility[key]
            if level == 0 { return false }
            if opens.byCode[Int(level)] { return true }
            let lanes = grantees[key]
            for lane in 0..<4 {
                let number = lanes[lane]
                if number >= 0 {
                    if bits[Int(number) >> 6] & (1 << UInt64(number & 63)) != 0 { return true }
                } else if number == Lanes.more {
                    return entries[key]!.grants.contains { viewer.principalIDs.contains($0.principalID) }
                }
            }
            return false
        }

        /// The principal numbers of `principals`, as a bit set.
        func principalSet(_ principals: Set<String>) -> [UInt64] {
            var bits = Array(repeating: UInt64(0), count: self.principals.names.count / 64 + 1)
            for principal in principals {
                if let number = self.principals.numbers[principal] { bits[Int(number) >> 6] |= 1 << UInt64(number & 63) }
            }
            return bits
        }

        private mutating func noteItems(of number: Int) {
            let items = blobs[number]?.items ?? []
            blobItem[number] = items.count == 1 ? Int32(items[0]) : (items.isEmpty ? -1 : -2)
        }

        mutating func remove(_ id: String) {
            guard let key = keys.removeValue(forKey: id), let old = entries[key] else { return }
            entries[key] = nil
            visibility[key] = 0
            grantees[key] = Lanes.none
            tagLanes[key] = Lanes.none
            guard let blob = old.blobID else { return }
            if let number = blobNumbers[blob] {
                blobs[number]!.items.removeAll { $0 == key }
                noteItems(of: number)
            } else {
                waiting[blob]?.removeAll { $0 == key }
                if waiting[blob]?.isEmpty == true { waiting[blob] = nil }
            }
        }

        /// Which visibility codes the caller reads without a role, from the rule: asked once
        /// per search rather than per item.
        struct Opens {
            var byCode: [Bool]

            init(_ rule: ItemAccessRule) {
                byCode = [false, false, false, false]
                for visibility in Visibility.allCases { byCode[Int(code(visibility))] = rule.readsWithoutRole(visibility) }
            }
        }

        static func code(_ visibility: Visibility) -> UInt8 {
            switch visibility {
            case .private: 1
            case .loggedIn: 2
            case .public: 3
            }
        }

        mutating func addBlob(number: Int, id: String, paged: Bool) {
            Self.extend(&blobs, toHold: number, with: nil)
            Self.extend(&blobItem, toHold: number, with: -1)
            blobs[number] = Blob(id: id, paged: paged, items: waiting.removeValue(forKey: id) ?? [])
            noteItems(of: number)
            blobNumbers[id] = number
            lastBlobNumber = max(lastBlobNumber, Int64(number))
        }
    }

    private let state = Mutex<Snapshot?>(nil)
    private let loading = Mutex(())

    package init() {}

    /// Changes after which a catch-up reloads everything instead of item by item. It must
    /// stay below `SQLiteSearchIndex.keptChanges`: a catalog behind by more than the log keeps
    /// then always reloads.
    static let reloadThreshold = 20_000

    /// The catalog caught up with `db`'s snapshot (its `readerSeq` says how far that is).
    func snapshot(in db: Database) throws -> Snapshot {
        let seq = try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM searchChange")) ?? 0
        var snapshot = try caughtUp(to: seq, in: db)
        snapshot.readerSeq = seq
        return snapshot
    }

    private func caughtUp(to seq: Int64, in db: Database) throws -> Snapshot {
        let lastBlob = try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(number), 0) FROM blobText")) ?? 0
        var current = state.withLock { $0 }
        if let known = current, known.changeSeq >= seq, known.lastBlobNumber >= lastBlob { return known }
        if var known = current,
            try (Int.fetchOne(db, sql: "SELECT count(*) FROM searchChange WHERE seq > ?", arguments: [known.changeSeq]) ?? 0)
                < Self.reloadThreshold
        {
            // Blobs first, so that reloaded items find their blob's number.
            try Self.loadBlobs(after: known.lastBlobNumber, into: &known, in: db)
            let changed = try String.fetchSet(
                db, sql: "SELECT DISTINCT itemId FROM searchChange WHERE seq > ?", arguments: [known.changeSeq])
            for id in changed { try Self.reload(id, stamp: seq, into: &known, in: db) }
            known.changeSeq = seq
            current = known
        } else {
            // One full load at a time: queries that need one meanwhile (a burst at start-up)
            // wait for it rather than each loading the whole catalog again.
            current = try loading.withLock { _ in
                if let stored = state.withLock({ $0 }), stored.changeSeq >= seq, stored.lastBlobNumber >= lastBlob { return stored }
                return try Self.load(in: db, seq: seq)
            }
        }
        let caughtUp = current!
        state.withLock { stored in
            if stored == nil || stored!.changeSeq < caughtUp.changeSeq || stored!.lastBlobNumber < caughtUp.lastBlobNumber {
                stored = caughtUp
            }
        }
        return caughtUp
    }

    private static let entryColumns = """
        SELECT r.id AS key, i.id, i.visibility, i.mimeType, i.name, i.createdAt, i.lastModifiedAt, v.blobId
        FROM itemRow r JOIN contentItem i ON i.id = r.itemId
        LEFT JOIN contentVersion v ON v.itemId = i.id AND v.number = i.currentVersion
        """

    private static func load(in db: Database, seq: Int64) throws -> Snapshot {
        var snapshot = Snapshot(changeSeq: seq)
        try loadBlobs(after: 0, into: &snapshot, in: db)
        var grants: [String: [ContentGrant]] = [:]
        let grantRows = try Row.fetchCursor(db, sql: "SELECT itemId, principalId, role FROM contentGrant")
        while let row = try grantRows.next() {
            if let role = ContentRole(rawValue: row[2]) { grants[row[0], default: []].append(ContentGrant(principalID: row[1], role: role)) }
        }
        var tags: [String: [String]] = [:]
        let tagRows = try Row.fetchCursor(db, sql: "SELECT ct.itemId, t.name FROM contentTag ct JOIN tag t ON t.id = ct.tagId")
        while let row = try tagRows.next() {
            tags[row[0], default: []].append(row[1])
        }
        let items = try Row.fetchCursor(db, sql: entryColumns)
        while let row = try items.next() {
            let id: String = row[1]
            snapshot.add(entry(row, grants: grants[id] ?? [], tags: tags[id] ?? [], stamp: seq), key: row[0])
        }
        return snapshot
    }

    private static func entry(_ row: Row, grants: [ContentGrant], tags: [String], stamp: Int64) -> Entry {
        Entry(
            id: row[1], visibility: Visibility(rawValue: row[2]) ?? .private, grants: grants, tags: tags.sorted(),
            mimeType: row[3], name: row[4], createdAt: row[5], lastModifiedAt: row[6], blobID: row[7], stamp: stamp)
    }

    private static func reload(_ id: String, stamp: Int64, into snapshot: inout Snapshot, in db: Database) throws {
        snapshot.remove(id)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: entryColumns + " WHERE i.id = ?"), arguments: [id]) else { return }
        let grants = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT principalId, role FROM contentGrant WHERE itemId = ?"), arguments: [id]
        ).compactMap { row in ContentRole(rawValue: row[1]).map { ContentGrant(principalID: row[0], role: $0) } }
        let tags = try String.fetchAll(
            db.cachedStatement(sql: "SELECT t.name FROM contentTag ct JOIN tag t ON t.id = ct.tagId WHERE ct.itemId = ?"),
            arguments: [id])
        snapshot.add(entry(row, grants: grants, tags: tags, stamp: stamp), key: row[0])
    }

    private static func loadBlobs(after number: Int64, into snapshot: inout Snapshot, in db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT number, blobId, paged FROM blobText WHERE number > ?", arguments: [number])
        while let row = try rows.next() {
            snapshot.addBlob(number: row[0], id: row[1], paged: row[2])
        }
    }
}
