import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One deploy or rollback, as the journal keeps it (the fields our users' data model names).
public struct Deployment: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case pending, inProgress = "in_progress", healthCheck = "health_check", success, failed
        /// Went live, failed the watch, and was switched back automatically.
        case rolledBack = "rolled_back"
    }

    public enum Kind: String, Codable, Sendable { case deploy, rollback }

    /// Timestamp-based, sortable: `20260120_143000` (UTC), `_2` appended on a same-second clash.
    public var id: String
    public var kind: Kind
    public var environment: String
    public var commitSha: String?
    public var imageTag: String
    /// The full reference deployed: `registry/app:tag`.
    public var image: String
    public var imageID: String?
    /// Which slot it ran in (blue-green) and on which host port.
    public var color: String?
    public var port: Int?
    public var strategy: String
    public var status: Status
    public var startedAt: Date
    public var completedAt: Date?
    public var healthCheckPassed: Bool
    /// The image tag that was serving before this one.
    public var previousVersion: String?
    /// Why it failed, in one line.
    public var reason: String?

    public init(id: String, kind: Kind, environment: String, commitSha: String?, imageTag: String, image: String,
                imageID: String? = nil, color: String? = nil, port: Int? = nil, strategy: String,
                status: Status = .pending, startedAt: Date, completedAt: Date? = nil, healthCheckPassed: Bool = false,
                previousVersion: String? = nil, reason: String? = nil) {
        self.id = id
        self.kind = kind
        self.environment = environment
        self.commitSha = commitSha
        self.imageTag = imageTag
        self.image = image
        self.imageID = imageID
        self.color = color
        self.port = port
        self.strategy = strategy
        self.status = status
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.healthCheckPassed = healthCheckPassed
        self.previousVersion = previousVersion
        self.reason = reason
    }

    /// Seconds from start to completion, when completed.
    public var duration: Double? { completedAt.map { $0.timeIntervalSince(startedAt) } }

    /// `20260120_143000` for a date, in UTC.
    public static func makeID(at date: Date, existing: Set<String>) -> String {
        let base = Timestamp.compact(date)
        guard existing.contains(base) else { return base }
        var n = 2
        while existing.contains("\(base)_\(n)") { n += 1 }
        return "\(base)_\(n)"
    }
}

/// UTC time stamps without Foundation's formatters (FoundationEssentials has none for custom patterns).
enum Timestamp {
    /// `YYYYMMDD_HHMMSS` in UTC.
    static func compact(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))_\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}
