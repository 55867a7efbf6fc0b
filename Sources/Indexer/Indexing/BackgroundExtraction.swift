import Synchronization

/// Extraction for a running server: each upload wakes it, and it drains the queue in the
/// background, so an item becomes searchable by its text within about a second of its
/// extraction. One drain runs at a time; a wake during a drain makes it look again once done.
package final class BackgroundExtraction: Sendable {
    package let workers: ExtractionWorkers
    private let concurrency: Int
    private let onError: @Sendable (any Error) -> Void
    private let state = Mutex(State())

    private struct State {
        var running = false
        var again = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    package init(workers: ExtractionWorkers, concurrency: Int, onError: @escaping @Sendable (any Error) -> Void) {
        self.workers = workers
        self.concurrency = max(1, concurrency)
        self.onError = onError
    }

    /// Something was queued: drain the queue now, or after the drain in progress.
    package func wake() {
        let start = state.withLock { state -> Bool in
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            return true
        }
        if start {
            Task.detached { await self.run() }
        }
    }

    /// Returns once no drain is running or due: everything queued before the call is
    /// extracted and indexed (or has failed and been reported).
    package func idle() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if !state.running { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func run() async {
        while true {
            do {
                try await workers.drain(concurrency: concurrency)
            } catch {
                onError(error)
            }
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                if state.again {
                    state.again = false
                    return nil
                }
                state.running = false
                defer { state.idleWaiters = [] }
                return state.idleWaiters
            }
            guard let waiters else { continue }
            for waiter in waiters { waiter.resume() }
            return
        }
    }
}
