#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What the monitor remembers about one check between runs.
public struct CheckAlertState: Sendable, Equatable, Codable {
    /// The state the check had in the last run.
    public var state: HealthStatus
    /// Non-OK runs in a row, this one included; 0 while OK.
    public var failures: Int
    /// When the check entered `state` (the first run that saw it).
    public var since: Date
    /// When the current run of non-OK results began; nil while OK.
    public var failingSince: Date?
    /// The state people were last told about, while an alert is open; nil when nothing is outstanding.
    public var alerted: HealthStatus?
    /// When a message about this check last went out (alert, change, reminder or recovery).
    public var lastNotified: Date?
    /// The last run's one-line summary, for a recovery message when the check disappears.
    public var summary: String

    public init(state: HealthStatus, failures: Int = 0, since: Date, failingSince: Date? = nil,
                alerted: HealthStatus? = nil, lastNotified: Date? = nil, summary: String = "") {
        self.state = state
        self.failures = failures
        self.since = since
        self.failingSince = failingSince
        self.alerted = alerted
        self.lastNotified = lastNotified
        self.summary = summary
    }
}

/// Everything the monitor keeps between runs, as `<state dir>/monitor-state.json`.
public struct AlertState: Sendable, Equatable, Codable {
    /// The file format; bumped when a change would confuse an older opskit.
    public var version: Int
    /// Per check id (`disk:/`, `container:web`).
    public var checks: [String: CheckAlertState]
    /// Restart counts per container, kept by the container check to see restarts between runs.
    /// The alert engine leaves this alone.
    public var restarts: [String: Int]

    public init(checks: [String: CheckAlertState] = [:], restarts: [String: Int] = [:]) {
        version = 1
        self.checks = checks
        self.restarts = restarts
    }

    private enum CodingKeys: String, CodingKey { case version, checks, restarts }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        checks = try container.decodeIfPresent([String: CheckAlertState].self, forKey: .checks) ?? [:]
        restarts = try container.decodeIfPresent([String: Int].self, forKey: .restarts) ?? [:]
    }
}

/// Reads and writes ``AlertState`` at `<state dir>/monitor-state.json`.
///
/// Writes are atomic (temporary file, fsync, rename, directory fsync), so a crash leaves the old state or
/// the new one. A file that cannot be read or parsed must not stop monitoring: it is moved aside as
/// `monitor-state.json.corrupt-<UTC time>` with a warning and the monitor starts from empty state.
public struct AlertStateStore: Sendable {
    public static let fileName = "monitor-state.json"
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/" + Self.fileName
    }

    /// The saved state; empty when there is none yet or when the file was unusable (then moved aside).
    public func load(now: Date, logger: Logger?) -> AlertState {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code != ENOENT {
                logger?.warning("cannot look at \(path): \(String(cString: strerror(code))); starting with empty monitor state (check the state directory's permissions)")
            }
            return AlertState()
        }
        let problem: String
        if let bytes = AtomicFile.read(path) {
            if let document = JSONValue.parse(bytes), let state = AlertState(json: document) { return state }
            problem = "it is not valid monitor state JSON"
        } else {
            problem = "it cannot be read"
        }
        let aside = path + ".corrupt-" + Self.compactUTC(now)
        let moved = rename(path, aside) == 0
        let code = errno
        if moved {
            logger?.warning("\(path) was unusable (\(problem)); moved it to \(aside) and started with empty monitor state (alerts may repeat once)")
        } else {
            logger?.warning("\(path) is unusable (\(problem)) and could not be moved aside (\(String(cString: strerror(code)))); starting with empty monitor state (fix or remove the file)")
        }
        return AlertState()
    }

    /// Writes `state` atomically, readable by the owner only; nothing when the file already holds exactly that.
    /// Most runs change nothing (no transition, no restart), and the write's two fsyncs cost a cron run more
    /// than all its checks.
    public func save(_ state: AlertState) throws {
        let bytes = Array(state.json.serialized().utf8) + [0x0A]
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o777 == 0o600,
           info.st_size == bytes.count, AtomicFile.read(path) == bytes {
            return
        }
        try AtomicFile.write(bytes, to: path, permissions: 0o600)
    }

    /// `20260501T120000Z`: sortable and safe in a file name.
    static func compactUTC(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }
}
