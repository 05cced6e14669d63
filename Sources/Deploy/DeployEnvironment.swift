import OpsCore
import Shell

/// One `environments.<name>` entry of opskit.yml, checked before anything is touched.
public struct DeployEnvironment: Sendable, Equatable {
    public enum Strategy: String, Sendable, CaseIterable { case blueGreen = "blue-green", recreate }
    /// What runs the app: Compose projects switched by opskit, or a Docker Swarm service updated by Swarm.
    public enum Engine: String, Sendable, CaseIterable { case compose, swarm }

    public struct Proxy: Sendable, Equatable {
        /// The nginx file holding `upstream <name> { server 127.0.0.1:PORT; }`, rewritten on each switch.
        public var upstreamFile: String
        /// The upstream block's name (`proxy_pass http://NAME;` in the site config).
        public var upstreamName: String
        public var testCommand: [String]
        public var reloadCommand: [String]
    }

    public var app: String
    public var name: String
    public var host: String?
    public var engine: Engine
    /// The Compose project prefix (`<app>-<name>`; the color is appended), or the Swarm stack's name.
    public var project: String
    /// `hosts:`: one environment per host, each with its `host` and its own overrides; empty for one host.
    public var fleet: [DeployEnvironment]
    /// `batch:`: how many hosts of `fleet` switch at a time.
    public var batch: Batch
    public var composeFile: String
    public var service: String
    /// The image repository; the tag comes from `--tag`, `COMMIT_SHA`, or `latest`.
    public var image: String
    public var envFile: String?
    /// Host ports for the two colors (blue, green); recreate uses the first.
    public var ports: [Int]
    public var healthPath: String
    /// The public URL watched after a switch (through the proxy); nil: the new color's own port.
    public var healthURL: String?
    public var proxy: Proxy?
    public var strategy: Strategy
    public var healthSuccesses: Int
    public var healthTimeout: Duration
    public var healthInterval: Duration
    public var watch: Duration
    public var drainTimeout: Int
    public var keepReleases: Int
    /// `min_free_disk`: megabytes that must be free where Docker keeps images before a deploy starts.
    public var minFreeDiskMB: Int
    /// `hooks.pre_deploy`: a shell command run in the new image before anything switches (migrations).
    public var preDeploy: String?
    /// `hooks.post_deploy`: a shell command run on the target after a deployment went live.
    public var postDeploy: String?
    public var notify: Notify
    /// `build.context` / `build.dockerfile` for `deploy --build` (the context relative to opskit.yml).
    public var buildContext: String?
    public var buildDockerfile: String?

    /// Where to say how a deployment ended.
    public struct Notify: Sendable, Equatable {
        public var slack: [String] = []
        public var discord: [String] = []
        public var webhook: [String] = []
        public var isEmpty: Bool { slack.isEmpty && discord.isEmpty && webhook.isEmpty }
    }

    static let knownKeys: Set<String> = [
        "host", "compose_file", "service", "image", "env_file", "ports", "health_path", "health_url", "proxy",
        "strategy", "health", "watch", "drain_timeout", "keep_releases", "min_free_disk", "hooks", "notify",
        "build", "engine", "project", "hosts", "batch",
    ]
    /// What a `hosts:` entry may set for its host alone; the rest comes from the environment.
    static let knownHostKeys: Set<String> = ["host", "ports", "health_url", "project", "proxy", "compose_file", "env_file"]
    static let knownHookKeys: Set<String> = ["pre_deploy", "post_deploy"]
    static let knownNotifyKeys: Set<String> = ["slack", "discord", "webhook"]
    static let knownBuildKeys: Set<String> = ["context", "dockerfile"]
    static let knownProxyKeys: Set<String> = ["upstream_file", "upstream_name", "test_command", "reload_command"]
    static let knownHealthKeys: Set<String> = ["successes", "timeout", "interval"]

