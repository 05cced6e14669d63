import Backup
import FoundationEssentials
import OpsCore

/// What `monitor` checks and whom it tells, from `opskit.yml`'s `monitor:` section (flags win; see
/// docs/monitor.md). Everything has a default: with no file at all it checks the host and Docker.
public struct MonitorSettings: Sendable {
    public var app: String
    public var healthURLs: [String]
    public var domains: [String]
    public var expectedContainers: [String]
    /// The Docker Engine API socket; nil when this host has no Docker (`docker_socket: none`).
    public var dockerSocket: String?
    public var dockerRoot: String?
    public var thresholds = MonitorThresholds()
    /// Where `backup-db` writes; nil: no backup check (no `backup:` section and no `monitor.backup`).
    public var backupStore: StoreSpec?
    /// Failing runs in a row before a check alerts.
    public var alertAfter = 2
    /// How often a check that stays broken is reminded.
    public var reminder: Duration = .seconds(4 * 3600)
    public var webhooks: [Webhook] = []
    /// Dead-man URL pinged at the end of every run (`/fail` appended when not OK).
    public var ping: String?
    /// A CA bundle to trust besides the system's, for health URLs and certificates (a private CA).
    public var caFile: String?

    public init(app: String = "app", healthURLs: [String] = [], domains: [String] = [], expectedContainers: [String] = [],
                dockerSocket: String? = "/var/run/docker.sock", dockerRoot: String? = "/var/lib/docker") {
        self.app = app
        self.healthURLs = healthURLs
        self.domains = domains
        self.expectedContainers = expectedContainers
        self.dockerSocket = dockerSocket
        self.dockerRoot = dockerRoot
    }

    static let knownKeys: Set<String> = [
        "health", "domains", "containers", "docker_socket", "docker_root", "thresholds", "backup", "alert", "ping", "ca_file",
    ]
    static let knownThresholds: Set<String> = [
        "disk", "inodes", "memory_available", "swap", "load_per_core", "certificate_days", "backup_age_hours",
    ]
    static let knownAlertKeys: Set<String> = ["after", "reminder", "slack", "discord", "webhook", "ntfy"]

    /// Reads the settings. Health URLs default to `health.url` and every `environments.<name>.health_url`;
    /// TLS domains to the hosts of the https ones; the socket to `DOCKER_HOST` when it is `unix://…`.
    public static func resolve(config: OpsConfig, environment: [String: String]) throws(MonitorSettingsError) -> MonitorSettings {
        let file = config.path ?? OpsConfig.fileName
        var settings = MonitorSettings()
        let section: [String: JSONValue]
        switch config.root["monitor"] {
        case .object(let object)?: section = object
        case nil, .null?: section = [:]
        case let other?: throw .invalid(key: "monitor", value: other.scalarText, expected: "a mapping (in \(file))")
        }
        try rejectUnknown(section, known: knownKeys, prefix: "monitor", file: file)

        settings.app = try string(config.root["app"], key: "app", file: file) ?? "app"

        // Health URLs.
        if let listed = try strings(section["health"], key: "monitor.health", file: file) {
            settings.healthURLs = listed
        } else {
            var urls = try strings(config.root.value(atPath: "health.url"), key: "health.url", file: file) ?? []
            if case .object(let environments)? = config.root["environments"] {
                for name in environments.keys.sorted() {
                    if let url = try string(environments[name]?["health_url"], key: "environments.\(name).health_url", file: file) {
                        urls.append(url)
                    }
                }
            }
            var seen = Set<String>()
            settings.healthURLs = urls.filter { seen.insert($0).inserted }
        }
        for url in settings.healthURLs where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw .invalid(key: "monitor.health", value: url, expected: "an http:// or https:// URL (in \(file))")
        }

        // TLS domains.
        if let listed = try strings(section["domains"], key: "monitor.domains", file: file) {
            settings.domains = listed
        } else {
            var seen = Set<String>()
            settings.domains = settings.healthURLs.compactMap(httpsHost).filter { seen.insert($0).inserted }
        }

