/// What can go wrong in the repository, in its own terms; the server maps these to HTTP
/// statuses in one place.
package enum RepositoryError: Error, Equatable, CustomStringConvertible {
    /// The named thing does not exist (or the caller may not know that it does).
    case notFound(kind: String, id: String)
    /// The write collides with what is already stored, such as a taken login name.
    case conflict(String)
    /// Stored bytes do not hash to the id they are filed under.
    case integrity(expected: String, actual: String)
    /// A value the caller gave is not acceptable.
    case invalid(field: String, reason: String)
    /// The caller may not do this to the thing named (its path or id).
    case denied(String)
    /// Too much of this work is queued already; the caller may try again shortly.
    case busy
    /// A blob write went over the store's size limit and was abandoned.
    case tooLarge(limit: Int64)
    /// The file system or the database failed in a way that is not the caller's doing.
    case storage(String)

    package var description: String {
        switch self {
        case .notFound(let kind, let id): "no \(kind) \(id)"
        case .conflict(let what): what
        case .integrity(let expected, let actual): "stored bytes hash to \(actual), not \(expected)"
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .denied(let what): "may not change \(what)"
        case .busy: "too busy"
        case .tooLarge(let limit): "larger than the limit of \(limit) bytes"
        case .storage(let what): what
        }
    }
}
