import ArgumentParser
import Foundation
import Indexer
import Repository

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store files as content items.",
        discussion: """
            Prints one line per stored file, as soon as it is stored: the pool id, the blob id and the \
            name. Identical bytes are stored once, however many items hold them.
            """)

    @OptionGroup var site: SiteOptions

    @Argument(help: "The files to store.")
    var files: [String]

    @Option(help: "The login name of the owner (default: the administrator).")
    var owner: String?

    @Option(help: "Who may read the items: public, logged-in or private.")
    var visibility: Visibility = .private

    func run() async throws {
        let site = try await site.openSite()
        let ownerID: String
        if let owner {
            guard let user = try await site.metadata.user(loginName: owner) else {
                throw ValidationError("there is no user '\(owner)'")
            }
            ownerID = user.id
        } else {
            ownerID = try await site.administrator().id
        }
        for file in files {
            let staged = try site.blobs.stage(fileAt: file)
            let item = try await site.metadata.createItem(
                NewContentItem(
                    name: URL(fileURLWithPath: file).lastPathComponent,
                    mimeType: MediaTypeSniffer.mediaType(of: staged.head),
                    ownerID: ownerID, visibility: visibility),
                body: staged, blobs: site.blobs)
            writeOutput("\(item.id) \(staged.id) \(item.name)\n")
        }
    }
}

extension Visibility: ExpressibleByArgument {}
