import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BlobStore {
    /// Stages the contents of a file, streaming it through a fixed buffer. Without `durably`,
    /// see `BlobWriter.finish(durably:)`.
    package func stage(fileAt path: String, durably: Bool = true) throws -> StagedBlob {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw RepositoryError.notFound(kind: "file", id: path) }
            throw POSIXFile.error("cannot open \(path)")
        }
        defer { close(fd) }
        let writer = try beginWrite()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: POSIXFile.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n < 0 {
                let error = POSIXFile.error("cannot read \(path)")
                writer.cancel()
                throw error
            }
            if n == 0 { break }
            try writer.append(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
        return try writer.finish(durably: durably)
    }

    /// Stages a stream of chunks. When the stream throws, the write is cancelled and the error
    /// rethrown: nothing of it stays behind.
    package func stage<Chunks: AsyncSequence>(_ chunks: Chunks) async throws -> StagedBlob
    where Chunks.Element: ContiguousBytes {
        let writer = try beginWrite()
        do {
            for try await chunk in chunks {
                try writer.append(chunk)
            }
            return try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
    }
}
