import Foundation

@testable import Repository

/// A site in a fresh folder, with a cheap password KDF so tests that create users stay fast.
/// (The KDF's cost is a parameter stored with each hash; its strength is not what these tests
/// are about.)
struct SiteFixture: Sendable {
    let directory: TemporaryDirectory
    let site: Site

    static let testHasher = PasswordHasher(costExponent: 10)

    init(maximumBlobSize: Int64? = nil) async throws {
        directory = try TemporaryDirectory()
        site = try await Site.open(
            dataDirectory: directory.url.appendingPathComponent("data"), maximumBlobSize: maximumBlobSize,
            passwordHasher: Self.testHasher)
    }

    /// Stores the file as a new item, as `oaken put` does.
    @discardableResult
    func put(_ file: URL, owner: String, visibility: Visibility = .private) async throws -> ContentItem {
        let staged = try site.blobs.stage(fileAt: file.path)
        return try await site.metadata.createItem(
            NewContentItem(name: file.lastPathComponent, mimeType: "application/octet-stream", ownerID: owner, visibility: visibility),
            body: staged, blobs: site.blobs)
    }

    func blobFiles() -> [String] {
        directory.files(under: "data/blobs/sha256")
    }

    func stagingFiles() -> [String] {
        directory.files(under: "data/blobs/tmp")
    }
}