    /// Reads and checks `environments.<name>`; every problem names the file and the key.
    ///
    /// With `hosts:`, every entry is read as the environment with that entry's keys laid over it (so every
    /// host is checked as strictly as a single one), and the result's `fleet` holds them, sorted by host.
    public static func load(_ name: String, from config: OpsConfig) throws(ConfigError) -> DeployEnvironment {
        var environment = try loadOne(name, from: config)
        guard case .object(let envs)? = config.root["environments"], case .object(let entry)? = envs[name],
              let hostsValue = entry["hosts"], hostsValue != .null else { return environment }
        let file = config.path ?? OpsConfig.fileName
        let prefix = "environments.\(name)"
        guard case .array(let items) = hostsValue, !items.isEmpty else {
            throw .invalidValue(key: "\(prefix).hosts", value: hostsValue.scalarText,
                                expected: "a list of user@host[:port] entries (in \(file))")
        }
        guard entry["host"] == nil || entry["host"] == .null else {
            throw .invalidValue(key: "\(prefix).host", value: "set", expected: "either host or hosts, not both (in \(file))")
        }
        guard environment.engine == .compose else {
            throw .invalidValue(key: "\(prefix).hosts", value: "set", expected:
                "no hosts with engine: swarm — Swarm places the tasks itself; set `host:` to one manager (in \(file))")
        }
        var members: [DeployEnvironment] = []
        for (index, item) in items.enumerated() {
            var overlay: [String: JSONValue]
            switch item {
            case .string(let host): overlay = ["host": .string(host)]
            case .object(let object):
                try rejectUnknown(object, known: knownHostKeys, prefix: "\(prefix).hosts[\(index)]", file: file)
                overlay = object
            default:
                throw .invalidValue(key: "\(prefix).hosts[\(index)]", value: item.scalarText,
                                    expected: "user@host[:port], or a mapping with host: (in \(file))")
            }
            guard case .string(let host)? = overlay["host"], !host.isEmpty else {
                throw .missing("\(file): \(prefix).hosts[\(index)].host is required (user@host[:port])")
            }
            var merged = entry
            merged["hosts"] = nil
            for (key, value) in overlay {
                if key == "proxy", case .object(let over) = value, case .object(var base)? = merged["proxy"] {
                    for (k, v) in over { base[k] = v }
                    merged["proxy"] = .object(base)
                } else {
                    merged[key] = value
                }
            }
            // `{host}` in health_url: each host's own public address (`http://{host}/api/health`).
            if case .string(let url)? = merged["health_url"] {
                merged["health_url"] = .string(url.replacing("{host}", with: hostName(host)))
            }
            var root = config.root
            if case .object(var all) = root, case .object(var envsCopy)? = all["environments"] {
                envsCopy[name] = .object(merged)
                all["environments"] = .object(envsCopy)
                root = .object(all)
            }
            members.append(try loadOne(name, from: OpsConfig(root: root, path: config.path)))
        }
        let hostsSeen = members.compactMap(\.host)
        if let twice = hostsSeen.first(where: { h in hostsSeen.filter { $0 == h }.count > 1 }) {
            throw .invalidValue(key: "\(prefix).hosts", value: twice, expected: "each host once (in \(file))")
        }
        // One fixed order (by host) for locks and batches, whatever order the file lists them in: two runs
        // that take the same locks take them in the same order and cannot wait on each other forever.
        environment.fleet = members.sorted { ($0.host ?? "") < ($1.host ?? "") }
        return environment
    }

    /// `deploy@10.0.0.11:2222` → `10.0.0.11`; `[::1]:22` → `::1`.
    public static func hostName(_ address: String) -> String {
        var rest = Substring(address)
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
        if let colon = rest.lastIndex(of: ":"), rest.filter({ $0 == ":" }).count == 1 { rest = rest[..<colon] }
        return String(rest)
    }

