import OpsCore
import Shell

/// What is wrong with a backup's settings (flags, environment, opskit.yml), in one line.
public enum BackupSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidSource(spec: String, why: String)
    case noSources(configPath: String?)
    case invalidStore(spec: String, why: String)
    case invalid(key: String, value: String, expected: String)
    case config(ConfigError)

    public var description: String {
        switch self {
        case .invalidSource(let spec, let why):
            "source `\(Redactor.redact(spec))` is not usable: \(why)"
        case .noSources(let path):
            "nothing to back up: give --source SPEC (dir:PATH, sqlite:PATH, postgres://…, volume:NAME) or list "
                + "backup.sources in \(path ?? "opskit.yml")"
        case .invalidStore(let spec, let why):
            "store `\(Redactor.redact(spec))` is not usable: \(why)"
        case .invalid(let key, let value, let expected):
            "\(key) is `\(value)`, expected \(expected)"
        case .config(let error):
            error.description
        }
    }
}

/// Where backups are kept: a local directory or an S3-compatible bucket.
public enum StoreSpec: Sendable, Equatable, CustomStringConvertible {
    case directory(String)
    /// `s3://bucket/prefix` with the endpoint (nil: AWS), region and part size.
    case s3(bucket: String, prefix: String, endpoint: String?, region: String, partSize: Int)

    public var description: String {
        switch self {
        case .directory(let path): path
        case .s3(let bucket, let prefix, _, _, _): "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)")
        }
    }
}

/// Everything a `backup-db` / `restore` run needs, resolved from flags > environment > opskit.yml > defaults.
public struct BackupSettings: Sendable, Equatable {
    public var app: String
    public var sources: [BackupSource]
    public var store: StoreSpec
    public var compression: CompressionKind
    public var level: Int?
    /// age recipients (`age1…`) to encrypt to; empty: not encrypted.
    public var recipients: [String]
    /// Files holding age identities (for `--verify` of encrypted backups and `restore`).
    public var identityFiles: [String]
    public var retention: RetentionPolicy
    /// Containers stopped for the copy (and the restore swap) and always started again.
    public var stopContainers: [String]
    public var webhooks: [Webhook]
    /// healthchecks.io-style dead-man URL: `URL/start`, `URL`, `URL/fail` are pinged.
    public var deadManURL: String?
    /// Checked after a restore (the app's health endpoint); nil: no check.
    public var healthURL: String?
    /// How long the restored app has to answer healthy twice in a row, in seconds.
    public var healthTimeout: Int = 60
    /// Upload part size in bytes (S3 multipart; also bounds memory).
    public var partSize: Int

    public static let defaultPartSize = 16 << 20

    public init(app: String, sources: [BackupSource], store: StoreSpec, compression: CompressionKind = .zstd,
                level: Int? = nil, recipients: [String] = [], identityFiles: [String] = [],
                retention: RetentionPolicy = .default, stopContainers: [String] = [], webhooks: [Webhook] = [],
                deadManURL: String? = nil, healthURL: String? = nil, partSize: Int = BackupSettings.defaultPartSize) {
        self.app = app
        self.sources = sources
        self.store = store
        self.compression = compression
        self.level = level
        self.recipients = recipients
        self.identityFiles = identityFiles
        self.retention = retention
        self.stopContainers = stopContainers
        self.webhooks = webhooks
        self.deadManURL = deadManURL
        self.healthURL = healthURL
        self.partSize = partSize
    }

    static let knownKeys: Set<String> = [
        "sources", "to", "s3", "compression", "level", "encrypt_to", "identity", "keep", "stop_containers",
        "notify", "deadman", "health_url", "health_timeout",
    ]
    static let knownS3Keys: Set<String> = ["endpoint", "region", "part_size"]
    static let knownKeepKeys: Set<String> = ["last", "daily", "weekly", "monthly", "yearly"]
    static let knownNotifyKeys: Set<String> = ["slack", "discord", "webhook"]

    /// What the command line says; nil / empty means "not given".
    public struct Overrides: Sendable {
        public var sources: [String] = []
        public var store: String?
        public var compression: String?
        public var level: Int?
        public var recipients: [String] = []
        public var identityFiles: [String] = []
        public var keepLast: Int?
        public var keepDaily: Int?
        public var keepWeekly: Int?
        public var keepMonthly: Int?

        public init() {}
    }

