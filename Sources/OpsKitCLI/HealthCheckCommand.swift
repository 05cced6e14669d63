import ArgumentParser
import Deploy
import FoundationEssentials
import Health
import Logging
import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// `health-check`: is this app healthy? One line (or JSON) on stdout, Monitoring Plugins exit codes.
struct HealthCheckCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "health-check",
        abstract: "Check that an app's health endpoint answers and says it is healthy.",
        discussion: """
        With no URL, checks health.url from opskit.yml, or $HEALTH_URL. Understands health documents like
        {"status":"healthy","checks":{"database":{"status":"up","latencyMs":5}}} and names every failing check.
        Retries only what is transient (refused connections, timeouts, 429, 5xx).

        EXIT CODES (Monitoring Plugins):
          0 OK   1 WARNING   2 CRITICAL   3 UNKNOWN (bad arguments or configuration)

        EXAMPLES:
          health-check https://example.com/api/health
          health-check --wait 30 --interval 1 http://127.0.0.1:3000/api/health     # after a deploy
          health-check --quiet || notify-ops                                         # cron: silent when OK
          health-check --expect-json checks.database.status=up --min-cert-days 14 https://example.com/api/health
          health-check --json https://a.example.com/health https://b.example.com/health
          health-check --environment production              # every host of environments.production.hosts
          HEALTHCHECK CMD ["/opt/opskit/bin/health-check", "--quiet", "--retries", "0", "http://127.0.0.1:3000/api/health"]
        """
    )
    static var usageExitCode: Int32 { 3 }

    @Argument(help: ArgumentHelp("URLs to check (default: health.url from opskit.yml, or $HEALTH_URL).",
                                 valueName: "url"))
    var urls: [String] = []

    @Option(help: ArgumentHelp("Retry transient failures up to N more times, with backoff.", valueName: "n"))
    var retries: Int = 2

    @Option(help: ArgumentHelp("Seconds before the first retry (and between tries with --wait).", valueName: "seconds"))
    var interval: Double = 1

    @Option(help: ArgumentHelp("Seconds one try may take in all.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(help: ArgumentHelp("Keep trying for up to this many seconds, --interval apart (replaces --retries).",
                               valueName: "seconds"))
    var wait: Double?

    @Option(name: .customLong("expect-status"),
            help: ArgumentHelp("HTTP status that counts as healthy (repeatable; default any 2xx/3xx).", valueName: "code"))
    var expectStatus: [Int] = []

    @Option(name: .customLong("expect-body"), help: ArgumentHelp("Text the body must contain.", valueName: "text"))
    var expectBody: String?

    @Option(name: .customLong("expect-json"),
            help: ArgumentHelp("A dotted JSON key and the value it must have, e.g. checks.database.status=up (repeatable).",
                               valueName: "key=value"))
    var expectJSON: [String] = []

    @Option(name: .customLong("warn-latency"), help: ArgumentHelp("WARNING at or above this response time.", valueName: "ms"))
    var warnLatency: Double?

    @Option(name: .customLong("crit-latency"), help: ArgumentHelp("CRITICAL at or above this response time.", valueName: "ms"))
    var critLatency: Double?

    @Option(name: .customLong("min-cert-days"),
            help: ArgumentHelp("WARNING when the TLS certificate expires in fewer days.", valueName: "days"))
    var minCertDays: Int?

    @Flag(help: "Do not verify TLS certificates (the expiry is still reported).")
    var insecure = false

    @Option(help: ArgumentHelp("Trust this CA bundle (PEM) too, e.g. a private CA.", valueName: "file"))
    var cacert: String?

    @Option(name: [.customLong("environment"), .customShort("e")],
            help: ArgumentHelp("Check every host of this environment in opskit.yml (its hosts: list), one line each.",
                               valueName: "name"))
    var environment: String?

    @Option(help: ArgumentHelp("With --environment: only this host of the list.", valueName: "user@host[:port]"))
    var host: String?

    @OptionGroup var output: OutputOptions

    /// Loads libcurl while the arguments are parsed, when a URL among them needs it (https); plain http://
    /// goes through PlainHTTP and never loads it. URLs from opskit.yml or HEALTH_URL load it on first use.
    static func prepare() {
        HTTPClient.prepare(for: CommandLine.arguments.filter { $0.contains("://") })
    }

    static func reportUsageError(_ message: String) {
        // Monitoring systems show stdout: the reason must be there, in the plugin's own format.
        writeStdout("HEALTH UNKNOWN - \(message)")
    }

    mutating func execute() async -> Int32 {
        Log.bootstrap(tool: "health-check", format: output.logFormat, level: output.logLevel)
        let logger = Logger(label: "health-check")
        if let environment { return await checkHosts(of: environment, logger: logger) }
        let targets: [HealthTarget]
        do {
            targets = try makeTargets(environment: ProcessInfo.processInfo.environment)
        } catch {
            Self.reportUsageError(Redactor.redact("\(error)"))
            return Self.usageExitCode
        }
        let report = await HealthCheck().run(targets, logger: logger)
        if output.json {
            writeStdout(report.jsonDocument())
        } else if !(output.quiet && report.status == .ok) {
            writeStdout(report.pluginLine)
        }
        return report.exitCode
    }

    /// Turns flags, environment and opskit.yml into checks; every mistake is caught here, before any request.
    func makeTargets(environment: [String: String]) throws -> [HealthTarget] {
        try checkFlags()
        if host != nil { throw ValidationError("--host needs --environment") }
        var urls = self.urls
        if urls.isEmpty {
            if let env = environment["HEALTH_URL"], !env.isEmpty {
                urls = [env]
            } else {
                let config = try OpsConfig.load(explicitPath: output.config, environment: environment)
                urls = try config.strings("health.url") ?? []
            }
        }
        guard !urls.isEmpty else {
            throw ValidationError("no URL to check: pass one, set HEALTH_URL, or set health.url in opskit.yml")
        }
        for url in urls { try HealthURL.validate(url) }
        let (policy, expectations) = try checkSettings()
        return urls.map { target($0, policy: policy, expectations: expectations) }
    }

    /// Every flag mistake, before any request.
    func checkFlags() throws {
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard interval >= 0, interval.isFinite else { throw ValidationError("--interval must be 0 or more seconds") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be more than 0 seconds") }
        if let wait, !(wait >= 0 && wait.isFinite) { throw ValidationError("--wait must be 0 or more seconds") }
        if let w = warnLatency, let c = critLatency, w > c {
            throw ValidationError("--warn-latency (\(w) ms) is above --crit-latency (\(c) ms)")
        }
        if let days = minCertDays, days < 0 { throw ValidationError("--min-cert-days must be 0 or more") }
        if let bad = expectStatus.first(where: { !(100...599).contains($0) }) {
            throw ValidationError("--expect-status \(bad) is not an HTTP status (100-599)")
        }
        for text in expectJSON where JSONExpectation(parsing: text) == nil {
            throw ValidationError("--expect-json \"\(text)\" needs the form path=value with a dotted path, e.g. checks.database.status=up")
        }
        if let cacert, access(cacert, R_OK) != 0 {
            throw ValidationError("--cacert \(cacert): no readable file there")
        }
    }

    func target(_ url: String, policy: RetryPolicy, expectations: HealthExpectations) -> HealthTarget {
        HealthTarget(url: url, timeout: .seconds(timeout), verifyTLS: !insecure, caFile: cacert,
                     expectations: expectations, retry: policy)
    }

    /// The retry policy and expectations every URL shares, from the flags (already checked).
    func checkSettings() throws -> (RetryPolicy, HealthExpectations) {
        let jsonExpectations = try expectJSON.map { text in
            guard let e = JSONExpectation(parsing: text) else { throw ValidationError("--expect-json \(text)") }
            return e
        }
        let policy: RetryPolicy
        if let wait {
            policy = RetryPolicy(maxAttempts: Int.max, maxElapsed: .seconds(wait), initialDelay: .seconds(interval),
                                 multiplier: 1, maxDelay: .seconds(interval), jitter: false)
        } else {
            policy = RetryPolicy(maxAttempts: retries + 1, maxElapsed: nil, initialDelay: .seconds(interval),
                                 multiplier: 2, maxDelay: .seconds(max(interval, 10)), jitter: true)
        }
        let expectations = HealthExpectations(
            statuses: Set(expectStatus), bodyContains: expectBody, json: jsonExpectations,
            warnLatencyMs: warnLatency, critLatencyMs: critLatency, minCertificateDays: minCertDays)
        return (policy, expectations)
    }

    /// `--environment`: each host's health, side by side; the worst state is the exit code.
    func checkHosts(of name: String, logger: Logger) async -> Int32 {
        let session: DeploySession
        let policy: RetryPolicy
        let expectations: HealthExpectations
        do {
            guard urls.isEmpty else { throw ValidationError("--environment checks the hosts' own URLs: give no URL with it") }
            try checkFlags()
            (policy, expectations) = try checkSettings()
            session = try await DeploySession.open(environment: name, host: host, config: output.config,
                                                   processEnvironment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            Self.reportUsageError(Redactor.redact("\(error)"))
            return Self.usageExitCode
        }
        let members = session.fleet?.members ?? [session.deployer]
        let names = members.map { $0.environment.host ?? "this machine" }
        let urls = await HostHealthURLs.resolve(members)
        // The hosts that have a URL are checked all at once; a host SSH could not reach is CRITICAL.
        let reachable = urls.compactMap { try? $0.get() }
        var checked = await HealthCheck().run(reachable.map { target($0, policy: policy, expectations: expectations) })
            .results.makeIterator()
        let results: [HealthResult] = urls.map { url in
            switch url {
            case .success: return checked.next()!
            case .failure(let error):
                let reason = Redactor.redact("\(error)")
                return HealthResult(url: "-", status: .critical, summary: "not reachable: \(reason)",
                                    reasons: [reason], attempts: 1, error: reason)
            }
        }
        await session.close()
        let worst = HealthStatus.worst(results.map(\.status))
        if output.json {
            writeStdout(DeploySession.json(HostsDocument(status: worst, hosts: zip(names, results).map {
                HostResult(host: $0.0, result: $0.1)
            })))
        } else if !(output.quiet && worst == .ok) {
            let failing = results.filter { $0.status != .ok }.count
            let head = failing == 0 ? "\(results.count) hosts healthy" : "\(failing) of \(results.count) hosts not OK"
            // The plugin line first (what a monitoring system shows), then one line per host.
            writeStdout("HEALTH \(worst) - \(head)\n" + HostTable.render(zip(names, results).map {
                [$0.0, $0.1.status.rawValue, $0.1.summary]
            }))
        }
        return worst.exitCode
    }

    struct HostsDocument: Encodable {
        let status: HealthStatus
        let hosts: [HostResult]
    }

    struct HostResult: Encodable {
        let host: String
        let result: HealthResult
    }

}
