import ArgumentParser
import Deploy
import FoundationEssentials
import Logging
import Monitor
import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// `monitor`: is the VPS and its app well? A report, a plugin line, JSON or a Prometheus textfile; alerts on
/// changes only. The checks live in the Monitor library; this parses flags and prints.
struct MonitorCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Check the host, its containers, health URLs, certificates and backups; alert on changes.",
        discussion: """
        Checks disks and inodes, memory and swap, load per core, a pending reboot, every container (Docker
        Engine API on /var/run/docker.sock), the health URLs and TLS certificates of opskit.yml, and the age of
        the newest backup. Thresholds and alert targets: the monitor: section of opskit.yml (docs/monitor.md).

        EXIT CODES (Monitoring Plugins):
          0 OK   1 WARNING   2 CRITICAL   3 UNKNOWN (a check could not run, or bad arguments/configuration)

        EXAMPLES:
          monitor                                         # the report, then the one-line summary
          monitor --json | jq '.checks[] | select(.state != "OK")'
          */5 * * * * root /opt/opskit/bin/monitor --quiet --alert --ping https://hc-ping.com/UUID --config /opt/app/opskit.yml
          monitor --prometheus /var/lib/node_exporter/textfile/opskit.prom --quiet
          monitor --watch 60 --alert                      # a systemd service instead of cron
          monitor --environment production                # every host of environments.production.hosts, over SSH
        """
    )
    static var usageExitCode: Int32 { 3 }

    @Option(help: ArgumentHelp("Also write the checks in node_exporter's textfile format to FILE (atomically).",
                               valueName: "file"))
    var prometheus: String?

    @Flag(help: "Send notifications (opskit.yml monitor.alert) for checks that changed state.")
    var alert = false

    @Option(help: ArgumentHelp("Run every N seconds in the foreground until stopped (for a systemd service).",
                               valueName: "seconds"))
    var watch: Int?

    @Option(help: ArgumentHelp("Ping this dead-man URL after every run (URL/fail when not OK); or monitor.ping.",
                               valueName: "url"))
    var ping: String?

    @Option(name: [.customLong("environment"), .customShort("e")],
            help: ArgumentHelp("Run the monitor of every host of this environment's hosts: list over SSH, one line each.",
                               valueName: "name"))
    var environment: String?

    @Option(help: ArgumentHelp("With --environment: only this host of the list.", valueName: "user@host[:port]"))
    var host: String?

    @Option(name: .customLong("remote-bin"),
            help: ArgumentHelp("With --environment: opskit's bin/ on the hosts (default: PATH, else /opt/opskit/bin).",
                               valueName: "dir"))
    var remoteBin: String?

    @Option(name: .customLong("remote-config"),
            help: ArgumentHelp("With --environment: the opskit.yml on the hosts for their monitor.", valueName: "file"))
    var remoteConfig: String?

    @OptionGroup var output: OutputOptions

    static func reportUsageError(_ message: String) {
        writeStdout("MONITOR UNKNOWN - \(message)")
    }

    mutating func execute() async -> Int32 {
        await options.execute()
    }

    /// The parsed arguments as plain values: what both parsers produce (see `MonitorOptions.quickParse`).
    var options: MonitorOptions {
        MonitorOptions(prometheus: prometheus, alert: alert, watch: watch, ping: ping, config: output.config,
                       json: output.json, quiet: output.quiet, verbose: output.verbose, logFormat: output.logFormat,
                       environment: environment, host: host, remoteBin: remoteBin, remoteConfig: remoteConfig)
    }

    static func runQuickly(_ arguments: [String]) async -> Int32? {
        guard let options = MonitorOptions.quickParse(arguments) else { return nil }
        return await options.execute()
    }
}

/// `monitor`'s arguments, parsed. `execute()` is the whole tool once they are known.
struct MonitorOptions: Equatable, Sendable {
    var prometheus: String?
    var alert = false
    var watch: Int?
    var ping: String?
    var config: String?
    var json = false
    var quiet = false
    var verbose = false
    var logFormat: LogFormat = .human
    var environment: String?
    var host: String?
    var remoteBin: String?
    var remoteConfig: String?

    var logLevel: Logger.Level { verbose ? .debug : (quiet ? .error : .notice) }

    /// The common, well-formed invocations (`--json --config F`, `--quiet --alert --ping URL`, …) parsed
    /// without swift-argument-parser, whose reflection costs a run ~2.5 ms — a sixth of what monitor needs,
    /// run every minute from cron. nil for anything else (help, a mistake, an unusual form): then
    /// argument-parser parses as always and says what is wrong. Tests check both parsers agree on every
    /// invocation this accepts (QuickArgumentsTests).
    static func quickParse(_ arguments: [String]) -> MonitorOptions? {
        guard let quick = QuickArguments(arguments, flags: ["alert", "json", "quiet", "verbose"],
                                         options: ["prometheus", "watch", "ping", "config", "log-format"],
                                         shortFlags: [("q", "quiet"), ("v", "verbose")])
        else { return nil }
        var options = MonitorOptions(prometheus: quick.value("prometheus"), alert: quick.flags.contains("alert"),
                                     ping: quick.value("ping"), config: quick.value("config"),
                                     json: quick.flags.contains("json"), quiet: quick.flags.contains("quiet"),
                                     verbose: quick.flags.contains("verbose"))
        if let text = quick.value("watch") {
            guard let seconds = Int(text) else { return nil }
            options.watch = seconds
        }
        if let text = quick.value("log-format") {
            guard let format = LogFormat(rawValue: text) else { return nil }
            options.logFormat = format
        }
        return options
    }