    /// Resolves the settings. `requireSources` is false for commands that only read the store (`--list`,
    /// `--verify`, `--prune`).
    public static func resolve(config: OpsConfig, overrides: Overrides, environment: [String: String],
                               requireSources: Bool = true) throws(BackupSettingsError) -> BackupSettings {
        let file = config.path ?? OpsConfig.fileName
        do {
            if case .object(let section)? = config.root["backup"] {
                try rejectUnknown(section, known: knownKeys, prefix: "backup", file: file)
                for (key, known) in [("s3", knownS3Keys), ("keep", knownKeepKeys), ("notify", knownNotifyKeys)] {
                    switch section[key] {
                    case .object(let object)?: try rejectUnknown(object, known: known, prefix: "backup.\(key)", file: file)
                    case nil, .null?: break
                    case let other?:
                        throw BackupSettingsError.invalid(key: "backup.\(key)", value: other.scalarText,
                                                          expected: "a mapping (in \(file))")
                    }
                }
            } else if let value = config.root["backup"], value != .null {
                throw BackupSettingsError.invalid(key: "backup", value: value.scalarText, expected: "a mapping (in \(file))")
            }
        } catch let error as BackupSettingsError {
            throw error
        } catch {
            throw .invalid(key: "backup", value: "?", expected: "a mapping")
        }

        let app = try wrap { () throws(ConfigError) in try config.string("app") } ?? "app"
        guard isSafeName(app) else { throw .invalid(key: "app", value: app, expected: "letters, digits, - and _") }

        // Sources: flags replace the file's list.
        let sourceSpecs = overrides.sources.isEmpty
            ? (try wrap { () throws(ConfigError) in try config.strings("backup.sources") } ?? [])
            : overrides.sources
        var sources: [BackupSource] = []
        for spec in sourceSpecs { sources.append(try BackupSource(parsing: spec)) }
        if requireSources && sources.isEmpty { throw .noSources(configPath: config.path) }

        // Store: --to > backup.to > B2_BUCKET (the scripts' variable) > /opt/<app>/backups.
        let configuredStore = try wrap { () throws(ConfigError) in try config.string("backup.to") }
        let storeText = overrides.store
            ?? configuredStore
            ?? environment["B2_BUCKET"].flatMap { $0.isEmpty ? nil : "s3://\($0)" }
            ?? "/opt/\(app)/backups"
        let partSizeMiB = try int(config, "backup.s3.part_size", default: defaultPartSize >> 20, range: 5...5120, file: file)
        let store = try parseStore(storeText, config: config, environment: environment, partSize: partSizeMiB << 20)

        let configuredCompression = try wrap { () throws(ConfigError) in try config.string("backup.compression") }
        let compressionText = overrides.compression ?? configuredCompression ?? "zstd"
        guard let compression = CompressionKind(rawValue: compressionText) else {
            throw .invalid(key: "compression", value: compressionText, expected: "zstd, gzip or none")
        }
        let configuredLevel = try optionalInt(config, "backup.level", file: file)
        let level = overrides.level ?? configuredLevel
        if let level {
            let range = compression == .gzip ? 1...9 : 1...19
            guard compression != .none else {
                throw .invalid(key: "level", value: "\(level)", expected: "no level with compression none")
            }
            guard range.contains(level) else {
                throw .invalid(key: "level", value: "\(level)",
                               expected: "\(range.lowerBound)–\(range.upperBound) for \(compression.rawValue)")
            }
        }

        var recipients = overrides.recipients
        if recipients.isEmpty {
            recipients = try wrap { () throws(ConfigError) in try config.strings("backup.encrypt_to") } ?? []
        }
        for recipient in recipients where !recipient.hasPrefix("age1") {
            throw .invalid(key: "encrypt-to", value: recipient, expected: "an age recipient (age1…, from age-keygen -y)")
        }
        var identities = overrides.identityFiles
        if identities.isEmpty {
            identities = try wrap { () throws(ConfigError) in try config.strings("backup.identity") } ?? []
        }
        if identities.isEmpty, let fromEnv = environment["OPSKIT_AGE_IDENTITY"], !fromEnv.isEmpty {
            identities = [fromEnv]
        }

        var retention = RetentionPolicy(
            keepLast: try int(config, "backup.keep.last", default: 0, range: 0...100_000, file: file),
            keepDaily: try int(config, "backup.keep.daily", default: 7, range: 0...100_000, file: file),
            keepWeekly: try int(config, "backup.keep.weekly", default: 0, range: 0...100_000, file: file),
            keepMonthly: try int(config, "backup.keep.monthly", default: 0, range: 0...100_000, file: file),
            keepYearly: try int(config, "backup.keep.yearly", default: 0, range: 0...100_000, file: file))
        let flagKeeps = [overrides.keepLast, overrides.keepDaily, overrides.keepWeekly, overrides.keepMonthly]
        if flagKeeps.contains(where: { $0 != nil }) {
            // Flags state the whole policy, as restic's do: unnamed buckets are off.
            retention = RetentionPolicy(keepLast: overrides.keepLast ?? 0, keepDaily: overrides.keepDaily ?? 0,
                                        keepWeekly: overrides.keepWeekly ?? 0, keepMonthly: overrides.keepMonthly ?? 0)
            for (name, value) in zip(["keep-last", "keep-daily", "keep-weekly", "keep-monthly"], flagKeeps) {
                if let value, value < 0 { throw .invalid(key: name, value: "\(value)", expected: "0 or more") }
            }
        }

        var webhooks: [Webhook] = []
        for (key, kind) in [("slack", Webhook.Kind.slack), ("discord", .discord), ("webhook", .json)] {
            for url in try wrap({ () throws(ConfigError) in try config.strings("backup.notify.\(key)") }) ?? [] {
                do { try HealthURL.validate(url) } catch {
                    throw .invalid(key: "backup.notify.\(key)", value: "(a URL)", expected: "http(s) URLs (in \(file))")
                }
                webhooks.append(Webhook(kind: kind, url: url))
            }
        }
        let deadMan = try wrap { () throws(ConfigError) in try config.string("backup.deadman") }
        if let deadMan {
            do { try HealthURL.validate(deadMan) } catch {
                throw .invalid(key: "backup.deadman", value: "(a URL)", expected: "an http(s) URL (in \(file))")
            }
        }
        let healthURL = try wrap { () throws(ConfigError) in try config.string("backup.health_url") }
        if let healthURL {
            do { try HealthURL.validate(healthURL) } catch {
                throw .invalid(key: "backup.health_url", value: healthURL, expected: "an http(s) URL (in \(file))")
            }
        }
        let healthTimeout = try int(config, "backup.health_timeout", default: 60, range: 1...3600, file: file)
        let stop = try wrap { () throws(ConfigError) in try config.strings("backup.stop_containers") } ?? []

        var settings = BackupSettings(
            app: app, sources: sources, store: store, compression: compression, level: level,
            recipients: recipients, identityFiles: identities, retention: retention, stopContainers: stop,
            webhooks: webhooks, deadManURL: deadMan, healthURL: healthURL, partSize: partSizeMiB << 20)
        settings.healthTimeout = healthTimeout
        return settings
    }

