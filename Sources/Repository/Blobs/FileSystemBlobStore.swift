import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs as read-only files under `<root>/sha256/ab/cd/<hex>`.
///
/// A write streams into `<root>/tmp/<pid>-<random>.partial` while it is hashed, is fsynced, and
/// is then hard-linked into place. `link(2)` fails when the name exists, so a stored blob is
/// never rewritten, and two writers of the same bytes both succeed with one file. The staging
/// name carries the writer's pid, which is how a later `gc` tells a live write from one that a
/// crash left behind.
package struct FileSystemBlobStore: BlobStore {
    package let root: URL
    /// Writes longer than this many bytes are abandoned with `.tooLarge`; `nil` means no limit.
    package let maximumBlobSize: Int64?
    /// A staged write older than this is abandoned even if a process with its pid is alive,
    /// because pids are reused.
    package let abandonAfter: TimeInterval

    static let headLength = 8192
    static let stagingSuffix = ".partial"

    package init(root: URL, maximumBlobSize: Int64? = nil, abandonAfter: TimeInterval = 24 * 3600) throws {
        self.root = root
        self.maximumBlobSize = maximumBlobSize
        self.abandonAfter = abandonAfter
        try POSIXFile.makeDirectory(stagingDirectory.path)
        try POSIXFile.makeDirectory(hashDirectory.path)
    }

    var hashDirectory: URL { root.appendingPathComponent("sha256", isDirectory: true) }
    var stagingDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    /// Where the blob lives: two levels of fan-out keep directories small at millions of blobs.
    package func path(for id: BlobID) -> String {
        let hex = id.hex
        let a = hex.prefix(2)
        let b = hex.dropFirst(2).prefix(2)
        return hashDirectory.path + "/\(a)/\(b)/\(hex)"
    }

    package func beginWrite() throws -> any BlobWriter {
        let name = "\(getpid())-\(UUID().uuidString.lowercased())\(Self.stagingSuffix)"
        let path = stagingDirectory.path + "/" + name
        // Direct I/O where the file system allows it (tmpfs does not): the blob's bytes go
        // from our buffers to the disk without a copy into the page cache, which on a busy
        // server costs more CPU than hashing them.
        var direct = POSIXFile.directIO != 0
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | POSIXFile.directIO, 0o600)
        if fd < 0, errno == EINVAL, direct {
            direct = false
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { throw POSIXFile.error("cannot create \(name)") }
        return FileBlobWriter(fd: fd, path: path, limit: maximumBlobSize, direct: direct)
    }

    @discardableResult
    package func publish(_ staged: StagedBlob, durably: Bool) throws -> Bool {
        let target = path(for: staged.id)
        let directory = (target as NSString).deletingLastPathComponent
        try POSIXFile.makeDirectory(directory, syncingParents: durably)
        if link(staged.stagingPath, target) == 0 {
            if durably { try POSIXFile.syncDirectory(directory) }
            unlink(staged.stagingPath)
            return true
        }
        let linkErrno = errno
        guard linkErrno == EEXIST else {
            throw POSIXFile.error("cannot publish \(staged.id.shortDescription)", code: linkErrno)
        }
        // Already stored. A copy of the wrong length was damaged after it was written; the
        // staged bytes are known good, so they replace it. Otherwise the stored copy stays.
        if let existing = length(of: staged.id), existing != staged.length {
            guard rename(staged.stagingPath, target) == 0 else {
                throw POSIXFile.error("cannot repair \(staged.id.shortDescription)")
            }
            if durably { try POSIXFile.syncDirectory(directory) }
            return true
        }
        unlink(staged.stagingPath)
        return false
    }

    package func makeDurable() throws {
        try POSIXFile.syncFileSystem(containing: root.path)
    }

    package func discard(_ staged: StagedBlob) {
        unlink(staged.stagingPath)
    }

    package func contains(_ id: BlobID) -> Bool {
        access(path(for: id), F_OK) == 0
    }

    package func length(of id: BlobID) -> Int64? {
        var info = stat()
        guard stat(path(for: id), &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    package func openForReading(_ id: BlobID) throws -> any BlobReader {
        let fd = open(path(for: id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw RepositoryError.notFound(kind: "blob", id: id.description) }
            throw POSIXFile.error("cannot open \(id.shortDescription)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw POSIXFile.error("cannot stat \(id.shortDescription)")
        }
        return FileBlobReader(fd: fd, length: Int64(info.st_size))
    }

    package func verify(_ id: BlobID) throws -> BlobVerification {
        let reader: any BlobReader
        do {
            reader = try openForReading(id)
        } catch RepositoryError.notFound {
            return .missing
        }
        defer { reader.close() }
        var hasher = SHA256()
        var offset: Int64 = 0
        while true {
            let chunk = try reader.read(at: offset, upTo: POSIXFile.chunkSize)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            offset += Int64(chunk.count)
        }
        let actual = BlobID(digest: hasher.finalize())
        return actual == id ? .intact : .corrupt(actual: actual)
    }

    package func remove(_ id: BlobID) throws {
        if unlink(path(for: id)) != 0, errno != ENOENT {
            throw POSIXFile.error("cannot remove \(id.shortDescription)")
        }
    }

    package func allBlobIDs() throws -> [BlobID] {
        var ids: [BlobID] = []
        for a in try POSIXFile.entries(of: hashDirectory.path) {
            for b in try POSIXFile.entries(of: hashDirectory.path + "/" + a) {
                for name in try POSIXFile.entries(of: hashDirectory.path + "/\(a)/\(b)") {
                    // Anything that is not a well-formed blob name is not a blob; `check` would
                    // rather see it reported as missing than crash on it.
                    if let id = try? BlobID(parsing: name), path(for: id).hasSuffix("/\(a)/\(b)/\(name)") {
                        ids.append(id)
                    }
                }
            }
        }
        return ids
    }

    package func abandonedWrites() throws -> [String] {
        let now = Date().timeIntervalSince1970
        return try POSIXFile.entries(of: stagingDirectory.path).filter { name in
            let path = stagingDirectory.path + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { return false }
            if now - TimeInterval(info.st_mtim.tv_sec) > abandonAfter { return true }
            guard let pid = Int32(name.prefix { $0 != "-" }) else { return true }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    @discardableResult
    package func removeAbandonedWrites() throws -> Int {
        var removed = 0
        for name in try abandonedWrites() where unlink(stagingDirectory.path + "/" + name) == 0 {
            removed += 1
        }
        return removed
    }
}

/// A write into a staging file, hashing as it goes.
///
/// Bytes are gathered into pooled buffers. Each full buffer is hashed on the
/// `PipelinedHasher`'s thread and, at the same time, written at its offset in the file by a
/// concurrent queue, so the caller (a request reading an upload from the network, say) goes
/// on filling the next buffer meanwhile: a blocking disk write never stalls the stream, and
/// several writes are in flight at once. A buffer returns to the pool when it is both written
/// and hashed. Buffered (non-direct) writes ask the kernel every few MiB to start writing
/// back, so the final fsync has little left.
final class FileBlobWriter: BlobWriter, @unchecked Sendable {
    // @unchecked: `failure`, `flushedUpTo` and `direct` are guarded by `lock`; the writes on
    // `io` touch only their own buffer and offset; the caller waits for `writes` before it
    // closes `fd`; the rest belongs to the caller's task.
    private var fd: Int32
    private let path: String
    private let limit: Int64?
    private let hasher = PipelinedHasher()
    private let io = DispatchQueue(label: "oaken.blob-writer", attributes: .concurrent)
    private let writes = DispatchGroup()
    private let lock = NSLock()
    private var failure: RepositoryError?
    private var buffer: UnsafeMutableRawBufferPointer?
    private var buffered = 0
    private var length: Int64 = 0
    /// Bytes handed to the write queue so far: the offset of the next buffer.
    private var submitted: Int64 = 0
    private var flushedUpTo: Int64 = 0
    private var head: [UInt8] = []
    private var done = false
    /// Whether `fd` has `O_DIRECT`: full, aligned buffers bypass the page cache.
    private var direct: Bool

    static let writebackInterval: Int64 = 8 << 20
    /// What direct I/O needs lengths and offsets to be multiples of (the largest logical block
    /// size in use; the buffers are allocated at this alignment).
    static let directAlignment = 4096

    init(fd: Int32, path: String, limit: Int64?, direct: Bool = false) {
        self.fd = fd
        self.path = path
        self.limit = limit
        self.direct = direct
        head.reserveCapacity(FileSystemBlobStore.headLength)
    }

    deinit {
        if !done { cancel() }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!done, "append after finish or cancel")
        if let limit, length + Int64(bytes.count) > limit {
            cancel()
            throw RepositoryError.tooLarge(limit: limit)
        }
        if head.count < FileSystemBlobStore.headLength {
            head.append(contentsOf: bytes.prefix(FileSystemBlobStore.headLength - head.count))
        }
        length += Int64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let target = buffer ?? hasher.acquire()
            buffer = target
            let n = min(bytes.count - offset, target.count - buffered)
            (target.baseAddress! + buffered).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            buffered += n
            offset += n
            if buffered == target.count { try flushBuffer() }
        }
    }

    /// Hands the current buffer to the hasher and the write queue. A failed write is
    /// reported by the next call.
    private func flushBuffer() throws {
        if let failure = lock.withLock({ failure }) {
            cancel()
            throw failure
        }
        guard let target = buffer, buffered > 0 else { return }
        let count = buffered
        let offset = submitted
        buffer = nil
        buffered = 0
        submitted += Int64(count)
        let handOff = BufferHandOff(buffer: target)
        let owners = BufferOwners(hasher: hasher, buffer: handOff)
        hasher.submit(target, count: count) { owners.finished() }
        if lock.withLock({ direct }), count % Self.directAlignment != 0 {
            // The last, partial buffer goes through the page cache, after the others.
            writes.wait()
            stopDirectIO()
            write(handOff.buffer, count: count, at: offset)
            owners.finished()
            return
        }
        io.async(group: writes) {
            self.write(handOff.buffer, count: count, at: offset)
            owners.finished()
        }
    }

    /// Writes one buffer at its offset (on `io`, or on the caller's thread for the last).
    private func write(_ target: UnsafeMutableRawBufferPointer, count: Int, at offset: Int64) {
        guard lock.withLock({ failure == nil }) else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: target[..<count])
        do {
            do {
                try POSIXFile.writeAll(fd, bytes, at: offset)
            } catch where errno == EINVAL && lock.withLock({ direct }) {
                // A file system that accepted O_DIRECT at open but not for this write.
                stopDirectIO()
                try POSIXFile.writeAll(fd, bytes, at: offset)
            }
        } catch {
            lock.withLock { if failure == nil { failure = error as? RepositoryError ?? POSIXFile.error("cannot write") } }
            return
        }
        if !lock.withLock({ direct }) {
            let end = offset + Int64(count)
            let range: (Int64, Int64)? = lock.withLock {
                guard end - flushedUpTo >= Self.writebackInterval else { return nil }
                defer { flushedUpTo = end }
                return (flushedUpTo, end - flushedUpTo)
            }
            if let range { POSIXFile.startWriteback(fd, offset: range.0, count: range.1) }
        }
    }

    private func stopDirectIO() {
        lock.withLock {
            guard direct else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~POSIXFile.directIO)
            direct = false
        }
    }

    func finish(durably: Bool) throws -> StagedBlob {
        precondition(!done, "finish after finish or cancel")
        try flushBuffer()
        writes.wait()
        if let failure = lock.withLock({ failure }) {
            cancel()
            throw failure
        }
        // Read-only from the start: the inode becomes the stored blob by a hard link.
        guard fchmod(fd, 0o444) == 0, !durably || fsync(fd) == 0 else {
            let error = POSIXFile.error("cannot sync a staged blob")
            cancel()
            throw error
        }
        close(fd)
        fd = -1
        done = true
        return StagedBlob(id: BlobID(digest: hasher.finalize()), length: length, head: head, stagingPath: path)
    }

    func cancel() {
        lock.withLock { if failure == nil { failure = .storage("the write was cancelled") } }
        writes.wait()
        if let target = buffer {
            hasher.release(target)
            buffer = nil
        }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        if !done {
            unlink(path)
            done = true
        }
    }
}

/// The two users of a buffer in flight, the hasher and the write: the buffer goes back to the
/// pool when the second is done with it.
private final class BufferOwners: Sendable {
    private let remaining = Atomic<Int>(2)
    private let hasher: PipelinedHasher
    private let buffer: BufferHandOff

    init(hasher: PipelinedHasher, buffer: BufferHandOff) {
        self.hasher = hasher
        self.buffer = buffer
    }

    func finished() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            hasher.release(buffer.buffer)
        }
    }
}

/// A buffer passing from the caller to the write queue; the caller gives it up when it hands
/// it over, so no two threads use it at once.
private struct BufferHandOff: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
}

final class FileBlobReader: BlobReader {
    private var fd: Int32
    let length: Int64

    init(fd: Int32, length: Int64) {
        self.fd = fd
        self.length = length
    }

    deinit { close() }

    func read(at offset: Int64, upTo count: Int) throws -> [UInt8] {
        precondition(fd >= 0, "read after close")
        let wanted = Int(max(0, min(Int64(count), length - offset)))
        if wanted == 0 { return [] }
        return try [UInt8](unsafeUninitializedCapacity: wanted) { buffer, initialized in
            var got = 0
            while got < wanted {
                let n = pread(fd, buffer.baseAddress! + got, wanted - got, off_t(offset) + off_t(got))
                if n < 0, errno == EINTR { continue }
                if n < 0 { throw POSIXFile.error("cannot read a blob") }
                if n == 0 { break }
                got += n
            }
            initialized = got
        }
    }

    func close() {
        if fd >= 0 {
            #if canImport(Glibc)
            Glibc.close(fd)
            #else
            Darwin.close(fd)
            #endif
            fd = -1
        }
    }
}
