import Foundation
import GRDB

@testable import Indexer
@testable import Repository

/// A site in a temporary folder with its search index, for tests that store, extract and
/// search real files. PDFs are extracted in process here; the worker process path is tested
/// through the `oaken` binary.
struct SearchFixture: Sendable {
    let root: URL
    let site: Site
    let index: SQLiteSearchIndex
    let workers: ExtractionWorkers

    init(pairMinimumPages: Int = 10_000) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("oaken-search-\(UUID().uuidString)")
        site = try await Site.open(
            dataDirectory: root.appendingPathComponent("data"), passwordHasher: PasswordHasher(costExponent: 10),
            prepareDatabase: SQLiteSearchIndex.prepareDatabase)
        index = SQLiteSearchIndex(metadata: site.metadata, pairMinimumPages: pairMinimumPages)
        try index.prepare()
        workers = ExtractionWorkers(
            index: index, blobs: site.blobs, extractor: DocumentExtractor(pdf: PDFTextExtractor(), limits: .standard))
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: root)
    }

    func user(_ login: String) async throws -> User {
        try await site.metadata.createUser(NewUser(loginName: login, firstName: login, lastName: "Tester"), password: "password-\(login)")
    }

    /// Stores `text` under `name` as an item of `owner`.
    @discardableResult
    func put(_ name: String, text: String, owner: User, visibility: Visibility = .public) async throws -> ContentItem {
        try await put(name, data: Data(text.utf8), owner: owner, visibility: visibility)
    }

    @discardableResult
    func put(_ name: String, data: Data, owner: User, visibility: Visibility = .public) async throws -> ContentItem {
        let file = root.appendingPathComponent("upload-\(UUID().uuidString)")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let staged = try site.blobs.stage(fileAt: file.path)
        return try await site.metadata.createItem(
            NewContentItem(name: name, mimeType: MediaTypeSniffer.mediaType(of: staged.head), ownerID: owner.id, visibility: visibility),
            body: staged, blobs: site.blobs)
    }

    func extractAll() async throws {
        try await workers.drain(concurrency: 2)
    }

    func viewer(_ user: User?) async throws -> Viewer {
        guard let user else { return .anonymous }
        return Viewer(principalIDs: try await site.metadata.principalIDs(ofUser: user.id), isLoggedIn: true)
    }

    func search(_ query: String, as user: User? = nil, limit: Int = 50) async throws -> SearchResults {
        try await index.search(SearchRequest(query: try QueryParser().parse(query), viewer: try await viewer(user), limit: limit))
    }

    /// The names of the items found, best first.
    func names(_ query: String, as user: User? = nil) async throws -> [String] {
        var names: [String] = []
        for hit in try await search(query, as: user).hits {
            names.append(try await site.metadata.item(id: hit.itemID)?.name ?? "?")
        }
        return names
    }

    func grant(_ item: ContentItem, to principal: String, role: ContentRole = .viewer) async throws {
        try await site.metadata.database.write { db in
            try db.execute(
                sql: "INSERT INTO contentGrant (itemId, principalId, role, grantedAt) VALUES (?, ?, ?, 0)",
                arguments: [item.id, principal, role.rawValue])
        }
    }
}