    /// A local path, or `s3://bucket/prefix` with endpoint/region from opskit.yml or the environment
    /// (`AWS_ENDPOINT_URL`, `B2_ENDPOINT`; `AWS_REGION`, `AWS_DEFAULT_REGION`).
    static func parseStore(_ text: String, config: OpsConfig, environment: [String: String],
                           partSize: Int) throws(BackupSettingsError) -> StoreSpec {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst("s3://".count)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts.first ?? "")
            guard !bucket.isEmpty, bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "-.".contains($0)) }),
                  (3...63).contains(bucket.count) else {
                throw .invalidStore(spec: text, why: "the bucket name must be 3–63 lowercase letters, digits, - or .")
            }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            let configuredEndpoint = try wrap { () throws(ConfigError) in try config.string("backup.s3.endpoint") }
            let endpoint = configuredEndpoint
                ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"] ?? environment["B2_ENDPOINT"]
            if let endpoint {
                guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                    throw .invalidStore(spec: text, why: "the endpoint `\(endpoint)` must start with http:// or https://")
                }
            }
            let configuredRegion = try wrap { () throws(ConfigError) in try config.string("backup.s3.region") }
            let region = configuredRegion
                ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
                ?? endpoint.flatMap(regionFromB2Endpoint) ?? "us-east-1"
            return .s3(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, partSize: partSize)
        }
        if text.contains("://") {
            throw .invalidStore(spec: text, why: "only local directories and s3://bucket/prefix are supported")
        }
        guard text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") || !text.isEmpty else {
            throw .invalidStore(spec: text, why: "give a directory or s3://bucket/prefix")
        }
        return .directory(text)
    }

    /// `https://s3.us-west-002.backblazeb2.com` → `us-west-002`.
    static func regionFromB2Endpoint(_ endpoint: String) -> String? {
        guard let range = endpoint.firstRange(of: "://s3."), endpoint.contains(".backblazeb2.com") else { return nil }
        let rest = endpoint[range.upperBound...]
        return rest.split(separator: ".").first.map(String.init)
    }

    static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func rejectUnknown(_ object: [String: JSONValue], known: Set<String>, prefix: String, file: String)
        throws(BackupSettingsError)
    {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalid(key: "\(prefix).\(unknown)", value: "set",
                           expected: "one of: \(known.sorted().joined(separator: ", ")) — unknown key in \(file) (see docs/backup.md)")
        }
    }

    static func wrap<T>(_ body: () throws(ConfigError) -> T) throws(BackupSettingsError) -> T {
        do { return try body() } catch { throw .config(error) }
    }

    static func optionalInt(_ config: OpsConfig, _ key: String, file: String) throws(BackupSettingsError) -> Int? {
        guard let text = try wrap({ () throws(ConfigError) in try config.string(key) }) else { return nil }
        guard let n = Int(text) else { throw .invalid(key: key, value: text, expected: "a whole number (in \(file))") }
        return n
    }

    static func int(_ config: OpsConfig, _ key: String, default value: Int, range: ClosedRange<Int>,
                    file: String) throws(BackupSettingsError) -> Int {
        guard let n = try optionalInt(config, key, file: file) else { return value }
        guard range.contains(n) else {
            throw .invalid(key: key, value: "\(n)", expected: "\(range.lowerBound)–\(range.upperBound) (in \(file))")
        }
        return n
    }
}
