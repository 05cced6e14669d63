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

        With `hosts:` every host goes back at once, all or nothing, and the hosts must agree on the version (name
        one as the argument when they do not); --list shows each host's history.

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
        // Every host at once: a rollback is the way out of an emergency, not a rollout.
        guard let session = await DeploySession.start(Self.self, environment: environment, host: host, output: output,
                                                      batch: .percent(100))
        else { return Self.usageExitCode }
        let code = list ? await printHistory(session) : await rollback(session)
        await session.close()
        return code
    }

    func rollback(_ session: DeploySession) async -> Int32 {
        var options = DeployOptions.resolve(environment: session.deployer.environment, tag: nil, image: nil,
                                            processEnvironment: [:], command: "rollback \(environment)")
        options.lockWait = .seconds(lockWait)
        let selector = self.selector
        if let fleet = session.fleet {
            if change.dryRun {
                do {
                    let goals = try await fleet.rollbackGoals(selector)
                    let lines = goals.map { "\($0.host): back to \($0.goal.imageTag) (\($0.goal.id))" }
                    writeStdout((output.json ? DeploySession.json(goals.map { FleetGoal(host: $0.host, goal: $0.goal) })
                                 : lines.joined(separator: "\n")))
                    if Set(goals.map(\.goal.imageTag)).count > 1 {
                        writeStderr("\(environment): the hosts would go back to different versions; name one: rollback \(environment) TAG — nothing was changed\n")
                        return 1
                    }
                    writeStderr("dry run: nothing was changed\n")
                    return 0
                } catch {
                    writeStderr("\(environment): \(Redactor.redact("\(error)"))\n")
                    return 1
                }
            }
            guard session.confirm("roll \(environment) back on \(fleet.members.count) hosts", change: change, tool: "rollback")
            else { return 1 }
            let captured = options
            return await session.runFleet(json: output.json, quiet: output.quiet) { fleet in
                await fleet.rollback(to: selector, options: captured)
            }
        }
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
        let captured = options
        return await session.run(json: output.json, quiet: output.quiet) { deployer in
            try await deployer.rollback(to: selector, options: captured)
        }
    }

    struct FleetGoal: Encodable {
        let host: String
        let goal: Deployment
    }

    struct HostHistory: Encodable {
        let host: String
        let deployments: [Deployment]
    }

    func printHistory(_ session: DeploySession) async -> Int32 {
        if let fleet = session.fleet {
            var all: [HostHistory] = []
            var text: [String] = []
            for member in fleet.members {
                let name = member.environment.host ?? "\(member.target)"
                do {
                    let history = try await member.history()
                    all.append(HostHistory(host: name, deployments: history))
                    text.append("\(name):\n" + historyTable(history))
                } catch {
                    writeStderr("rollback: \(name): \(Redactor.redact("\(error)"))\n")
                    return 1
                }
            }
            writeStdout(output.json ? DeploySession.json(all) : text.joined(separator: "\n\n"))
            return 0
        }
        do {
            let history = try await session.deployer.history()
            if output.json {
                writeStdout(DeploySession.json(history))
                return 0
            }
            writeStdout(historyTable(history))
            return 0
        } catch {
            writeStderr("rollback: \(Redactor.redact("\(error)"))\n")
            return 1
        }
    }

    func historyTable(_ history: [Deployment]) -> String {
        guard !history.isEmpty else { return "no deployments of \(environment) yet" }
        let current = DeploymentJournal.current(in: history)?.id
        var lines = ["  ID                 KIND      VERSION              STATUS        STARTED               DURATION"]
        for d in history.reversed() {
            let marker = d.id == current ? "*" : " "
            let duration = d.duration.map { "\(Int($0.rounded())) s" } ?? "-"
            lines.append("\(marker) \(pad(d.id, 18)) \(pad(d.kind.rawValue, 9)) \(pad(d.imageTag, 20)) \(pad(d.status.rawValue, 13)) \(pad(Self.iso(d.startedAt), 21)) \(duration)")
        }
        return lines.joined(separator: "\n")
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func iso(_ date: Date) -> String {
        String(date.formatted(.iso8601).prefix(19)).replacing("T", with: " ")
    }
}
