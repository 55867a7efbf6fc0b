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
    /// Text gathered into one index commit (see `standardCommitBytes`).
    package let commitBytes: Int

    package init(
        index: SQLiteSearchIndex, blobs: FileSystemBlobStore, extractor: DocumentExtractor,
        commitBytes: Int = Self.standardCommitBytes
    ) {
        self.index = index
        self.blobs = blobs
        self.extractor = extractor
        self.commitBytes = max(1, commitBytes)
    }

    /// How long a claimed job stays ours before another process may take it over.
    var lease: Double { extractor.limits.timeout * 2 + 60 }

    /// Most jobs a worker claims and extracts at once.
    static let maximumBatchSize = 2048

    /// How long a batch should take to extract, which sizes it from the rate measured on the
    /// previous one: fast plain text goes in large batches, slow PDFs in small ones, so
    /// progress and the work a crash can lose stay around two seconds either way.
    static let batchDuration = Duration.seconds(2)

    /// When the writer commits: FTS5 writes a new segment per commit and merges segments as
    /// they pile up, and in WAL mode every page a commit touches is written twice, so a few
    /// large commits write far less than many small ones. Results are therefore gathered
    /// from every worker into commits of up to `commitBytes` of text (about a second of
    /// writing at this size), and a result waits at most `commitDelay` for others to join
    /// it, so an upload is searchable within about a second of its extraction. A crash loses
    /// at most the extraction work of one commit.
    package static let standardCommitBytes = 16 << 20
    static let commitDelay = Duration.seconds(1)

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
    ///
    /// The workers only extract; one writer task stores what they extracted, in commits that
    /// gather the results of all of them (see `commitBytes`). SQLite has a single writer
    /// anyway, and while it commits, the workers go on extracting what they have claimed.
    @discardableResult
    package func drain(
        concurrency: Int, onResult: @escaping @Sendable (BlobID, ExtractionResult) async -> Void = { _, _ in }
    ) async throws -> Statistics {
        try await index.reclaimAbandonedJobs()
        // An estimate of what is left, so that batches shrink near the end and keep every
        // worker busy; it need not be exact.
        let remaining = Remaining(try await index.unfinishedJobCount())
        let workers = max(1, concurrency)
        let pending = PendingResults(producers: workers, commitBytes: commitBytes, commitDelay: Self.commitDelay)
        return try await withThrowingTaskGroup(of: Statistics.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    do {
                        try await extractQueued(into: pending, workers: workers, remaining: remaining)
                        await pending.finishProducer()
                    } catch {
                        await pending.finishProducer()
                        throw error
                    }
                    return Statistics()
                }
            }
            group.addTask {
                var statistics = Statistics()
                do {
                    while let results = await pending.take() {
                        statistics.indexWriteTime += try await index.store(results)
                        statistics.documents += results.count
                        statistics.textBytes += results.reduce(0) { $0 + ($1.1.text?.textBytes ?? 0) }
                        for (blob, result) in results {
                            await onResult(blob, result)
                        }
                    }
                } catch {
                    // Workers waiting for room must not wait for a writer that is gone.
                    await pending.close()
                    throw error
                }
                return statistics
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

    /// One worker: claims batches of queued blobs and extracts them until the queue is empty,
    /// handing each batch's results to the writer.
    private func extractQueued(into pending: PendingResults, workers: Int, remaining: Remaining) async throws {
        var rate = 16.0  // documents per batchDuration, until measured
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let left = remaining.count.withLock { $0 }
            let batch = max(1, min(Int(rate), Self.maximumBatchSize, left / (2 * workers)))
            let blobs = try await index.claimJobs(limit: batch, lease: lease * Double(batch))
            if blobs.isEmpty { return }
            remaining.count.withLock { $0 -= blobs.count }
            let started = clock.now
            let results = await extract(blobs)
            rate = Double(blobs.count) * (Self.batchDuration / max(started.duration(to: clock.now), .milliseconds(1)))
            guard await pending.put(results) else { return }
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

/// Extraction results on their way from the workers to the writer. The writer takes them when
/// `commitBytes` of text have gathered, when the oldest has waited `commitDelay`, or when every
/// worker has finished; a worker waits while `commitBytes` are already waiting, which bounds
/// the memory held when extraction outpaces the index.
private actor PendingResults {
    private var results: [(BlobID, ExtractionResult)] = []
    private var bytes = 0
    private var oldest: ContinuousClock.Instant?
    private var producers: Int
    private var closed = false
    private var writer: CheckedContinuation<Void, Never>?
    private var waitingForRoom: [CheckedContinuation<Void, Never>] = []
    private let commitBytes: Int
    private let commitDelay: Duration

    init(producers: Int, commitBytes: Int, commitDelay: Duration) {
        self.producers = producers
        self.commitBytes = commitBytes
        self.commitDelay = commitDelay
    }

    /// Hands results to the writer; `false` when the writer has stopped.
    func put(_ batch: [(BlobID, ExtractionResult)]) async -> Bool {
        while bytes >= commitBytes && !closed {
            await withCheckedContinuation { waitingForRoom.append($0) }
        }
        if closed { return false }
        results += batch
        bytes += batch.reduce(0) { $0 + max(1, $1.1.text?.textBytes ?? 0) }
        if oldest == nil { oldest = .now }
        if bytes >= commitBytes { wakeWriter() }
        return true
    }

    /// A worker has no more results.
    func finishProducer() {
        producers -= 1
        wakeWriter()
    }

    /// The writer has stopped: workers stop too.
    func close() {
        closed = true
        resumeWaitingForRoom()
    }

    /// The next results to store, or `nil` once every worker has finished and nothing is left.
    func take() async -> [(BlobID, ExtractionResult)]? {
        while true {
            if let oldest, bytes >= commitBytes || producers == 0 || oldest.duration(to: .now) >= commitDelay {
                let taken = results
                results = []
                bytes = 0
                self.oldest = nil
                resumeWaitingForRoom()
                return taken
            }
            if producers == 0 { return nil }
            let deadline = oldest.map { $0.advanced(by: commitDelay) }
            await withCheckedContinuation { continuation in
                writer = continuation
                if let deadline {
                    Task { [weak self] in
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        await self?.wakeWriter()
                    }
                }
            }
        }
    }

    private func wakeWriter() {
        writer?.resume()
        writer = nil
    }

    private func resumeWaitingForRoom() {
        for waiting in waitingForRoom { waiting.resume() }
        waitingForRoom = []
    }
}
