import FoundationEssentials
import OpsCore

/// One check's verdict: what was measured, against which thresholds, and what state that makes.
///
/// `id` is stable from run to run (`disk:/`, `container:web`, `tls:example.com`): alert state is kept per id.
/// A check that could not run is `.unknown` with the reason in `summary`, never silently OK.
public struct CheckResult: Sendable, Equatable {
    public var id: String
    /// The kind of check: disk, inodes, memory, swap, load, container, health, tls, backup, reboot.
    public var check: String
    public var state: HealthStatus
    /// One line for people: `/ 83 % used (41.2 of 49.6 GiB)`.
    public var summary: String
    /// The measured number the thresholds apply to, if there is one.
    public var value: Double?
    /// What `value` is in: `%`, `per core`, `days`, `hours`, `restarts`.
    public var unit: String?
    public var warning: Double?
    public var critical: Double?
    /// Which thing was measured: mount, container, url, domain … (Prometheus labels too).
    public var labels: [String: String]

    public init(id: String, check: String, state: HealthStatus, summary: String, value: Double? = nil,
                unit: String? = nil, warning: Double? = nil, critical: Double? = nil, labels: [String: String] = [:]) {
        self.id = id
        self.check = check
        self.state = state
        self.summary = summary
        self.value = value
        self.unit = unit
        self.warning = warning
        self.critical = critical
        self.labels = labels
    }

    /// A check that could not run, and why.
    public static func unknown(id: String, check: String, _ reason: String, labels: [String: String] = [:]) -> CheckResult {
        CheckResult(id: id, check: check, state: .unknown, summary: reason, labels: labels)
    }
}

/// Thresholds where a bigger value is worse (percent used, load): WARNING at `warning`, CRITICAL at `critical`.
public struct UpperThresholds: Sendable, Equatable {
    public var warning: Double
    public var critical: Double

    public init(warning: Double, critical: Double) {
        self.warning = warning
        self.critical = critical
    }

    public func state(_ value: Double) -> HealthStatus {
        value >= critical ? .critical : value >= warning ? .warning : .ok
    }
}

/// Thresholds where a smaller value is worse (memory available, days left): WARNING below `warning`.
public struct LowerThresholds: Sendable, Equatable {
    public var warning: Double
    public var critical: Double

    public init(warning: Double, critical: Double) {
        self.warning = warning
        self.critical = critical
    }

    public func state(_ value: Double) -> HealthStatus {
        value < critical ? .critical : value < warning ? .warning : .ok
    }
}

/// Every check of one run.
public struct MonitorReport: Sendable {
    public var results: [CheckResult]
    public var startedAt: Date
    public var duration: Duration
    public var host: String

    public init(results: [CheckResult], startedAt: Date, duration: Duration, host: String) {
        self.results = results
        self.startedAt = startedAt
        self.duration = duration
        self.host = host
    }

    /// The worst state of any check (a definite failure outranks not knowing); OK when there are none.
    public var state: HealthStatus { results.isEmpty ? .ok : HealthStatus.worst(results.map(\.state)) }
    public var exitCode: Int32 { state.exitCode }
}
