import Deploy
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What `deploy` and `rollback` share: configuration, the target (maybe over SSH), interrupts, output.
struct DeploySession: Sendable {
    let deployer: Deployer
    let connection: SSHConnection?

    static func open(environment name: String, host: String?, config path: String?,
                     processEnvironment env: [String: String], logger: Logger) async throws -> DeploySession {
        let config = try OpsConfig.load(explicitPath: path, environment: env)
        let environment = try DeployEnvironment.load(name, from: config)
        var connection: SSHConnection?
        let hostText = host ?? environment.host ?? Self.legacyHost(env)
        if let hostText {
            let options = SSHOptions(identityFile: env["OPSKIT_SSH_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                                     knownHostsFile: env["OPSKIT_SSH_KNOWN_HOSTS"].flatMap { $0.isEmpty ? nil : $0 })
            connection = SSHConnection(host: try SSHHost(parsing: hostText), options: options)
        }
        let target = connection.map(Target.ssh) ?? .local
        return DeploySession(
            deployer: Deployer(environment: environment, target: target, logger: logger, processEnvironment: env),
            connection: connection)
    }

    /// Sets up logging and opens the session for `tool`; a configuration problem is reported the tool's way
    /// and gives nil (the caller exits with its usage code).
    static func start<Tool: OpsKitTool>(_ tool: Tool.Type, environment: String, host: String?, output: OutputOptions)
        async -> DeploySession?
    {
        let name = tool.configuration.commandName ?? "deploy"
        Log.bootstrap(tool: name, format: output.logFormat, level: output.logLevel)
        do {
            return try await open(environment: environment, host: host, config: output.config,
                                  processEnvironment: ProcessInfo.processInfo.environment, logger: Logger(label: name))
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
        await connection?.close()
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