    static func loadOne(_ name: String, from config: OpsConfig) throws(ConfigError) -> DeployEnvironment {
        let file = config.path ?? OpsConfig.fileName
        guard config.path != nil else {
            throw .missing("no \(OpsConfig.fileName) here: deploy needs environments.\(name) in it (or pass --config FILE)")
        }
        guard case .object(let envs)? = config.root["environments"] else {
            throw .missing("\(file) has no `environments:` section; add environments.\(name) (see docs/config.md)")
        }
        guard case .object(let entry)? = envs[name] else {
            let known = envs.keys.sorted().joined(separator: ", ")
            throw .missing("unknown environment `\(name)` in \(file)" + (known.isEmpty ? "" : " (known: \(known))"))
        }
        let prefix = "environments.\(name)"
        try rejectUnknown(entry, known: knownKeys, prefix: prefix, file: file)

        guard let app = try config.string("app"), !app.isEmpty else {
            throw .missing("\(file) needs `app: NAME` (it names the Compose projects, the lock and the journal)")
        }
        guard isSafeName(app) else {
            throw .invalidValue(key: "app", value: app, expected: "letters, digits, - and _ (in \(file))")
        }
        let read = Reader(config: config, prefix: prefix, file: file)
        let engineText = try read.string("engine") ?? "compose"
        guard let engine = Engine(rawValue: engineText) else { throw read.invalid("engine", engineText, "compose or swarm") }
        let project = try read.string("project") ?? "\(app)-\(name)".lowercased()
        guard isSafeName(project) else { throw read.invalid("project", project, "letters, digits, - and _") }
        let batch = try read.string("batch").map { text throws(ConfigError) -> Batch in
            guard let batch = Batch(text) else { throw read.invalid("batch", text, "a number of hosts (1) or a share (25%)") }
            return batch
        } ?? .count(1)
        guard let composeFile = try read.string("compose_file") else { throw read.missing("compose_file") }
        guard let image = try read.string("image") else { throw read.missing("image") }
        let ports = try read.ports()
        let proxy = try read.proxy(app: app, environment: name)
        let strategyText = try read.string("strategy") ?? (proxy == nil ? "recreate" : "blue-green")
        guard let strategy = Strategy(rawValue: strategyText) else {
            throw read.invalid("strategy", strategyText, "blue-green or recreate")
        }
        if strategy == .blueGreen && engine == .compose {
            guard proxy != nil else { throw read.invalid("strategy", strategyText, "recreate, or a `proxy:` section to switch") }
            guard ports.count == 2 else { throw read.invalid("ports", "\(ports)", "two host ports for blue-green, e.g. [3001, 3002]") }
        }
        for (key, known) in [("health", knownHealthKeys), ("hooks", knownHookKeys), ("notify", knownNotifyKeys),
                             ("build", knownBuildKeys)] {
            switch entry[key] {
            case .object(let object)?: try rejectUnknown(object, known: known, prefix: "\(prefix).\(key)", file: file)
            case nil, .null?: break
            case let other?: throw read.invalid(key, other.scalarText, "a mapping of \(known.sorted().joined(separator: ", "))")
            }
        }
        var notify = Notify()
        for (key, path) in [("slack", \Notify.slack), ("discord", \Notify.discord), ("webhook", \Notify.webhook)] {
            let urls = try config.strings("\(prefix).notify.\(key)") ?? []
            for url in urls {
                do { try HealthURL.validate(url) } catch { throw read.invalid("notify.\(key)", "(a URL)", "http(s) URLs") }
            }
            notify[keyPath: path] = urls
        }
        let directory = config.path.map { p in p.contains("/") ? String(p[..<(p.lastIndex(of: "/") ?? p.startIndex)]) : "." } ?? "."
        let buildContext = try read.string("build.context").map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 }
        let buildDockerfile = try read.string("build.dockerfile")
        let healthPath = try read.string("health_path") ?? "/api/health"
        guard healthPath.hasPrefix("/") else { throw read.invalid("health_path", healthPath, "a path starting with /") }
        let healthURL = try read.string("health_url")
        if let healthURL {
            do { try HealthURL.validate(healthURL) } catch { throw read.invalid("health_url", healthURL, "an http(s) URL") }
        }
        if engine == .swarm && healthURL == nil {
            throw read.invalid("health_url", "(none)", "the public URL of the service: engine: swarm gates on it")
        }
        return DeployEnvironment(
            app: app, name: name, host: try read.string("host"), engine: engine, project: project, fleet: [],
            batch: batch, composeFile: composeFile,
            service: try read.string("service") ?? "app", image: image, envFile: try read.string("env_file"),
            ports: ports, healthPath: healthPath, healthURL: healthURL, proxy: proxy, strategy: strategy,
            healthSuccesses: try read.int("health.successes", default: 2, range: 1...100),
            healthTimeout: try read.seconds("health.timeout", default: 30, range: 1...3600),
            healthInterval: try read.seconds("health.interval", default: 1, range: 0.1...60),
            watch: try read.seconds("watch", default: 30, range: 0...3600),
            drainTimeout: try read.int("drain_timeout", default: 10, range: 0...600),
            keepReleases: try read.int("keep_releases", default: 5, range: 2...100),
            minFreeDiskMB: try read.int("min_free_disk", default: 512, range: 0...1_000_000),
            preDeploy: try read.string("hooks.pre_deploy"), postDeploy: try read.string("hooks.post_deploy"),
            notify: notify, buildContext: buildContext, buildDockerfile: buildDockerfile)
    }

    /// `demo-production-blue`: Compose project names allow only lowercase letters, digits, - and _.
    public func project(_ color: Color) -> String { "\(project)-\(color.rawValue)".lowercased() }

    /// The Swarm service `docker stack deploy` makes of `service` in the stack named `project`.
    public var swarmService: String { "\(project)_\(service)" }

    public func port(_ color: Color) -> Int { color == .blue || ports.count < 2 ? ports[0] : ports[1] }

    public func directHealthURL(_ color: Color) -> String { "http://127.0.0.1:\(port(color))\(healthPath)" }

    static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func rejectUnknown(_ object: [String: JSONValue], known: Set<String>, prefix: String, file: String)
        throws(ConfigError)
    {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidValue(key: "\(prefix).\(unknown)", value: "set", expected:
                "one of: \(known.sorted().joined(separator: ", ")) — unknown key in \(file) (see docs/config.md)")
        }
    }

    /// Typed access to one environment's keys with errors that name file and key.
    struct Reader {
        let config: OpsConfig
        let prefix: String
        let file: String

        func string(_ key: String) throws(ConfigError) -> String? { try config.string("\(prefix).\(key)") }

        func missing(_ key: String) -> ConfigError {
            .missing("\(file): \(prefix).\(key) is required (see docs/config.md)")
        }

        func invalid(_ key: String, _ value: String, _ expected: String) -> ConfigError {
            .invalidValue(key: "\(prefix).\(key)", value: value, expected: "\(expected) (in \(file))")
        }

        func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
            guard let text = try string(key) else { return value }
            guard let n = Int(text), range.contains(n) else {
                throw invalid(key, text, "a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }

        /// Seconds, fractions allowed (`0.5`).
        func seconds(_ key: String, default value: Double, range: ClosedRange<Double>) throws(ConfigError) -> Duration {
            guard let text = try string(key) else { return .milliseconds(Int(value * 1000)) }
            guard let n = Double(text), range.contains(n) else {
                throw invalid(key, text, "seconds from \(range.lowerBound) to \(range.upperBound)")
            }
            return .milliseconds(Int((n * 1000).rounded()))
        }

        func ports() throws(ConfigError) -> [Int] {
            let texts = try config.strings("\(prefix).ports") ?? ["3001", "3002"]
            var ports: [Int] = []
            for text in texts {
                guard let p = Int(text), (1...65535).contains(p) else { throw invalid("ports", text, "port numbers 1-65535") }
                ports.append(p)
            }
            guard (1...2).contains(ports.count), Set(ports).count == ports.count else {
                throw invalid("ports", texts.joined(separator: ", "), "one or two different ports")
            }
            return ports
        }

        func proxy(app: String, environment: String) throws(ConfigError) -> Proxy? {
            guard let value = config.root.value(atPath: "\(prefix).proxy"), value != .null else { return nil }
            guard case .object(let object) = value else { throw invalid("proxy", value.scalarText, "a mapping") }
            try DeployEnvironment.rejectUnknown(object, known: DeployEnvironment.knownProxyKeys, prefix: "\(prefix).proxy", file: file)
            guard let upstreamFile = try string("proxy.upstream_file") else { throw missing("proxy.upstream_file") }
            let upstreamName = try string("proxy.upstream_name") ?? "\(app)_\(environment)".replacing("-", with: "_")
            return Proxy(
                upstreamFile: upstreamFile, upstreamName: upstreamName,
                testCommand: try command("proxy.test_command") ?? ["nginx", "-t"],
                reloadCommand: try command("proxy.reload_command") ?? ["nginx", "-s", "reload"])
        }

        /// A command as a list (`[nginx, -t]`) or one string split on spaces.
        func command(_ key: String) throws(ConfigError) -> [String]? {
            guard let parts = try config.strings("\(prefix).\(key)") else { return nil }
            let argv = parts.count == 1 ? parts[0].split(separator: " ").map(String.init) : parts
            guard !argv.isEmpty else { throw invalid(key, "", "a command, e.g. [nginx, -s, reload]") }
            return argv
        }
    }
}

/// How many hosts switch at a time: `1`, or a share of the fleet (`25%`, rounded up, at least one).
public enum Batch: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    public init?(_ text: String) {
        if text.hasSuffix("%"), let n = Int(text.dropLast()), (1...100).contains(n) { self = .percent(n) }
        else if let n = Int(text), n >= 1 { self = .count(n) }
        else { return nil }
    }

    /// The batch size for `hosts` hosts.
    public func size(of hosts: Int) -> Int {
        switch self {
        case .count(let n): return max(1, min(n, hosts))
        case .percent(let p): return max(1, min(hosts, (hosts * p + 99) / 100))
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return "\(n)"
        case .percent(let p): return "\(p)%"
        }
    }
}

/// The two slots a blue-green deploy alternates between.
public enum Color: String, Sendable, Codable, CaseIterable {
    case blue, green

    public var other: Color { self == .blue ? .green : .blue }
}