    func execute() async -> Int32 {
        Log.bootstrap(tool: "monitor", format: logFormat, level: logLevel)
        let logger = Logger(label: "monitor")
        if let name = self.environment { return await monitorHosts(of: name, logger: logger) }
        let environment = ProcessEnvironment.current()
        let settings: MonitorSettings
        let stateDirectory: String
        do {
            if let watch, !(1...86_400).contains(watch) { throw ValidationError("--watch must be 1–86400 seconds") }
            if let ping, !(ping.hasPrefix("https://") || ping.hasPrefix("http://")) {
                throw ValidationError("--ping needs an http(s) URL")
            }
            let config = try OpsConfig.load(explicitPath: config, environment: environment)
            var resolved = try MonitorSettings.resolve(config: config, environment: environment)
            if let ping { resolved.ping = ping }
            if alert && resolved.webhooks.isEmpty {
                throw ValidationError("--alert needs somewhere to send: set monitor.alert.slack, discord, webhook or ntfy in opskit.yml")
            }
            settings = resolved
            stateDirectory = try StateDirectory.local(app: settings.app, environment: environment)
        } catch {
            MonitorCommand.reportUsageError(Redactor.redact("\(error)"))
            return MonitorCommand.usageExitCode
        }
        let cycle = MonitorCycle(settings: settings, environment: environment, stateDirectory: stateDirectory,
                                 alert: alert, prometheus: prometheus, logger: logger)
        guard let watch else {
            let report = await cycle.run()
            print(report, watching: false)
            return report.exitCode
        }
        return await watchLoop(every: watch, cycle: cycle)
    }

    /// `--environment`: each host's own monitor over SSH, side by side; one line per host, the worst state wins.
    func monitorHosts(of name: String, logger: Logger) async -> Int32 {
        let session: DeploySession
        do {
            if alert || prometheus != nil || watch != nil || ping != nil {
                throw ValidationError("--environment only reads the hosts' state; --alert, --ping, --prometheus and --watch belong to each host's own monitor (its cron)")
            }
            session = try await DeploySession.open(environment: name, host: host, config: config,
                                                   processEnvironment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            MonitorCommand.reportUsageError(Redactor.redact("\(error)"))
            return MonitorCommand.usageExitCode
        }
        let members = session.fleet?.members ?? [session.deployer]
        let hosts = members.map { (name: $0.environment.host ?? "this machine", target: $0.target) }
        let results = await RemoteMonitor(remoteBin: remoteBin, remoteConfig: remoteConfig).run(on: hosts)
        await session.close()
        let worst = HealthStatus.worst(results.map(\.state))
        if json {
            let document: JSONValue = .object([
                "status": .string(worst.rawValue), "exitCode": .number(Double(worst.exitCode)),
                "hosts": .array(results.map { result in
                    var object: [String: JSONValue] = ["host": .string(result.host), "status": .string(result.state.rawValue),
                                                       "summary": .string(result.summary)]
                    if let document = result.document { object["report"] = document }
                    return .object(object)
                }),
            ])
            writeStdout(document.serialized(pretty: true))
        } else if !(quiet && worst == .ok) {
            let failing = results.filter { $0.state != .ok }.count
            let head = failing == 0 ? "\(results.count) hosts OK" : "\(failing) of \(results.count) hosts not OK"
            writeStdout("MONITOR \(worst.rawValue) - \(head)\n"
                + HostTable.render(results.map { [$0.host, $0.state.rawValue, $0.summary] }))
        }
        return worst.exitCode
    }

    /// Runs a cycle every `seconds` (measured from one start to the next) until SIGINT or SIGTERM.
    func watchLoop(every seconds: Int, cycle: MonitorCycle) async -> Int32 {
        let task = Task<Int32, Never> {
            let clock = ContinuousClock()
            var next = clock.now
            while !Task.isCancelled {
                let report = await cycle.run()
                print(report, watching: true)
                next = next.advanced(by: .seconds(seconds))
                if next < clock.now { next = clock.now }  // a slow cycle: start the next one now, do not pile up
                try? await Task.sleep(until: next, clock: clock)
            }
            return 0
        }
        // SIGTERM/SIGINT end the loop between runs, silently: stopping is the service manager's normal request.
        // No restore() afterwards: `timeout` and service managers may signal the whole process group a second
        // time, which must not kill the process on its way out.
        let interrupts = Interrupts(cancelling: task, announce: nil)
        let code = await task.value
        withExtendedLifetime(interrupts) {}
        return code
    }

    func print(_ report: MonitorReport, watching: Bool) {
        if json {
            writeStdout(report.jsonDocument(pretty: !watching))
        } else if quiet {
            if report.state != .ok { writeStdout(report.pluginLine) }
        } else {
            let color = StandardStreams.isTerminal(1) && (getenv("NO_COLOR").map { String(cString: $0) } ?? "").isEmpty
            writeStdout(report.table(color: color) + "\n" + report.pluginLine)
        }
    }
}
