import Foundation
import Repository
import Synchronization
import Testing

/// Password derivations run a few at a time with a bounded queue, and verified credentials
/// are shared by concurrent checks and kept only as an HMAC.
@Suite struct DerivationGateTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        let most = Atomic<Int>(0)
    }

    @Test func derivationsRunOneAtATimeAndAFloodPastTheQueueIsRefused() async throws {
        let gate = DerivationGate(width: 1, maximumWaiting: 4)
        let counter = Counter()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        try await gate.run {
                            let now = counter.value.add(1, ordering: .relaxed).newValue
                            _ = counter.most.max(now, ordering: .relaxed)
                            usleep(20_000)
                            counter.value.subtract(1, ordering: .relaxed)
                        }
                        return true
                    } catch {
                        #expect(error as? RepositoryError == .busy)
                        return false
                    }
                }
            }
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(counter.most.load(ordering: .relaxed) == 1)
        #expect(results.contains(false), "past the queue, callers are refused at once")
        #expect(results.filter { $0 }.count >= 5, "the running one and the queue finish")
    }

    @Test func concurrentChecksOfTheSameCredentialsShareOneVerification() async throws {
        let credentials = VerifiedCredentials()
        let verifications = Counter()
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await credentials.userID(loginName: "Ada", password: "engine") {
                        verifications.value.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(50))
                        return "u1"
                    }
                }
            }
            var ids: [String?] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(ids.allSatisfy { $0 == "u1" })
        #expect(verifications.value.load(ordering: .relaxed) == 1)
        // Kept: no second verification; a wrong password is verified (and not kept).
        let again = try await credentials.userID(loginName: "ada", password: "engine") { Issue.record("verified again"); return nil }
        #expect(again == "u1")
        #expect(try await credentials.userID(loginName: "ada", password: "Engine") { nil } == nil)
        credentials.forget(userID: "u1")
        #expect(try await credentials.userID(loginName: "ada", password: "engine") { nil } == nil, "forgotten after a change")
    }
}
