/// One thing `oaken check` finds wrong with a repository.
package enum ConsistencyProblem: Sendable, Equatable, CustomStringConvertible {
    /// A version references a blob the store does not hold.
    case missingBlob(BlobID)
    /// A stored blob's bytes no longer hash to its id.
    case corruptBlob(BlobID, actual: BlobID)
    /// The stored length differs from the recorded one.
    case lengthMismatch(BlobID, recorded: Int64, stored: Int64)
    /// A recorded blob that no version references (`gc` removes it).
    case unreferencedBlob(BlobID)
    /// A blob file the metadata does not know of (`gc` removes it).
    case unrecordedBlob(BlobID)
    /// A staged upload whose writer died (`gc` removes it).
    case abandonedWrite(String)
    /// The database's own integrity or foreign-key check failed.
    case database(String)

    package var description: String {
        switch self {
        case .missingBlob(let id): "missing blob \(id): referenced, but not in the blob store"
        case .corruptBlob(let id, let actual): "corrupt blob \(id): its bytes hash to \(actual)"
        case .lengthMismatch(let id, let recorded, let stored):
            "corrupt blob \(id): \(stored) bytes stored, \(recorded) recorded"
        case .unreferencedBlob(let id): "unreferenced blob \(id): no item version uses it (run gc)"
        case .unrecordedBlob(let id): "orphan blob \(id): a file the metadata does not know (run gc)"
        case .abandonedWrite(let name): "abandoned upload \(name) (run gc)"
        case .database(let what): "database: \(what)"
        }
    }

    /// Whether `gc` repairs it (the rest means lost or damaged data).
    package var isGarbage: Bool {
        switch self {
        case .unreferencedBlob, .unrecordedBlob, .abandonedWrite: true
        case .missingBlob, .corruptBlob, .lengthMismatch, .database: false
        }
    }
}
