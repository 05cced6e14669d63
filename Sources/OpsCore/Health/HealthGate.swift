import Logging

/// Waits until a URL has answered healthy N times in a row, within a time budget.
///
/// What deploy and restore need before they send traffic to something new: one lucky answer from an app
/// that is still starting is not enough, so successes must be consecutive.
public struct HealthGate: Sendable {
    public var successes: Int
    public var budget: Duration
    public var interval: Duration
    let probe: HealthProbe

    public init(successes: Int = 2, budget: Duration = .seconds(30), interval: Duration = .seconds(1),
                probe: HealthProbe = HealthProbe()) {
        self.successes = max(1, successes)
        self.budget = budget
        self.interval = interval
        self.probe = probe
    }

    /// The outcome: passed, or the last answer seen when the budget ran out.
    public struct Outcome: Sendable {
        public var passed: Bool
        public var checks: Int
        public var last: HealthResult?
        public var elapsed: Duration
    }

    public func wait(for url: String, timeout: Duration = .seconds(5), logger: Logger? = nil) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        var streak = 0
        var checks = 0
        var last: HealthResult?
        while true {
            try Task.checkCancellation()
            let remaining = budget - (clock.now - start)
            let target = HealthTarget(url: url, timeout: min(timeout, max(remaining, .milliseconds(200))))
            let result = await probe.check(target)
            checks += 1
            last = result
            if result.status == .ok {
                streak += 1
                if streak >= successes {
                    return Outcome(passed: true, checks: checks, last: result, elapsed: clock.now - start)
                }
            } else {
                if streak > 0 { logger?.debug("health streak broken at \(url): \(result.summary)") }
                streak = 0
            }
            if clock.now - start + interval > budget {
                return Outcome(passed: false, checks: checks, last: last, elapsed: clock.now - start)
            }
            try await Task.sleep(for: interval)
        }
    }
}
