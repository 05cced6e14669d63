/// What an app's health endpoint says about itself, read from the documents our users' apps return:
/// `{"status": "healthy", "checks": {"database": {"status": "up", "latencyMs": 5}, "cache": true}}`.
public struct HealthDocument: Sendable, Equatable {
    /// The top-level `status` as the app wrote it (`healthy`, `degraded`, …), if any.
    public var reportedStatus: String?
    /// What `reportedStatus` means; nil when the document has none.
    public var status: HealthStatus?
    /// Every member of `checks` that is not up, in name order.
    public var failingChecks: [FailingCheck]
    /// Every member of `checks`, with latencies where given (for JSON output and perfdata).
    public var checks: [FailingCheck]

    public init(json: JSONValue) {
        reportedStatus = json["status"]?.stringValue
        status = reportedStatus.map(Self.meaning(of:))
        var all: [FailingCheck] = []
        if case .object(let members)? = json["checks"] {
            for name in members.keys.sorted() {
                guard let value = members[name] else { continue }
                all.append(Self.check(named: name, value))
            }
        }
        checks = all
        failingChecks = all.filter { $0.isFailing }
    }

    /// `healthy`/`ok`/`up`/`pass` are OK, `degraded`/`warn` WARNING, `unhealthy`/`down`/`error`/`fail`
    /// CRITICAL (case-insensitive). Anything else is WARNING: the app said something we cannot vouch for.
    public static func meaning(of reported: String) -> HealthStatus {
        switch reported.lowercased() {
        case "healthy", "ok", "up", "pass", "passing": .ok
        case "degraded", "warn", "warning": .warning
        case "unhealthy", "down", "error", "fail", "failing", "critical": .critical
        default: .warning
        }
    }

    static func check(named name: String, _ value: JSONValue) -> FailingCheck {
        switch value {
        case .bool(let up):
            return FailingCheck(name: name, status: up ? "up" : "down", latencyMs: nil)
        case .object(let o):
            let status = o["status"]?.stringValue ?? (o["healthy"] == .bool(false) ? "down" : "up")
            var latency: Double?
            if case .number(let ms)? = o["latencyMs"] { latency = ms }
            return FailingCheck(name: name, status: status, latencyMs: latency)
        case .string(let s):
            return FailingCheck(name: name, status: s, latencyMs: nil)
        default:
            return FailingCheck(name: name, status: value.scalarText, latencyMs: nil)
        }
    }
}

/// One member of an app's `checks`: `database (down)`.
public struct FailingCheck: Sendable, Codable, Equatable, CustomStringConvertible {
    public var name: String
    public var status: String
    public var latencyMs: Double?

    public init(name: String, status: String, latencyMs: Double?) {
        self.name = name
        self.status = status
        self.latencyMs = latencyMs
    }

    public var isFailing: Bool { HealthDocument.meaning(of: status) != .ok }
    public var description: String { "\(name) (\(status))" }
}
