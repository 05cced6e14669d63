import Logging
import OpsCore

/// `health-check`'s job: check several URLs concurrently and report the worst.
public struct HealthCheck: Sendable {
    let probe: HealthProbe

    public init(probe: HealthProbe = HealthProbe()) {
        self.probe = probe
    }

    /// Checks every target at once; results come back in the order the targets were given.
    public func run(_ targets: [HealthTarget], logger: Logger? = nil) async -> HealthReport {
        HealthReport(results: await probe.checkAll(targets, logger: logger), targets: targets)
    }
}

/// Every URL's result and the overall verdict: the worst of them.
public struct HealthReport: Sendable {
    public var results: [HealthResult]
    /// The thresholds each result was judged by, for perfdata.
    var targets: [HealthTarget]

    public init(results: [HealthResult], targets: [HealthTarget]) {
        self.results = results
        self.targets = targets
    }

    public var status: HealthStatus { HealthStatus.worst(results.map(\.status)) }
    public var exitCode: Int32 { status.exitCode }
}
