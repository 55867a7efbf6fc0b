import Foundation
import Repository

/// `oaken index DIR`: stores every file under a folder as a content item and extracts and
/// indexes its text, in parallel, resumably.
///
/// Two phases. First each file is stored through the blob store (so identical files become one
/// blob) with a record of its path, size and modification time; a file already recorded
/// unchanged is skipped without being read. Then the extraction queue is drained by parallel
/// workers. Both phases commit as they go, so after a crash or Ctrl-C the same command
/// continues where it stopped, and a run over an unchanged folder extracts nothing.
package struct BulkIndexer: Sendable {
    package let site: Site
    package let index: SQLiteSearchIndex
    package let workers: ExtractionWorkers
    package let ownerID: String
    package let visibility: Visibility
    package let concurrency: Int

    package init(
        site: Site, index: SQLiteSearchIndex, extractor: DocumentExtractor, ownerID: String, visibility: Visibility,
        concurrency: Int, commitBytes: Int = ExtractionWorkers.standardCommitBytes
    ) {
        self.site = site
        self.index = index
        self.workers = ExtractionWorkers(index: index, blobs: site.blobs, extractor: extractor, commitBytes: commitBytes)
        self.ownerID = ownerID
        self.visibility = visibility
        self.concurrency = concurrency
    }

    /// What became of one file.
    package struct FileReport: Sendable, Equatable {
        package var path: String
        package var itemID: String
        package var blobID: BlobID
        /// `nil` until extraction has run.
        package var outcome: ExtractionOutcome?
        /// The bytes were already stored (by an earlier file or run): not extracted again.
        package var duplicate: Bool
        /// Skipped: stored by an earlier run and unchanged since.
        package var unchanged: Bool
        package var pages: Int
        package var detail: String?

        /// The label of the report line: the outcome, or `duplicate`.
        package var label: String {
            duplicate ? "duplicate" : (outcome?.rawValue ?? "pending")
        }
    }

    /// Every regular file below `root`, in a stable order; hidden files and folders are skipped.
    package static func files(under root: URL) throws -> [URL] {
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey]
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
        else { throw RepositoryError.notFound(kind: "folder", id: root.path) }
        var files: [URL] = []
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: Set(keys))
            if values.isRegularFile == true, values.isSymbolicLink != true { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// A file that could not be stored, and why.
    package struct FileError: Error, Sendable {
        package var path: String
        package var error: RepositoryError
    }

    /// Stores a batch of files (phase one): unchanged files are not read; new files are staged
    /// without a sync each, and then made durable and committed together.
    package func store(_ files: [URL]) async throws -> (reports: [FileReport], errors: [FileError]) {
        var reports: [FileReport] = []
        var errors: [FileError] = []
        var batch: [(NewContentItem, StagedBlob)] = []
        var batchPaths: [String] = []
        var duplicates: [Bool] = []
        var seen = Set<BlobID>()
        var imports: [(file: URL, path: String, attempt: Result<ImportedFile, RepositoryError>)] = []
        for file in files {
            let path = file.standardizedFileURL.path
            do {
                imports.append((file, path, .success(try Self.importedFile(at: path))))
            } catch let error as RepositoryError {
                imports.append((file, path, .failure(error)))
            }
        }
        let known = try await site.metadata.importedItems(for: imports.compactMap { try? $0.attempt.get() })
        for (file, path, attempt) in imports {
            do {
                let imported = try attempt.get()
                let previous = known[imported.path]
                if case .unchanged(let itemID, let blob)? = previous {
                    reports.append(FileReport(path: path, itemID: itemID, blobID: blob, outcome: nil, duplicate: false, unchanged: true, pages: 0))
                    continue
                }
                if case .changed(let itemID)? = previous {
                    let staged = try site.blobs.stage(fileAt: path)
                    let known = try await site.metadata.isRecorded(staged.id) || seen.contains(staged.id)
                    seen.insert(staged.id)
                    let item = try await site.metadata.addVersion(
                        toItem: itemID, body: staged, mimeType: MediaTypeSniffer.mediaType(of: staged.head),
                        savedBy: ownerID, blobs: site.blobs, importedFrom: imported)
                    reports.append(FileReport(path: path, itemID: item.id, blobID: staged.id, outcome: nil, duplicate: known, unchanged: false, pages: 0))
                    continue
                }
                let staged = try site.blobs.stage(fileAt: path, durably: false)
                duplicates.append(try await site.metadata.isRecorded(staged.id) || seen.contains(staged.id))
                seen.insert(staged.id)
                batch.append((
                    NewContentItem(
                        name: file.lastPathComponent, mimeType: MediaTypeSniffer.mediaType(of: staged.head),
                        ownerID: ownerID, visibility: visibility, importedFrom: imported),
                    staged))
                batchPaths.append(path)
            } catch let error as RepositoryError {
                errors.append(FileError(path: path, error: error))
            }
        }
        let items = try await site.metadata.createItems(batch, blobs: site.blobs, durability: .batch)
        for (index, item) in items.enumerated() {
            reports.append(FileReport(
                path: batchPaths[index], itemID: item.id, blobID: batch[index].1.id, outcome: nil,
                duplicate: duplicates[index], unchanged: false, pages: 0))
        }
        return (reports, errors)
    }

    private static func importedFile(at path: String) throws -> ImportedFile {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw RepositoryError.notFound(kind: "file", id: path)
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = ((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1_000_000_000
        return ImportedFile(path: path, size: size, modifiedAt: Int64(modified))
    }

    /// Fills in each report's outcome from what the index recorded for its blob.
    package func complete(_ reports: [FileReport]) async throws -> [FileReport] {
        let outcomes = try await index.extractions(of: Set(reports.map(\.blobID)))
        var completed: [FileReport] = []
        for var report in reports {
            if let stored = outcomes[report.blobID] {
                report.outcome = stored.outcome
                report.pages = stored.pageCount
                report.detail = stored.detail
            }
            completed.append(report)
        }
        return completed
    }
}
