import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system calls the blob store needs, with errors turned into `RepositoryError`.
enum POSIXFile {
    static let chunkSize = 1 << 20

    /// Linux's `O_DIRECT`, which Swift's Glibc module does not export (0 elsewhere).
    static let directIO: Int32 = {
        #if os(Linux) && arch(x86_64)
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return 0
        #endif
    }()

    static func error(_ what: String, code: Int32 = errno) -> RepositoryError {
        .storage("\(what): \(String(cString: strerror(code)))")
    }

    /// Writes all of `bytes` at `offset`, leaving the file position alone.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw error("cannot write") }
            done += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw error("cannot write") }
            offset += n
        }
    }

    /// Asks the kernel to start writing a range of a file back to disk without waiting for it
    /// (Linux `sync_file_range` with `SYNC_FILE_RANGE_WRITE`). A later fsync then has less to
    /// wait for. Where the call does not exist this does nothing; fsync still makes the data
    /// durable.
    static func startWriteback(_ fd: Int32, offset: Int64, count: Int64) {
        _ = syncFileRange?(fd, offset, count, 2 /* SYNC_FILE_RANGE_WRITE */)
    }

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    /// Looked up at run time: Swift's Glibc module hides this GNU extension.
    private static let syncFileRange: SyncFileRange? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
    }()

    /// Flushes every file system buffer of the file system that holds `path` (Linux
    /// `syncfs`); elsewhere, of all file systems.
    static func syncFileSystem(containing path: String) throws {
        guard let syncfs = syncFileSystem else {
            sync()
            return
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open \(path)") }
        defer { close(fd) }
        guard syncfs(fd) == 0 else { throw error("cannot sync \(path)") }
    }

    private typealias SyncFS = @convention(c) (Int32) -> Int32

    private static let syncFileSystem: SyncFS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: SyncFS.self)
    }()

    /// Creates a directory and its missing parents. With `syncingParents`, each directory that
    /// gains a new entry is fsynced, so a new path survives a power cut.
    static func makeDirectory(_ path: String, syncingParents: Bool = false) throws {
        if access(path, F_OK) == 0 { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path {
            try makeDirectory(parent, syncingParents: syncingParents)
        }
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw error("cannot create the folder \(path)")
        }
        if syncingParents { try syncDirectory(parent) }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open the folder \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("cannot sync the folder \(path)") }
    }

    /// The names in a directory, without `.` and `..`; a missing directory has none.
    static func entries(of path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw error("cannot list \(path)")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
