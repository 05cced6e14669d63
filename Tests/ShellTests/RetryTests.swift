import Logging
import Synchronization
import Testing
@testable import Shell

/// A fake clock whose sleeps return at once and advance time by exactly the requested delay.
final class FakeClock: Sendable {
    private let offset = Mutex<Duration>(.zero)
    let start = ContinuousClock.now
    let sleeps = Recorder<Duration>()

    func advance(_ d: Duration) { offset.withLock { $0 += d } }

    var environment: RetryEnvironment {
        RetryEnvironment(
            now: { self.start + self.offset.withLock { $0 } },
            sleep: { d in self.sleeps.append(d); self.advance(d) }
        )
    }

    var blockingEnvironment: BlockingRetryEnvironment {
        BlockingRetryEnvironment(
            now: { self.start + self.offset.withLock { $0 } },
            sleep: { d in self.sleeps.append(d); self.advance(d) }
        )
    }
}

struct Flaky: Error, Equatable, CustomStringConvertible {
    let attempt: Int
    var description: String { "flaky failure #\(attempt)" }
}

struct Fatal: Error, Equatable {}

@Suite struct RetryTests {
    @Test func exponentialGrowthIsCappedAtMaxDelay() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), multiplier: 2, maxDelay: .milliseconds(500), jitter: false)
        var rng = SeededGenerator(seed: 1)
        let delays = (1...6).map { policy.delay(beforeRetry: $0, using: &rng) }
        #expect(delays == [100, 200, 400, 500, 500, 500].map { .milliseconds($0) })
    }

    @Test func constantIntervalWithMultiplierOne() {
        let policy = RetryPolicy(initialDelay: .seconds(1), multiplier: 1, jitter: false)
        var rng = SeededGenerator(seed: 1)
        #expect((1...4).map { policy.delay(beforeRetry: $0, using: &rng) } == Array(repeating: .seconds(1), count: 4))
    }

    @Test func hugeRetryCountsSaturateAtMaxDelay() {
        let policy = RetryPolicy(initialDelay: .seconds(1), multiplier: 10, maxDelay: .seconds(30), jitter: false)
        var rng = SeededGenerator(seed: 1)
        #expect(policy.delay(beforeRetry: 10_000, using: &rng) == .seconds(30))
    }

    @Test func fullJitterStaysWithinBoundsAndVaries() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), multiplier: 2, maxDelay: .seconds(1), jitter: true)
        var rng = SeededGenerator(seed: 42)
        var seen = Set<Duration>()
        for retry in 1...8 {
            let cap = min(Duration.milliseconds(100 * (1 << (retry - 1))), .seconds(1))
            for _ in 0..<50 {
                let d = policy.delay(beforeRetry: retry, using: &rng)
                #expect(d >= .zero && d <= cap, "retry \(retry): \(d) outside 0...\(cap)")
                seen.insert(d)
            }
        }
        #expect(seen.count > 100, "jitter should spread delays, got \(seen.count) distinct values")
    }

    @Test func seededJitterIsReproducible() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100))
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        #expect((1...5).map { policy.delay(beforeRetry: $0, using: &a) } == (1...5).map { policy.delay(beforeRetry: $0, using: &b) })
    }

    @Test func retriesUntilSuccessSleepingThePolicyDelays() async throws {
        let clock = FakeClock()
        let attempts = Recorder<Int>()
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), jitter: false)
        let value = try await retry(policy, environment: clock.environment, what: "GET /health", isTransient: { _ in true }) { attempt in
            attempts.append(attempt)
            if attempt < 3 { throw Flaky(attempt: attempt) }
            return "ok"
        }
        #expect(value == "ok")
        #expect(attempts.values == [1, 2, 3])
        #expect(clock.sleeps.values == [.milliseconds(100), .milliseconds(200)])
    }

    @Test func rethrowsTheLastErrorUnchangedWhenAttemptsRunOut() async {
        let clock = FakeClock()
        let policy = RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(10), jitter: false)
        await #expect(throws: Flaky(attempt: 4)) {
            try await retry(policy, environment: clock.environment, what: "x", isTransient: { _ in true }) { attempt -> Int in
                throw Flaky(attempt: attempt)
            }
        }
        #expect(clock.sleeps.values.count == 3)
    }

    @Test func nonTransientErrorIsNotRetried() async {
        let clock = FakeClock()
        let attempts = Recorder<Int>()
        await #expect(throws: Fatal()) {
            try await retry(RetryPolicy(maxAttempts: 5), environment: clock.environment, what: "x",
                            isTransient: { $0 is Flaky }) { attempt -> Int in
                attempts.append(attempt)
                throw Fatal()
            }
        }
        #expect(attempts.values == [1])
        #expect(clock.sleeps.values.isEmpty)
    }

    @Test func noneMeansOneAttempt() async {
        let clock = FakeClock()
        await #expect(throws: Flaky(attempt: 1)) {
            try await retry(.none, environment: clock.environment, what: "x", isTransient: { _ in true }) { attempt -> Int in
                throw Flaky(attempt: attempt)
            }
        }
        #expect(clock.sleeps.values.isEmpty)
    }

    /// Budget 1s, delays 300, 600 (total 0.9s, fits), next 1200 would end at 2.1s: stop after 3 attempts.
    @Test func elapsedBudgetIsRespected() async {
        let clock = FakeClock()
        let attempts = Recorder<Int>()
        let policy = RetryPolicy(maxAttempts: 100, maxElapsed: .seconds(1), initialDelay: .milliseconds(300), maxDelay: .seconds(60), jitter: false)
        await #expect(throws: Flaky(attempt: 3)) {
            try await retry(policy, environment: clock.environment, what: "x", isTransient: { _ in true }) { attempt -> Int in
                attempts.append(attempt)
                throw Flaky(attempt: attempt)
            }
        }
        #expect(attempts.values == [1, 2, 3])
        #expect(clock.sleeps.values == [.milliseconds(300), .milliseconds(600)])
    }

    /// Time spent inside the operation counts against the budget too, not only the sleeps.
    @Test func elapsedBudgetCountsOperationTime() async {
        let clock = FakeClock()
        let policy = RetryPolicy(maxAttempts: 100, maxElapsed: .seconds(10), initialDelay: .milliseconds(100), multiplier: 1, jitter: false)
        await #expect(throws: Flaky(attempt: 2)) {
            try await retry(policy, environment: clock.environment, what: "x", isTransient: { _ in true }) { attempt -> Int in
                clock.advance(.seconds(5))  // each attempt takes 5s: after 2 attempts + 0.1s sleep, 10s passed
                throw Flaky(attempt: attempt)
            }
        }
        #expect(clock.sleeps.values == [.milliseconds(100)])
    }

    @Test func jitteredLoopUsesSeededDelaysWithinBounds() async throws {
        let clock = FakeClock()
        var rng = SeededGenerator(seed: 3)
        let policy = RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(100), jitter: true)
        _ = try? await retry(policy, environment: clock.environment, logger: nil, what: "x", rng: &rng,
                             isTransient: { _ in true }) { attempt -> Int in throw Flaky(attempt: attempt) }
        let delays = clock.sleeps.values
        #expect(delays.count == 3)
        for (i, d) in delays.enumerated() { #expect(d <= .milliseconds(100 * (1 << i))) }
        var replay = SeededGenerator(seed: 3)
        #expect(delays == (1...3).map { policy.delay(beforeRetry: $0, using: &replay) })
    }

    @Test func logsOneRedactedLinePerRetry() async {
        let clock = FakeClock()
        let lines = Recorder<String>()
        let logger = Logger(label: "test") { _ in OpsLogHandler(tool: "deploy", format: .human, color: false, sink: lines.append) }
        let policy = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(400), jitter: false)
        _ = try? await retry(policy, environment: clock.environment, logger: logger, what: "upload",
                             isTransient: { _ in true }) { _ -> Int in
            throw Secretive()
        }
        #expect(lines.values == [
            "deploy: warning: retrying upload in 0.4s (attempt 2/3): B2_APP_KEY=*** rejected\n",
            "deploy: warning: retrying upload in 0.8s (attempt 3/3): B2_APP_KEY=*** rejected\n",
        ])
    }

    @Test func cancellationStopsRetrying() async {
        let attempts = Recorder<Int>()
        let task = Task {
            try await retry(RetryPolicy(maxAttempts: 1000, initialDelay: .seconds(60), jitter: false),
                            what: "x", isTransient: { _ in true }) { attempt -> Int in
                attempts.append(attempt)
                throw Flaky(attempt: attempt)
            }
        }
        while attempts.values.isEmpty { await Task.yield() }
        let cancelledAt = ContinuousClock.now
        task.cancel()
        // Either the 60 s sleep is cut short (CancellationError) or, if the cancel landed before the catch,
        // the failure is rethrown at once; what matters is no further attempt and no waiting.
        await #expect(throws: (any Error).self) { try await task.value }
        #expect(attempts.values == [1])
        #expect(ContinuousClock.now - cancelledAt < .seconds(5))
    }

    // MARK: retryBlocking

    @Test func blockingRetriesTransientFailuresWithThePolicyDelays() throws {
        let clock = FakeClock()
        let attempts = Recorder<Int>()
        let lines = Recorder<String>()
        let logger = Logger(label: "test") { _ in OpsLogHandler(tool: "backup", format: .human, color: false, sink: lines.append) }
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), jitter: false)
        let value = try retryBlocking(policy, environment: clock.blockingEnvironment, logger: logger, what: "part 2",
                                      isTransient: { $0 is Flaky }) { attempt in
            attempts.append(attempt)
            if attempt < 3 { throw Flaky(attempt: attempt) }
            return "ok"
        }
        #expect(value == "ok")
        #expect(attempts.values == [1, 2, 3])
        #expect(clock.sleeps.values == [.milliseconds(100), .milliseconds(200)])
        #expect(lines.values == [
            "backup: warning: retrying part 2 in 0.1s (attempt 2/5): flaky failure #1\n",
            "backup: warning: retrying part 2 in 0.2s (attempt 3/5): flaky failure #2\n",
        ])
    }

    @Test func blockingRethrowsNonTransientAtOnceAndTheLastErrorWhenAttemptsRunOut() {
        let clock = FakeClock()
        let attempts = Recorder<Int>()
        #expect(throws: Fatal()) {
            try retryBlocking(RetryPolicy(maxAttempts: 5), environment: clock.blockingEnvironment, what: "x",
                              isTransient: { $0 is Flaky }) { attempt -> Int in
                attempts.append(attempt)
                throw Fatal()
            }
        }
        #expect(attempts.values == [1])
        #expect(clock.sleeps.values.isEmpty)
        #expect(throws: Flaky(attempt: 3)) {
            try retryBlocking(RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(10), jitter: false),
                              environment: clock.blockingEnvironment, what: "x",
                              isTransient: { _ in true }) { attempt -> Int in throw Flaky(attempt: attempt) }
        }
        #expect(clock.sleeps.values == [.milliseconds(10), .milliseconds(20)])
    }

    @Test func blockingRespectsTheElapsedBudget() {
        let clock = FakeClock()
        let policy = RetryPolicy(maxAttempts: 100, maxElapsed: .seconds(1), initialDelay: .milliseconds(300), maxDelay: .seconds(60), jitter: false)
        #expect(throws: Flaky(attempt: 3)) {
            try retryBlocking(policy, environment: clock.blockingEnvironment, what: "x",
                              isTransient: { _ in true }) { attempt -> Int in throw Flaky(attempt: attempt) }
        }
        #expect(clock.sleeps.values == [.milliseconds(300), .milliseconds(600)])
    }

    @Test func blockingLiveSleepWaitsOnTheThread() throws {
        let attempts = Recorder<Int>()
        let value = try retryBlocking(RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(1), jitter: false),
                                      what: "x", isTransient: { _ in true }) { attempt in
            attempts.append(attempt)
            if attempt == 1 { throw Flaky(attempt: attempt) }
            return attempt
        }
        #expect(value == 2)
        #expect(attempts.values == [1, 2])
    }

    @Test func formatsSecondsForHumans() {
        #expect(formatSeconds(.milliseconds(400)) == "0.4s")
        #expect(formatSeconds(.milliseconds(1250)) == "1.25s")
        #expect(formatSeconds(.seconds(10)) == "10s")
        #expect(formatSeconds(.microseconds(1)) == "0s")
    }
}

private struct Secretive: Error, CustomStringConvertible {
    var description: String { "B2_APP_KEY=abc123 rejected" }
}
