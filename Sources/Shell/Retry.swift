import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How often and how patiently ``retry(_:environment:logger:what:isTransient:operation:)`` tries again.
///
/// Delays grow exponentially from `initialDelay` by `multiplier`, are capped at `maxDelay`, and with
/// `jitter` use "full jitter" (a uniform pick in `0 ... computed`) so many clients retrying the same
/// failed service do not hit it in lockstep.
public struct RetryPolicy: Sendable {
    /// Total attempts including the first; values below 1 count as 1.
    public var maxAttempts: Int
    /// Stop when the next delay would end after this budget, measured from the start of the first attempt.
    public var maxElapsed: Duration?
    /// The delay before the first retry, before jitter.
    public var initialDelay: Duration
    /// Growth factor per retry; 1.0 keeps a constant interval. Values below 0 count as 0.
    public var multiplier: Double
    /// Upper bound for any single delay, before jitter.
    public var maxDelay: Duration
    /// Full jitter: each delay is a uniform pick in `0 ... computed`.
    public var jitter: Bool

    public init(
        maxAttempts: Int = 3,
        maxElapsed: Duration? = nil,
        initialDelay: Duration = .milliseconds(200),
        multiplier: Double = 2,
        maxDelay: Duration = .seconds(10),
        jitter: Bool = true
    ) {
        self.maxAttempts = maxAttempts
        self.maxElapsed = maxElapsed
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay to wait before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int, using rng: inout some RandomNumberGenerator) -> Duration {
        let capNanos = max(0, Self.nanoseconds(maxDelay))
        let base = Double(max(0, Self.nanoseconds(initialDelay)))
        let factor = multiplier.isNaN ? 1 : max(0, multiplier)
        // Computed in Double so large retry counts saturate (to +inf) instead of overflowing Int64.
        let grown = base * pow(factor, exponent: max(0, retry - 1))
        let computed = grown >= Double(capNanos) ? capNanos : Int64(grown)
        guard jitter, computed > 0 else { return .nanoseconds(computed) }
        return .nanoseconds(Int64.random(in: 0...computed, using: &rng))
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (seconds < 0 ? .min : .max) : sum
    }

    // Repeated multiplication: exact for the small exponents used here, and it stops once it saturates.
    private func pow(_ x: Double, exponent n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n {
            result *= x
            if result.isInfinite || result == 0 { break }
        }
        return result
    }
}

/// The clock and sleep that ``retry(_:environment:logger:what:isTransient:operation:)`` uses, injectable so tests run
/// in milliseconds and can record every delay.
///
/// `now` is a monotonic instant; only differences between two calls matter.
public struct RetryEnvironment: Sendable {
    public var now: @Sendable () -> ContinuousClock.Instant
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        now: @escaping @Sendable () -> ContinuousClock.Instant,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.now = now
        self.sleep = sleep
    }

    /// The real continuous clock and `Task.sleep`, which throws `CancellationError` when the task is cancelled.
    public static let live = RetryEnvironment(
        now: { ContinuousClock.now },
        sleep: { try await Task.sleep(for: $0) }
    )
}

/// Runs `operation` until it succeeds, retrying transient failures as `policy` allows.
///
/// The last error is rethrown unchanged (same type and value) when the attempts or the elapsed budget run
/// out, and immediately when `isTransient` says it is not transient. Cancellation stops retrying: a
/// cancelled task gets `CancellationError` from the sleep, or the operation's own error if it failed after
/// the cancellation. Each retry logs one redacted line: `retrying <what> in 0.4s (attempt 2/5): <error>`.
///
/// - Parameters:
///   - policy: Attempts, elapsed budget and delays.
///   - environment: Clock and sleep; `.live` outside tests.
///   - logger: Where the retry lines go; nil logs nothing.
///   - what: A short description of the operation for the log line, e.g. `"GET https://…/health"`.
///   - isTransient: Whether an error is worth another attempt. Never say yes to a declined prompt or a
///     generic non-zero exit.
///   - operation: The work; receives the attempt number, starting at 1.
public func retry<T: Sendable>(
    _ policy: RetryPolicy,
    environment: RetryEnvironment = .live,
    logger: Logger? = nil,
    what: String,
    isTransient: @Sendable (any Error) -> Bool,
    operation: (_ attempt: Int) async throws -> T
) async throws -> T {
    var rng = SystemRandomNumberGenerator()
    return try await retry(policy, environment: environment, logger: logger, what: what, rng: &rng,
                           isTransient: isTransient, operation: operation)
}