        settings.expectedContainers = try strings(section["containers"], key: "monitor.containers", file: file) ?? []
        if let socket = try string(section["docker_socket"], key: "monitor.docker_socket", file: file) {
            settings.dockerSocket = socket == "none" || socket.isEmpty ? nil : socket
        } else if let host = environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            settings.dockerSocket = String(host.dropFirst("unix://".count))
        }
        if let root = try string(section["docker_root"], key: "monitor.docker_root", file: file) {
            settings.dockerRoot = root.isEmpty || root == "none" ? nil : root
        }

        // Thresholds.
        switch section["thresholds"] {
        case .object(let limits)?:
            try rejectUnknown(limits, known: knownThresholds, prefix: "monitor.thresholds", file: file)
            var t = MonitorThresholds()
            t.disk = try upper(limits["disk"], t.disk, key: "monitor.thresholds.disk", file: file)
            t.inodes = try upper(limits["inodes"], t.inodes, key: "monitor.thresholds.inodes", file: file)
            t.swap = try upper(limits["swap"], t.swap, key: "monitor.thresholds.swap", file: file)
            t.loadPerCore = try upper(limits["load_per_core"], t.loadPerCore, key: "monitor.thresholds.load_per_core", file: file)
            t.memoryAvailable = try lower(limits["memory_available"], t.memoryAvailable, key: "monitor.thresholds.memory_available", file: file)
            t.certificateDays = try lower(limits["certificate_days"], t.certificateDays, key: "monitor.thresholds.certificate_days", file: file)
            if let value = limits["backup_age_hours"], value != .null {
                if case .object = value {
                    t.backupAgeHours = try upper(value, t.backupAgeHours, key: "monitor.thresholds.backup_age_hours", file: file)
                } else {
                    let hours = try number(value, key: "monitor.thresholds.backup_age_hours", file: file)
                    t.backupAgeHours = UpperThresholds(warning: hours, critical: hours)
                }
            }
            settings.thresholds = t
        case nil, .null?: break
        case let other?: throw .invalid(key: "monitor.thresholds", value: other.scalarText, expected: "a mapping (in \(file))")
        }

        // Backup freshness: on when backup-db is configured, unless `monitor.backup: false`.
        let wanted: Bool?
        switch section["backup"] {
        case .bool(let on)?: wanted = on
        case .string(let text)? where ["true", "yes", "on"].contains(text.lowercased()): wanted = true
        case .string(let text)? where ["false", "no", "off"].contains(text.lowercased()): wanted = false
        case nil, .null?: wanted = nil
        case let other?: throw .invalid(key: "monitor.backup", value: other.scalarText, expected: "true or false (in \(file))")
        }
        let configured = config.root["backup"].map { $0 != .null } ?? false
        if wanted ?? configured {
            do {
                settings.backupStore = try BackupSettings.resolve(
                    config: config, overrides: .init(), environment: environment, requireSources: false).store
            } catch {
                throw .backup(error)
            }
        }

        // Alerts.
        switch section["alert"] {
        case .object(let alert)?:
            try rejectUnknown(alert, known: knownAlertKeys, prefix: "monitor.alert", file: file)
            if let after = alert["after"], after != .null {
                let n = try number(after, key: "monitor.alert.after", file: file)
                guard n >= 1, n <= 100, n == n.rounded() else {
                    throw .invalid(key: "monitor.alert.after", value: after.scalarText, expected: "a whole number 1–100 (in \(file))")
                }
                settings.alertAfter = Int(n)
            }
            if let text = try string(alert["reminder"], key: "monitor.alert.reminder", file: file) {
                guard let seconds = parseDuration(text), seconds >= 60 else {
                    throw .invalid(key: "monitor.alert.reminder", value: text, expected: "a duration like 30m, 4h or 1d, at least 1m (in \(file))")
                }
                settings.reminder = .seconds(seconds)
            }
            for (key, kind) in [("slack", Webhook.Kind.slack), ("discord", .discord), ("webhook", .json), ("ntfy", .ntfy)] {
                for url in try strings(alert[key], key: "monitor.alert.\(key)", file: file) ?? [] {
                    guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                        throw .invalid(key: "monitor.alert.\(key)", value: "(a URL not starting with http)", expected: "an http(s) URL (in \(file))")
                    }
                    settings.webhooks.append(Webhook(kind: kind, url: url))
                }
            }
        case nil, .null?: break
        case let other?: throw .invalid(key: "monitor.alert", value: other.scalarText, expected: "a mapping (in \(file))")
        }
        settings.ping = try string(section["ping"], key: "monitor.ping", file: file)
        settings.caFile = try string(section["ca_file"], key: "monitor.ca_file", file: file)
        return settings
    }

    /// `https://example.com:8443/api/health` → `example.com:8443`; nil for http.
    static func httpsHost(_ url: String) -> String? {
        guard url.hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let authority = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? String(rest)
        let host = authority.split(separator: "@").last.map(String.init) ?? authority
        return host.isEmpty ? nil : host
    }

    /// `90`, `90s`, `30m`, `4h`, `1d` → seconds.
    public static func parseDuration(_ text: String) -> Int? {
        let trimmed = text.split(separator: " ").joined()
        guard let last = trimmed.last else { return nil }
        let (digits, unit): (Substring, Int) = switch last {
        case "s": (trimmed.dropLast(), 1)
        case "m": (trimmed.dropLast(), 60)
        case "h": (trimmed.dropLast(), 3600)
        case "d": (trimmed.dropLast(), 86_400)
        default: (Substring(trimmed), 1)
        }
        guard let n = Int(digits), n >= 0, n <= 365 * 86_400 / unit else { return nil }
        return n * unit
    }

    // MARK: - Reading values

    static func rejectUnknown(_ object: [String: JSONValue], known: Set<String>, prefix: String, file: String) throws(MonitorSettingsError) {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalid(key: "\(prefix).\(unknown)", value: "set",
                           expected: "one of: \(known.sorted().joined(separator: ", ")) — unknown key in \(file) (see docs/monitor.md)")
        }
    }

    static func string(_ value: JSONValue?, key: String, file: String) throws(MonitorSettingsError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .number?, .bool?: return value?.scalarText
        case let other?: throw .invalid(key: key, value: other.scalarText, expected: "a single value (in \(file))")
        }
    }

    static func strings(_ value: JSONValue?, key: String, file: String) throws(MonitorSettingsError) -> [String]? {
        switch value {
        case nil, .null?: return nil
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    throw .invalid(key: key, value: item.scalarText, expected: "a list of strings (in \(file))")
                }
                out.append(s)
            }
            return out
        default: return try string(value, key: key, file: file).map { [$0] }
        }
    }

    static func number(_ value: JSONValue, key: String, file: String) throws(MonitorSettingsError) -> Double {
        switch value {
        case .number(let n): return n
        case .string(let s): if let n = Double(s) { return n }
        default: break
        }
        throw .invalid(key: key, value: value.scalarText, expected: "a number (in \(file))")
    }

    static func pair(_ value: JSONValue?, key: String, file: String) throws(MonitorSettingsError) -> (Double?, Double?)? {
        switch value {
        case nil, .null?: return nil
        case .object(let object)?:
            try rejectUnknown(object, known: ["warning", "critical"], prefix: key, file: file)
            let warning = try object["warning"].map { v throws(MonitorSettingsError) in try number(v, key: key + ".warning", file: file) }
            let critical = try object["critical"].map { v throws(MonitorSettingsError) in try number(v, key: key + ".critical", file: file) }
            return (warning, critical)
        case let other?:
            throw .invalid(key: key, value: other.scalarText, expected: "{warning: N, critical: N} (in \(file))")
        }
    }

    static func upper(_ value: JSONValue?, _ defaults: UpperThresholds, key: String, file: String) throws(MonitorSettingsError) -> UpperThresholds {
        guard let (warning, critical) = try pair(value, key: key, file: file) else { return defaults }
        let result = UpperThresholds(warning: warning ?? defaults.warning, critical: critical ?? defaults.critical)
        guard result.warning <= result.critical else {
            throw .invalid(key: key, value: "warning \(MonitorReport.number(result.warning)), critical \(MonitorReport.number(result.critical))",
                           expected: "warning at or below critical (bigger is worse here; in \(file))")
        }
        return result
    }

    static func lower(_ value: JSONValue?, _ defaults: LowerThresholds, key: String, file: String) throws(MonitorSettingsError) -> LowerThresholds {
        guard let (warning, critical) = try pair(value, key: key, file: file) else { return defaults }
        let result = LowerThresholds(warning: warning ?? defaults.warning, critical: critical ?? defaults.critical)
        guard result.warning >= result.critical else {
            throw .invalid(key: key, value: "warning \(MonitorReport.number(result.warning)), critical \(MonitorReport.number(result.critical))",
                           expected: "warning at or above critical (smaller is worse here; in \(file))")
        }
        return result
    }
}

/// A setting that cannot be used, in one line: which key, what it was, what it should be.
public enum MonitorSettingsError: Error, Sendable, CustomStringConvertible {
    case invalid(key: String, value: String, expected: String)
    case backup(BackupSettingsError)

    public var description: String {
        switch self {
        case .invalid(let key, let value, let expected): "\(key) is \(value); expected \(expected)"
        case .backup(let error): "the backup settings the freshness check reads are wrong: \(error)"
        }
    }
}
