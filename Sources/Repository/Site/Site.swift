import Foundation
import GRDB
import Logging

/// One Oaken site on disk: a blob folder and one SQLite database in a data folder.
///
/// ```
/// <data>/oaken.sqlite      metadata (WAL)
/// <data>/blobs/sha256/…    blobs
/// <data>/blobs/tmp/…       writes in progress
/// ```
package struct Site: Sendable {
    package let dataDirectory: URL
    package let blobs: FileSystemBlobStore
    package let metadata: SQLiteMetadataStore

    /// The login name of the account that owns what the command line stores without an owner.
    /// The server's first start gives it a password.
    package static let administratorLoginName = "admin"

    /// Opens the site in `dataDirectory`, creating it when missing, and migrates the schema.
    /// `prepareDatabase` runs on each database connection as it opens.
    package static func open(
        dataDirectory: URL, maximumBlobSize: Int64? = nil, passwordHasher: PasswordHasher = .standard,
        prepareDatabase: (@Sendable (Database) throws -> Void)? = nil
    ) async throws -> Site {
        try POSIXFile.makeDirectory(dataDirectory.path)
        let blobs = try FileSystemBlobStore(
            root: dataDirectory.appendingPathComponent("blobs", isDirectory: true), maximumBlobSize: maximumBlobSize)
        let metadata = try SQLiteMetadataStore(
            path: dataDirectory.appendingPathComponent("oaken.sqlite").path, passwordHasher: passwordHasher,
            prepareDatabase: prepareDatabase)
        try metadata.migrate()
        return Site(dataDirectory: dataDirectory, blobs: blobs, metadata: metadata)
    }

    /// The administrator account, created without a password when it does not exist yet:
    /// with the id `id` when given (`admin` on a site whose ids are login names), else an
    /// opaque one.
    package func administrator(id: String? = nil) async throws -> User {
        if let admin = try await metadata.user(loginName: Self.administratorLoginName) { return admin }
        do {
            return try await metadata.createUser(
                NewUser(loginName: Self.administratorLoginName, firstName: "Site", lastName: "Administrator", id: id),
                password: nil)
        } catch RepositoryError.conflict {
            // Another process created it first.
            guard let admin = try await metadata.user(loginName: Self.administratorLoginName) else { throw RepositoryError.conflict("admin") }
            return admin
        }
    }

    /// Everything wrong with the site: database integrity, every recorded blob present with
    /// the right length and (with `verifyContents`) the right hash, and nothing left over.
    package func check(verifyContents: Bool = true) async throws -> [ConsistencyProblem] {
        var problems = try await metadata.databaseProblems().map(ConsistencyProblem.database)
        let recorded = try await metadata.recordedBlobs()
        for (id, blob) in recorded.sorted(by: { $0.key < $1.key }) {
            if blob.references == 0 { problems.append(.unreferencedBlob(id)) }
            guard let stored = blobs.length(of: id) else {
                problems.append(.missingBlob(id))
                continue
            }
            if stored != blob.length {
                problems.append(.lengthMismatch(id, recorded: blob.length, stored: stored))
            } else if verifyContents, case .corrupt(let actual) = try blobs.verify(id) {
                problems.append(.corruptBlob(id, actual: actual))
            }
        }
        for id in try blobs.allBlobIDs().sorted() where recorded[id] == nil {
            problems.append(.unrecordedBlob(id))
        }
        problems += try blobs.abandonedWrites().sorted().map(ConsistencyProblem.abandonedWrite)
        return problems
    }

    /// What `gc` removed.
    package struct GarbageReport: Sendable, Equatable {
        package var removedBlobs: [BlobID]
        package var removedWrites: Int
    }

    /// Removes blobs nothing references and staged writes whose writer died. Safe beside a
    /// running server or another `oaken put`: see `BlobReferenceStore.sweepUnreferencedBlobs`.
    package func collectGarbage(logger: Logger? = nil) async throws -> GarbageReport {
        let removedWrites = try blobs.removeAbandonedWrites()
        let recorded = try await metadata.recordedBlobs()
        let unrecorded = try blobs.allBlobIDs().filter { recorded[$0] == nil }
        let store = blobs
        let removed = try await metadata.sweepUnreferencedBlobs(unrecorded: unrecorded) { id in
            try store.remove(id)
        }
        logger?.info("gc removed \(removed.count) blobs and \(removedWrites) abandoned uploads")
        return GarbageReport(removedBlobs: removed, removedWrites: removedWrites)
    }
}
