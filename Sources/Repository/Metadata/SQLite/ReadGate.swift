import GRDB
import Synchronization

/// Admits at most as many concurrent reads as the pool has reader connections; the others
/// wait here, suspended, holding no thread.
///
/// Without it, a read beyond the pool's size waits for a free connection by blocking a
/// thread. On a machine with few cores, a burst of concurrent requests then parks every
/// thread the readers themselves need to finish, and the server stops for good (seen under
/// 8 concurrent requests on 2 cores).
package final class ReadGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    package init(permits: Int) {
        state = Mutex(State(available: permits))
    }

    package func enter() async {
        // A free permit is taken without suspending: a continuation, even one resumed at
        // once, sends the task back through its executor's queue.
        if tryEnter() { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    /// Takes a permit if one is free, without waiting.
    package func tryEnter() -> Bool {
        state.withLock { state in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
    }

    package func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension DatabasePool {
    /// A short read (point lookups, small trees), admitted by `gate`, run on the calling
    /// thread. Handing each lookup to a reader's queue and back costs more than the lookup
    /// itself (several thread switches per request), and once admitted the read never waits
    /// for a connection.
    package func read<T: Sendable>(through gate: ReadGate, _ body: @Sendable (Database) throws -> T) async throws -> T {
        await gate.enter()
        defer { gate.leave() }
        return try readHere(body)
    }

    /// The synchronous `read` (a synchronous context picks that overload).
    private func readHere<T>(_ body: (Database) throws -> T) throws -> T {
        try read(body)
    }

    /// A read that may take long (a full-text search), admitted by `gate`, run on a reader's
    /// own queue so that it holds none of Swift's few cooperative threads meanwhile.
    package func longRead<T: Sendable>(through gate: ReadGate, _ body: @Sendable (Database) throws -> T) async throws -> T {
        await gate.enter()
        defer { gate.leave() }
        return try await read(body)
    }
}
