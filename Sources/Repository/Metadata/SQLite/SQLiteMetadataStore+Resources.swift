import Foundation
import GRDB

/// A child resource of an item (`/p/<id>/<resourceId>`): a file, or a set of fields, that a
/// Sakai doc refers to by its id.
package struct ItemResource: Sendable, Equatable {
    package var itemID: String
    package var id: String
    /// The body, or `nil` for a resource of fields only.
    package var blobID: BlobID?
    package var length: Int64
    package var mimeType: String
    package var fileName: String
    package var createdAt: Int64
    package var createdBy: String?
    package var properties: [String: JSONValue]
}

extension SQLiteMetadataStore {
    /// Adds a resource under the item, with the staged blob as its body when there is one,
    /// published in the same transaction. Throws `.notFound` for an unknown item; the staged
    /// blob is then discarded.
    package func addResource(
        toItem itemID: String, body: StagedBlob?, mimeType: String, fileName: String, properties: [String: JSONValue],
        by principalID: String?, blobs: some BlobStore
    ) async throws -> ItemResource {
        let now = Self.now()
        let id = Identifiers.poolID()
        do {
            try await writeImmediately { db in
                guard try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM contentItem WHERE id = ?"), arguments: [itemID]) != nil
                else { throw RepositoryError.notFound(kind: "item", id: itemID) }
                if let body {
                    try db.cachedStatement(sql: "INSERT INTO blob (id, length, createdAt) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
                        .execute(arguments: [body.id.description, body.length, now])
                }
                try db.cachedStatement(sql: """
                    INSERT INTO contentResource (itemId, id, blobId, length, mimeType, fileName, createdAt, createdBy, properties)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        itemID, id, body?.id.description, body?.length ?? 0, mimeType, fileName, now, principalID,
                        JSONValue.object(properties).serialized,
                    ])
                if let body { try blobs.publish(body) }
            }
        } catch {
            if let body { blobs.discard(body) }
            throw error
        }
        return ItemResource(
            itemID: itemID, id: id, blobID: body?.id, length: body?.length ?? 0, mimeType: mimeType, fileName: fileName,
            createdAt: now, createdBy: principalID, properties: properties)
    }

    /// The item's resource with this id, or `nil`.
    package func resource(ofItem itemID: String, id: String) async throws -> ItemResource? {
        try await database.read(through: readGate) { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM contentResource WHERE itemId = ? AND id = ?"), arguments: [itemID, id])
            else { return nil }
            let blob: String? = row["blobId"]
            return ItemResource(
                itemID: itemID, id: id, blobID: try blob.map { try BlobID(parsing: $0) }, length: row["length"],
                mimeType: row["mimeType"], fileName: row["fileName"], createdAt: row["createdAt"], createdBy: row["createdBy"],
                properties: Self.propertyObject(row["properties"]))
        }
    }
}
