import ArgumentParser
import Deploy
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// `rollback`: back to the previous good deployment, through the same health-gated switch.
struct RollbackCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Go back to the previous successful deployment (or a given one), health-gated like deploy.",
        discussion: """
        Without an argument, returns to the successful deployment before the current one. If that version is not
        healthy, the current one keeps serving and rollback says so.

        EXIT CODES: 0 rolled back (or listed)   1 not rolled back (the current version keeps serving)
                    2 bad arguments or configuration

        EXAMPLES:
          rollback production                        # back to the previous good deployment
          rollback production 20260120_143000        # to a deployment id from --list
          rollback production v1.4.1                 # to the last good deployment of a tag
          rollback production --list                 # the history; --json for machines
        """
    )

    @Argument(help: "The environment in opskit.yml.")
    var environment: String

    @Argument(help: ArgumentHelp("A deployment id or image tag from --list (default: the previous good one).",
                                 valueName: "deployment-id-or-tag"))
    var selector: String?

    @Flag(help: "List the deployment history instead of rolling back.")
    var list = false

    @Option(help: ArgumentHelp("Run on this host over SSH (default: the environment's host).", valueName: "user@host[:port]"))
    var host: String?

    @Option(name: .customLong("lock-wait"),
            help: ArgumentHelp("Wait this long for a running deploy of this environment.", valueName: "seconds"))
    var lockWait: Int = 0

    @OptionGroup var change: ChangeOptions
    @OptionGroup var output: OutputOptions

    mutating func execute() async -> Int32 {
        guard let session = await DeploySession.start(Self.self, environment: environment, host: host, output: output)
        else { return Self.usageExitCode }
        let code = list ? await printHistory(session) : await rollback(session)
        await session.close()
        return code
    }

    func rollback(_ session: DeploySession) async -> Int32 {
        var options = DeployOptions.resolve(environment: session.deployer.environment, tag: nil, image: nil,
                                            processEnvironment: [:], command: "rollback \(environment)")
        options.lockWait = .seconds(lockWait)
        if change.dryRun {
            do {
                let goal = try Deployer.rollbackGoal(selector, in: try await session.deployer.history(),
                                                     environment: environment)
                options.image = goal.image
                options.imageTag = goal.imageTag
            } catch {
                writeStderr("\(environment): \(Redactor.redact("\(error)"))\n")
                return 1
            }
            return await session.printPlan(options, json: output.json)
        }
        guard session.confirm("roll \(environment) back on \(session.deployer.target)", change: change, tool: "rollback")
        else { return 1 }
        let selector = self.selector
        let captured = options
        return await session.run(json: output.json, quiet: output.quiet) { deployer in
            try await deployer.rollback(to: selector, options: captured)
        }
    }

    func printHistory(_ session: DeploySession) async -> Int32 {
        do {
            let history = try await session.deployer.history()
            if output.json {
                writeStdout(DeploySession.json(history))
                return 0
            }
            guard !history.isEmpty else {
                writeStdout("no deployments of \(environment) yet")
                return 0
            }
            let current = DeploymentJournal.current(in: history)?.id
            var lines = ["  ID                 KIND      VERSION              STATUS        STARTED               DURATION"]
            for d in history.reversed() {
                let marker = d.id == current ? "*" : " "
                let duration = d.duration.map { "\(Int($0.rounded())) s" } ?? "-"
                lines.append("\(marker) \(pad(d.id, 18)) \(pad(d.kind.rawValue, 9)) \(pad(d.imageTag, 20)) \(pad(d.status.rawValue, 13)) \(pad(Self.iso(d.startedAt), 21)) \(duration)")
            }
            writeStdout(lines.joined(separator: "\n"))
            return 0
        } catch {
            writeStderr("rollback: \(Redactor.redact("\(error)"))\n")
            return 1
        }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func iso(_ date: Date) -> String {
        String(date.formatted(.iso8601).prefix(19)).replacing("T", with: " ")
    }
}
