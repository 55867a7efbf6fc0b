/// Who may read an item, beyond its explicit grants.
package enum Visibility: String, Sendable, CaseIterable, Codable {
    /// Everyone, including anonymous visitors.
    case `public`
    /// Everyone who is logged in.
    case loggedIn = "logged-in"
    /// Only the principals that hold a grant.
    case `private`
}

/// What a principal may do with an item.
package enum ContentRole: String, Sendable, CaseIterable, Codable {
    case manager, editor, viewer
}

/// A content-pool item: a named, shared, versioned pointer to a blob.
package struct ContentItem: Sendable, Equatable {
    /// The pool id: random, URL-safe and unrelated to the bytes.
    package var id: String
    package var name: String
    package var description: String
    package var mimeType: String
    package var visibility: Visibility
    package var currentVersion: Int
    /// The blob of the current version; `nil` for an item without a body (a Sakai doc).
    package var blobID: BlobID?
    package var length: Int64
    package var createdAt: Int64
    package var createdBy: String?
    package var lastModifiedAt: Int64
}

/// What it takes to create an item from a staged upload.
package struct NewContentItem: Sendable, Equatable {
    package var name: String
    package var mimeType: String
    package var ownerID: String
    package var visibility: Visibility
    package var description: String
    /// The file this item was bulk-imported from, if it was.
    package var importedFrom: ImportedFile?

    package init(
        name: String, mimeType: String, ownerID: String, visibility: Visibility = .private, description: String = "",
        importedFrom: ImportedFile? = nil
    ) {
        self.name = name
        self.mimeType = mimeType
        self.ownerID = ownerID
        self.visibility = visibility
        self.description = description
        self.importedFrom = importedFrom
    }
}

/// A file on disk as bulk indexing saw it: a later run that sees the same path, size and
/// modification time knows it stored it already.
package struct ImportedFile: Sendable, Equatable {
    package var path: String
    package var size: Int64
    /// Modification time in nanoseconds since 1970.
    package var modifiedAt: Int64

    package init(path: String, size: Int64, modifiedAt: Int64) {
        self.path = path
        self.size = size
        self.modifiedAt = modifiedAt
    }
}
