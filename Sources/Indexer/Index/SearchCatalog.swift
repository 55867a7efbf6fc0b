import GRDB
import Repository
import Synchronization

/// What a search needs to know of every item, in memory: who may read it, its library roles,
/// tags, media type, sort keys and current blob. With it, deciding which of a hundred
/// thousand full-text hits the caller may read, counting them and their tags, takes
/// microseconds per hit instead of several index lookups.
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
    }

    /// The catalog as of one change-log position.
    struct Snapshot: Sendable {
        var changeSeq: Int64 = 0
        /// Items by their key (their row in `itemRow`, which is also their `itemText` rowid).
        var entries: [Int64: Entry] = [:]
        var keys: [String: Int64] = [:]
        /// Items by their current blob.
        var itemsOfBlob: [String: [Int64]] = [:]
        /// Blobs by their number in `blobText` (body rowid >> pageBits), with whether their
        /// rows are numbered pages.
        var blobs: [Int64: (id: String, paged: Bool)] = [:]
        var lastBlobNumber: Int64 = 0
    }

    private let state = Mutex<Snapshot?>(nil)

    package init() {}

    /// Changes after which a catch-up reloads everything instead of item by item.
    static let reloadThreshold = 20_000

    /// The catalog caught up with `db`'s snapshot.
    func snapshot(in db: Database) throws -> Snapshot {
        let seq = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM searchChange") ?? 0
        let lastBlob = try Int64.fetchOne(db, sql: "SELECT coalesce(max(number), 0) FROM blobText") ?? 0
        var current = state.withLock { $0 }
        if let known = current, known.changeSeq >= seq, known.lastBlobNumber >= lastBlob { return known }
        if var known = current,
            try (Int.fetchOne(db, sql: "SELECT count(*) FROM searchChange WHERE seq > ?", arguments: [known.changeSeq]) ?? 0)
                < Self.reloadThreshold
        {
            let changed = try String.fetchSet(
                db, sql: "SELECT DISTINCT itemId FROM searchChange WHERE seq > ?", arguments: [known.changeSeq])
            for id in changed { try Self.reload(id, into: &known, in: db) }
            known.changeSeq = seq
            try Self.loadBlobs(after: known.lastBlobNumber, into: &known, in: db)
            current = known
        } else {
            current = try Self.load(in: db, seq: seq)
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
        var grants: [String: [ContentGrant]] = [:]
        let cursor1 = try Row.fetchCursor(db, sql: "SELECT itemId, principalId, role FROM contentGrant")
        while let row = try cursor1.next() {
            if let role = ContentRole(rawValue: row[2]) { grants[row[0], default: []].append(ContentGrant(principalID: row[1], role: role)) }
        }
        var tags: [String: [String]] = [:]
        let cursor2 = try Row.fetchCursor(db, sql: "SELECT ct.itemId, t.name FROM contentTag ct JOIN tag t ON t.id = ct.tagId")
        while let row = try cursor2.next() {
            tags[row[0], default: []].append(row[1])
        }
        let cursor3 = try Row.fetchCursor(db, sql: entryColumns)
        while let row = try cursor3.next() {
            let id: String = row[1]
            add(entry(row, grants: grants[id] ?? [], tags: tags[id] ?? []), key: row[0], to: &snapshot)
        }
        try loadBlobs(after: 0, into: &snapshot, in: db)
        return snapshot
    }

    private static func entry(_ row: Row, grants: [ContentGrant], tags: [String]) -> Entry {
        Entry(
            id: row[1], visibility: Visibility(rawValue: row[2]) ?? .private, grants: grants, tags: tags.sorted(),
            mimeType: row[3], name: row[4], createdAt: row[5], lastModifiedAt: row[6], blobID: row[7])
    }

    private static func add(_ entry: Entry, key: Int64, to snapshot: inout Snapshot) {
        snapshot.entries[key] = entry
        snapshot.keys[entry.id] = key
        if let blob = entry.blobID { snapshot.itemsOfBlob[blob, default: []].append(key) }
    }

    private static func remove(_ id: String, from snapshot: inout Snapshot) {
        guard let key = snapshot.keys.removeValue(forKey: id), let old = snapshot.entries.removeValue(forKey: key) else { return }
        if let blob = old.blobID {
            snapshot.itemsOfBlob[blob]?.removeAll { $0 == key }
            if snapshot.itemsOfBlob[blob]?.isEmpty == true { snapshot.itemsOfBlob[blob] = nil }
        }
    }

    private static func reload(_ id: String, into snapshot: inout Snapshot, in db: Database) throws {
        remove(id, from: &snapshot)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: entryColumns + " WHERE i.id = ?"), arguments: [id]) else { return }
        let grants = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT principalId, role FROM contentGrant WHERE itemId = ?"), arguments: [id]
        ).compactMap { row in ContentRole(rawValue: row[1]).map { ContentGrant(principalID: row[0], role: $0) } }
        let tags = try String.fetchAll(
            db.cachedStatement(sql: "SELECT t.name FROM contentTag ct JOIN tag t ON t.id = ct.tagId WHERE ct.itemId = ?"),
            arguments: [id])
        add(entry(row, grants: grants, tags: tags), key: row[0], to: &snapshot)
    }

    private static func loadBlobs(after number: Int64, into snapshot: inout Snapshot, in db: Database) throws {
        let cursor4 = try Row.fetchCursor(db, sql: "SELECT number, blobId, paged FROM blobText WHERE number > ?", arguments: [number])
        while let row = try cursor4.next() {
            let number: Int64 = row[0]
            snapshot.blobs[number] = (row[1], row[2])
            snapshot.lastBlobNumber = max(snapshot.lastBlobNumber, number)
        }
    }
}
