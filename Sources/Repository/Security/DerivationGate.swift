import Foundation
import Synchronization

/// Where password derivations run: on threads of their own, `width` at a time, with at most
/// `maximumWaiting` queued behind them. A derivation is slow and memory-hard on purpose
/// (scrypt: 32 MiB, tens of milliseconds), so a hundred at once would take every core and
/// gigabytes; one at a time (on a 2-core machine) leaves a core to everything else, and a
/// flood past the queue is refused at once (`RepositoryError.busy`) instead of waiting for
/// minutes.
package final class DerivationGate: Sendable {
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)
    package let maximumWaiting: Int

    /// `width` defaults to one less than the core count, at least one.
    package init(width: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1), maximumWaiting: Int = 128) {
        queues = (0..<max(1, width)).map { DispatchQueue(label: "oaken.password-derivation.\($0)") }
        self.maximumWaiting = maximumWaiting
    }

    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard waiting.add(1, ordering: .relaxed).newValue <= maximumWaiting + queues.count else {
            waiting.subtract(1, ordering: .relaxed)
            throw RepositoryError.busy
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        let queue = queues[next.wrappingAdd(1, ordering: .relaxed).oldValue % queues.count]
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: work)) }
        }
    }
}
