import Deploy
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What `deploy` and `rollback` share: configuration, the target (maybe over SSH), interrupts, output.
struct DeploySession: Sendable {
    /// The one host's deployer (for a fleet: the first host's, for what all hosts share).
    let deployer: Deployer
    /// `hosts:` in the environment (and no `--host` picking one of them): every host, all or nothing.
    let fleet: FleetDeployer?
    let connections: [SSHConnection]

    var connection: SSHConnection? { connections.first }

    static func open(environment name: String, host: String?, config path: String?,
                     processEnvironment env: [String: String], logger: Logger, batch: Batch? = nil,
                     allowPartial: Bool = false) async throws -> DeploySession {
        let config = try OpsConfig.load(explicitPath: path, environment: env)
        let environment = try DeployEnvironment.load(name, from: config)
        let options = SSHOptions(identityFile: env["OPSKIT_SSH_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                                 knownHostsFile: env["OPSKIT_SSH_KNOWN_HOSTS"].flatMap { $0.isEmpty ? nil : $0 })
        func member(_ environment: DeployEnvironment, host hostText: String?, logger: Logger) throws -> (Deployer, SSHConnection?) {
            let connection = try hostText.map { SSHConnection(host: try SSHHost(parsing: $0), options: options) }
            let target = connection.map(Target.ssh) ?? .local
            return (Deployer(environment: environment, target: target, logger: logger, processEnvironment: env), connection)
        }
        if !environment.fleet.isEmpty {
            if let host {
                // `--host` picks one host of the list: a deliberate single-host run (e.g. to repair one).
                guard let one = environment.fleet.first(where: { $0.host == host || DeployEnvironment.hostName($0.host ?? "") == host }) else {
                    throw ConfigError.invalidValue(key: "--host", value: host, expected:
                        "one of environments.\(name).hosts: \(environment.fleet.compactMap(\.host).joined(separator: ", "))")
                }
                let (deployer, connection) = try member(one, host: one.host, logger: logger)
                return DeploySession(deployer: deployer, fleet: nil, connections: connection.map { [$0] } ?? [])
            }
            var members: [Deployer] = []
            var connections: [SSHConnection] = []
            for one in environment.fleet {
                var hostLogger = logger
                hostLogger[metadataKey: "host"] = "\(DeployEnvironment.hostName(one.host ?? ""))"
                let (deployer, connection) = try member(one, host: one.host, logger: hostLogger)
                members.append(deployer)
                if let connection { connections.append(connection) }
            }
            let fleet = FleetDeployer(members: members, batch: batch ?? environment.batch, allowPartial: allowPartial,
                                      logger: logger)
            return DeploySession(deployer: members[0], fleet: fleet, connections: connections)
        }
        let (deployer, connection) = try member(environment, host: host ?? environment.host ?? Self.legacyHost(env),
                                                logger: logger)
        return DeploySession(deployer: deployer, fleet: nil, connections: connection.map { [$0] } ?? [])
    }

    /// Sets up logging and opens the session for `tool`; a configuration problem is reported the tool's way
    /// and gives nil (the caller exits with its usage code).
    static func start<Tool: OpsKitTool>(_ tool: Tool.Type, environment: String, host: String?, output: OutputOptions,
                                        batch: Batch? = nil, allowPartial: Bool = false)
        async -> DeploySession?
    {
        let name = tool.configuration.commandName ?? "deploy"
        Log.bootstrap(tool: name, format: output.logFormat, level: output.logLevel)
        do {
            return try await open(environment: environment, host: host, config: output.config,
                                  processEnvironment: ProcessInfo.processInfo.environment, logger: Logger(label: name),
                                  batch: batch, allowPartial: allowPartial)
        } catch {
            tool.reportUsageError(Redactor.redact("\(error)"))
            return nil
        }
    }

    /// Asks on a terminal unless `--yes`; scripts and CI (no terminal) are not asked: the release is
    /// health-gated and reverts itself, and deploy.sh never asked either.
    func confirm(_ question: String, change: ChangeOptions, tool: String) -> Bool {
        guard !change.yes, StandardStreams.isTerminal(0), StandardStreams.isTerminal(2) else { return true }
        guard (try? Prompt(assumeYes: false).confirm(question)) == true else {
            writeStderr("\(tool): not confirmed; nothing was changed\n")
            return false
        }
        return true
    }

    /// `VPS_USER@VPS_HOST`, as the bash scripts took it.
    static func legacyHost(_ env: [String: String]) -> String? {
        guard let host = env["VPS_HOST"], !host.isEmpty else { return nil }
        if let user = env["VPS_USER"], !user.isEmpty { return "\(user)@\(host)" }
        return host
    }

    func close() async {
        await withTaskGroup(of: Void.self) { group in
            for connection in connections { group.addTask { await connection.close() } }
        }
    }

    /// Runs a release over every host of the fleet; prints one line per host; 0 only when every host deployed.
    func runFleet(json: Bool, quiet: Bool, _ body: @escaping @Sendable (FleetDeployer) async -> FleetReport) async -> Int32 {
        guard let fleet else { return 1 }
        let task = Task<Int32, Never> {
            let report = await body(fleet)
            // --allow-partial keeps what deployed, but a host that failed is still a failure for cron and CI.
            let ok = report.status == "deployed"
            if json {
                writeStdout(Self.json(report))
            }
            let text = Self.fleetTable(report)
            if !ok {
                writeStderr("\(deployer.environment.name): \(report.headline)\n" + text + "\n")
            } else if !json && !quiet {
                writeStdout("\(report.headline)\n" + text)
            }
            return ok ? 0 : 1
        }
        let interrupts = Interrupts(cancelling: task)
        let code = await task.value
        interrupts.restore()
        return code
    }

    /// One line per host: host, state, what serves, why.
    static func fleetTable(_ report: FleetReport) -> String {
        HostTable.render(report.hosts.map { [$0.host, $0.state.rawValue, $0.serving ?? "-", $0.detail ?? ""] })
    }

    /// `--dry-run` for a fleet: each host's plan under its name, the batches first.
    func printFleetPlan(_ options: DeployOptions, json: Bool) async -> Int32 {
        guard let fleet else { return 1 }
        let plans = await fleet.plans(options)
        let size = fleet.batch.size(of: fleet.members.count)
        let names = fleet.members.map { $0.environment.host ?? "\($0.target)" }
        var failed = false
        var lines = ["\(fleet.members.count) hosts, \(size) at a time (batch \(fleet.batch)); locks taken in this order: \(names.joined(separator: ", "))",
                     "all or nothing: if any host fails, every host already switched goes back" + (fleet.allowPartial ? " (not with --allow-partial)" : "")]
        var steps: [String: [String]] = [:]
        for (i, plan) in plans.enumerated() {
            switch plan {
            case .success(let hostSteps):
                steps[names[i]] = hostSteps
                lines.append("\(names[i]):")
                lines += hostSteps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
            case .failure(let error):
                failed = true
                lines.append("\(names[i]): \(Redactor.redact("\(error)"))")
            }
        }
        if json {
            writeStdout(Self.json(FleetPlan(dryRun: true, batch: "\(fleet.batch)", order: names, hosts: steps)))
        } else {
            writeStdout(lines.joined(separator: "\n"))
        }
        writeStderr(failed ? "\(deployer.environment.name): a check failed on a host (above); nothing was changed\n"
                           : "dry run: nothing was changed\n")
        return failed ? 1 : 0
    }

    struct FleetPlan: Encodable {
        let dryRun: Bool
        let batch: String
        let order: [String]
        let hosts: [String: [String]]
    }

    /// Runs a release with Ctrl-C/SIGTERM turned into a clean stop; prints the result; returns the exit code.
    func run(json: Bool, quiet: Bool, _ body: @escaping @Sendable (Deployer) async throws -> Deployment) async -> Int32 {
        let deployer = self.deployer
        let task = Task<Int32, Never> {
            do {
                let deployment = try await body(deployer)
                if json {
                    writeStdout(Self.json(deployment))
                } else if !quiet {
                    writeStdout(Self.summary(deployment, environment: deployer.environment.name))
                }
                return 0
            } catch {
                let message = Redactor.redact("\(error)")
                if json { writeStdout(Self.json(Failure(status: "failed", error: message))) }
                writeStderr("\(deployer.environment.name): \(message)\n")
                return 1
            }
        }
        let interrupts = Interrupts(cancelling: task)
        let code = await task.value
        interrupts.restore()
        return code
    }

    func printPlan(_ options: DeployOptions, json: Bool) async -> Int32 {
        do {
            let steps = try await deployer.plan(options)
            if json {
                writeStdout(Self.json(Plan(dryRun: true, steps: steps)))
            } else {
                writeStdout(steps.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n"))
                writeStderr("dry run: nothing was changed\n")
            }
            return 0
        } catch {
            writeStderr("\(deployer.environment.name): \(Redactor.redact("\(error)"))\n")
            return 1
        }
    }

    static func summary(_ d: Deployment, environment: String) -> String {
        let seconds = d.duration.map { " in \(Int($0.rounded())) s" } ?? ""
        let verb = d.kind == .rollback ? "rolled back \(environment) to" : "deployed"
        let to = d.kind == .rollback ? "" : " to \(environment)"
        return "\(verb) \(d.image)\(to) (\(d.id)\(d.color.map { ", \($0)" } ?? "")\(d.port.map { " on :\($0)" } ?? ""))\(seconds)"
    }

    struct Failure: Encodable {
        let status: String
        let error: String
    }

    struct Plan: Encodable {
        let dryRun: Bool
        let steps: [String]
    }

    static func json(_ value: some Encodable) -> String {
        return (try? JSONCoding.encoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
