import Foundation
import Synchronization

/// Slows password guessing and name harvesting: counts failures per key (an account, an
/// address) and, past a free allowance, refuses further attempts for a delay that doubles
/// with each failure, up to a ceiling. A success clears the key.
package final class FailureThrottle: Sendable {
    private struct Record {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
    }

    private let records = Mutex<[String: Record]>([:])
    private let clock = ContinuousClock()
    /// Failures allowed before any delay.
    let allowance: Int
    /// The delay after the first failure past the allowance.
    let firstDelay: Duration
    let maximumDelay: Duration
    /// How long a key's failures are remembered after its last one.
    let memory: Duration

    package init(
        allowance: Int, firstDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(15 * 60),
        memory: Duration = .seconds(60 * 60)
    ) {
        self.allowance = allowance
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.memory = memory
    }

    /// How long `key` must wait before its next attempt, or `nil` when it may go now.
    package func delay(for key: String) -> Duration? {
        let now = clock.now
        return records.withLock { records in
            guard let record = records[key], let until = record.blockedUntil, until > now else { return nil }
            return now.duration(to: until)
        }
    }

    package func recordFailure(for key: String) {
        let now = clock.now
        records.withLock { records in
            var record = records[key] ?? Record(failures: 0, lastFailure: now, blockedUntil: nil)
            if now - record.lastFailure > memory { record.failures = 0 }
            record.failures += 1
            record.lastFailure = now
            if record.failures > allowance {
                let exponent = min(record.failures - allowance - 1, 20)
                let delay = min(firstDelay * (1 << exponent), maximumDelay)
                record.blockedUntil = now + delay
            }
            records[key] = record
            if records.count > 100_000 {
                records = records.filter { now - $0.value.lastFailure < memory }
            }
        }
    }

    package func recordSuccess(for key: String) {
        _ = records.withLock { $0.removeValue(forKey: key) }
    }
}

/// A token bucket per key: `rate` requests per second on average, bursts up to `burst`.
package final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()
    let rate: Double
    let burst: Double

    package init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes a token for `key`; `false` when its bucket is empty.
    package func allow(_ key: String) -> Bool {
        let now = clock.now
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            return allowed
        }
    }
}
