import ArgumentParser
import Foundation
import Indexer
import Repository
import Server

/// The options every command that opens a site shares.
struct SiteOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data folder: database and blobs.")
    var dataDirectory = "./data"

    @Option(name: .customLong("max-upload"), help: "The largest file to store, e.g. 512M or 2G (default: no limit).")
    var maximumUploadSize: String?

    func configuration() throws -> AppConfiguration {
        var limit: Int64?
        if let text = maximumUploadSize {
            guard let size = AppConfiguration.parseSize(text) else {
                throw ValidationError("--max-upload takes a size such as 512M, 2G or 1048576, not '\(text)'")
            }
            limit = size
        }
        return AppConfiguration(dataDirectory: URL(fileURLWithPath: dataDirectory), maximumUploadSize: limit)
    }

    func openSite() async throws -> Site {
        let configuration = try configuration()
        return try await Site.open(
            dataDirectory: configuration.dataDirectory, maximumBlobSize: configuration.maximumUploadSize,
            prepareDatabase: SQLiteSearchIndex.prepareDatabase)
    }
}