/// The retry loop with an injectable random source, so tests can seed the jitter.
func retry<T: Sendable>(
    _ policy: RetryPolicy,
    environment: RetryEnvironment,
    logger: Logger?,
    what: String,
    rng: inout some RandomNumberGenerator,
    isTransient: @Sendable (any Error) -> Bool,
    operation: (_ attempt: Int) async throws -> T
) async throws -> T {
    let start = environment.now()
    var attempt = 1
    while true {
        do {
            return try await operation(attempt)
        } catch {
            // A cancelled task wants to stop, not to wait out a backoff.
            guard !Task.isCancelled, !(error is CancellationError) else { throw error }
            guard let delay = policy.nextDelay(after: attempt, failedWith: error, elapsed: environment.now() - start,
                                               isTransient: isTransient, logger: logger, what: what, rng: &rng)
            else { throw error }
            try await environment.sleep(delay)
            attempt += 1
        }
    }
}

/// The clock and sleep of ``retryBlocking(_:environment:logger:what:isTransient:operation:)``.
public struct BlockingRetryEnvironment: Sendable {
    public var now: @Sendable () -> ContinuousClock.Instant
    public var sleep: @Sendable (Duration) -> Void

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant, sleep: @escaping @Sendable (Duration) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The real continuous clock; the sleep blocks the calling thread (nanosleep).
    public static let live = BlockingRetryEnvironment(now: { ContinuousClock.now }, sleep: { sleepBlocking($0) })
}

/// ``retry(_:environment:logger:what:isTransient:operation:)`` for code on threads of its own (the backup
/// pipeline's store uploads): the same policy, log line and rules, but the waits block the calling thread.
/// Never call it from a Swift concurrency task.
public func retryBlocking<T>(
    _ policy: RetryPolicy,
    environment: BlockingRetryEnvironment = .live,
    logger: Logger? = nil,
    what: String,
    isTransient: (any Error) -> Bool,
    operation: (_ attempt: Int) throws -> T
) throws -> T {
    var rng = SystemRandomNumberGenerator()
    let start = environment.now()
    var attempt = 1
    while true {
        do {
            return try operation(attempt)
        } catch {
            guard let delay = policy.nextDelay(after: attempt, failedWith: error, elapsed: environment.now() - start,
                                               isTransient: isTransient, logger: logger, what: what, rng: &rng)
            else { throw error }
            environment.sleep(delay)
            attempt += 1
        }
    }
}

extension RetryPolicy {
    /// After attempt `attempt` failed: the delay before the next one (logging the retry line), or nil when
    /// the error is not transient, the attempts are used up, or the wait would overrun `maxElapsed`.
    func nextDelay(after attempt: Int, failedWith error: any Error, elapsed: Duration,
                   isTransient: (any Error) -> Bool, logger: Logger?, what: String,
                   rng: inout some RandomNumberGenerator) -> Duration? {
        let maxAttempts = max(1, self.maxAttempts)
        guard attempt < maxAttempts, isTransient(error) else { return nil }
        let delay = delay(beforeRetry: attempt, using: &rng)
        if let budget = maxElapsed, elapsed + delay > budget { return nil }
        logger?.warning("\(Redactor.redact("retrying \(what) in \(formatSeconds(delay)) (attempt \(attempt + 1)\(maxAttempts == Int.max ? "" : "/\(maxAttempts)")): \(error)"))")
        return delay
    }
}

/// Blocks the calling thread for `duration` (resuming after signals until the time has passed).
func sleepBlocking(_ duration: Duration) {
    let nanos = max(0, RetryPolicy.nanoseconds(duration))
    var request = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// `0.4s`, `1.25s`, `10s`: millisecond precision, trailing zeros dropped.
func formatSeconds(_ duration: Duration) -> String {
    let millis = (RetryPolicy.nanoseconds(duration) + 500_000) / 1_000_000
    let whole = millis / 1000
    let fraction = millis % 1000
    guard fraction != 0 else { return "\(whole)s" }
    var digits = String(fraction)
    digits = String(repeating: "0", count: 3 - digits.count) + digits
    while digits.hasSuffix("0") { digits.removeLast() }
    return "\(whole).\(digits)s"
}
