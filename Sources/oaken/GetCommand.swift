import ArgumentParser
import Crypto
import Foundation
import Repository

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write the current version of a content item.",
        discussion: """
            The bytes are hashed as they are written. With -o, a file is created only when they match \
            the blob id; on standard output a mismatch is reported and the exit status is 1.
            """)

    @OptionGroup var site: SiteOptions

    @Argument(help: "The pool id of the item.")
    var poolID: String

    @Option(name: .shortAndLong, help: "The file to write (default: standard output).")
    var output: String?

    func run() async throws {
        let site = try await site.openSite()
        guard let item = try await site.metadata.item(id: poolID) else {
            throw RepositoryError.notFound(kind: "item", id: poolID)
        }
        guard let blobID = item.blobID else {
            throw ValidationError("the item \(poolID) has no file body")
        }
        let reader = try site.blobs.openForReading(blobID)
        defer { reader.close() }

        let temporary = output.map { $0 + ".oaken-partial" }
        let handle: FileHandle
        if let temporary {
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
                throw ValidationError("cannot create \(temporary)")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        } else {
            handle = FileHandle.standardOutput
        }
        var hasher = SHA256()
        var offset: Int64 = 0
        do {
            while case let chunk = try reader.read(at: offset, upTo: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                try handle.write(contentsOf: chunk)
                offset += Int64(chunk.count)
            }
            if temporary != nil { try handle.close() }
            let actual = BlobID(digest: hasher.finalize())
            guard actual == blobID else {
                throw RepositoryError.integrity(expected: blobID.description, actual: actual.description)
            }
            if let temporary, let output {
                guard rename(temporary, output) == 0 else { throw ValidationError("cannot write \(output)") }
            }
        } catch {
            if let temporary { unlink(temporary) }
            throw error
        }
    }
}
