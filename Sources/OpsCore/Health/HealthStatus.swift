/// A health verdict with the Monitoring Plugins exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
public enum HealthStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case ok = "OK"
    case warning = "WARNING"
    case critical = "CRITICAL"
    case unknown = "UNKNOWN"

    public var exitCode: Int32 {
        switch self {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        case .unknown: 3
        }
    }

    /// Ordering for "the worst of several": a definite failure outranks not knowing.
    public var severity: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .unknown: 2
        case .critical: 3
        }
    }

    public static func worst(_ statuses: some Sequence<HealthStatus>) -> HealthStatus {
        statuses.max { $0.severity < $1.severity } ?? .unknown
    }

    public var description: String { rawValue }
}
