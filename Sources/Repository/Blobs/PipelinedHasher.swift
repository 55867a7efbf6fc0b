import Crypto
import Dispatch
import Foundation

/// SHA-256 on a thread of its own, fed with filled buffers from a small pool.
///
/// Hashing is the slowest step of storing a blob. Done on a second core, it overlaps the
/// caller's reads and writes, so storing a file costs little more than hashing it. The pool
/// bounds memory: a caller that outruns the hasher waits for a buffer.
final class PipelinedHasher: @unchecked Sendable {
    // @unchecked: `hasher` is touched only on `queue`, and `pool` only under `lock`; buffers
    // move between the caller and the queue through `submit`, never shared while in use.
    static let bufferSize = 512 << 10
    static let bufferCount = 8

    private let queue = DispatchQueue(label: "oaken.blob-hasher")
    private let slots = DispatchSemaphore(value: PipelinedHasher.bufferCount)
    private let lock = NSLock()
    private var pool: [UnsafeMutableRawBufferPointer] = []
    private var allocated: [UnsafeMutableRawBufferPointer] = []
    private var hasher = SHA256()

    /// Takes a buffer of `bufferSize` bytes, waiting while all are in the hasher's hands.
    func acquire() -> UnsafeMutableRawBufferPointer {
        slots.wait()
        return lock.withLock {
            if let buffer = pool.popLast() { return buffer }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
            allocated.append(buffer)
            return buffer
        }
    }

    /// Hands over the first `count` bytes of an acquired buffer for hashing, in order, and
    /// calls `hashed` once they are (the caller then still owns the buffer).
    func submit(_ buffer: UnsafeMutableRawBufferPointer, count: Int, hashed: @escaping @Sendable () -> Void) {
        let handOff = HandOff(buffer: buffer)
        queue.async {
            self.hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: handOff.buffer[..<count]))
            hashed()
        }
    }

    /// A buffer passing from the caller to the hashing queue; the caller gives it up when it
    /// submits it, so no two threads use it at once.
    private struct HandOff: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
    }

    /// Returns an acquired buffer that will not be submitted.
    func release(_ buffer: UnsafeMutableRawBufferPointer) {
        lock.withLock { pool.append(buffer) }
        slots.signal()
    }

    /// The digest of everything submitted, once it is all hashed.
    func finalize() -> SHA256.Digest {
        queue.sync { hasher.finalize() }
    }

    deinit {
        // Each submitted block holds a reference until it is done with its buffer, so no
        // hashing is in flight here (this may even run on `queue`, after the last block).
        for buffer in allocated { buffer.deallocate() }
    }
}
