import Dispatch
import Synchronization
import Repository

/// Extracts queued blobs with bounded parallelism and writes their text to the index.
///
/// Extraction is blocking work (a child process for PDFs, libxml2 for HTML), so each runs on
/// a Dispatch thread, never on the cooperative pool. A blob already extracted is never
/// queued again, however many items reference it.
package struct ExtractionWorkers: Sendable {
    package let index: SQLiteSearchIndex
    package let blobs: FileSystemBlobStore
    package let extractor: DocumentExtractor

    package init(index: SQLiteSearchIndex, blobs: FileSystemBlobStore, extractor: DocumentExtractor) {
        self.index = index
        self.blobs = blobs
        self.extractor = extractor
    }

    /// How long a claimed job stays ours before another process may take it over.
    var lease: Double { extractor.limits.pdfTimeout * 2 + 60 }

    /// Most jobs a worker claims at once, and whose results it stores in one transaction: one
    /// commit for many documents instead of two per document. FTS5 writes a new segment per
    /// commit and merges segments as they pile up, and in WAL mode every page a commit touches
    /// is written twice, so few large commits write far less than many small ones.
    static let maximumBatchSize = 2048

    /// How long a batch should take to extract, which sizes it from the rate measured on the
    /// previous one: fast plain text goes in large batches, slow PDFs in small ones, so
    /// progress and the work a crash can lose stay around two seconds either way.
    static let batchDuration = Duration.seconds(2)

    /// What a drain did.
    package struct Statistics: Sendable, Equatable {
        package var documents = 0
        /// UTF-8 bytes of text written to the index.
        package var textBytes = 0
        /// Time the index writes held the database's write lock, commits included.
        package var indexWriteTime = Duration.zero
    }

    /// Extracts until the queue is empty, `concurrency` blobs at a time, calling `onResult`
    /// after each blob's text is stored.
    @discardableResult
    package func drain(
        concurrency: Int, onResult: @escaping @Sendable (BlobID, ExtractionResult) async -> Void = { _, _ in }
    ) async throws -> Statistics {
        try await index.reclaimAbandonedJobs()
        // An estimate of what is left, so that batches shrink near the end and keep every
        // worker busy; it need not be exact.
        let remaining = Remaining(try await index.unfinishedJobCount())
        return try await withThrowingTaskGroup(of: Statistics.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    var statistics = Statistics()
                    var rate = 16.0  // documents per batchDuration, until measured
                    let clock = ContinuousClock()
                    while !Task.isCancelled {
                        let left = remaining.count.withLock { $0 }
                        let batch = max(1, min(Int(rate), Self.maximumBatchSize, left / (2 * max(1, concurrency))))
                        let blobs = try await index.claimJobs(limit: batch, lease: lease * Double(batch))
                        if blobs.isEmpty { break }
                        remaining.count.withLock { $0 -= blobs.count }
                        let started = clock.now
                        let results = await extract(blobs)
                        rate = Double(blobs.count) * (Self.batchDuration / max(started.duration(to: clock.now), .milliseconds(1)))
                        statistics.indexWriteTime += try await index.store(results)
                        statistics.documents += results.count
                        statistics.textBytes += results.reduce(0) { $0 + ($1.1.text?.textBytes ?? 0) }
                        for (blob, result) in results {
                            await onResult(blob, result)
                        }
                    }
                    return statistics
                }
            }
            var total = try await group.reduce(into: Statistics()) { total, part in
                total.documents += part.documents
                total.textBytes += part.textBytes
                total.indexWriteTime += part.indexWriteTime
            }
            total.indexWriteTime += try await index.checkpoint()
            return total
        }
    }

    /// Extracts one blob on a Dispatch thread.
    package func extract(_ blob: BlobID) async -> ExtractionResult {
        await extract([blob])[0].1
    }

    /// Extracts blobs one after another on a Dispatch thread: one thread hop per batch, not
    /// per document.
    package func extract(_ batch: [BlobID]) async -> [(BlobID, ExtractionResult)] {
        let paths = batch.map { ($0, blobs.path(for: $0)) }
        let extractor = extractor
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: paths.map { ($0.0, extractor.extract(fileAt: $0.1)) })
            }
        }
    }
}

/// The shared estimate of jobs left, for batch sizing.
private final class Remaining: Sendable {
    let count: Mutex<Int>
    init(_ count: Int) { self.count = Mutex(count) }
}
