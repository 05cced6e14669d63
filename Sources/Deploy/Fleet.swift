import FoundationEssentials
import Logging
import OpsCore
import Shell

/// One host's part of a run over several hosts, as the summary and `--json` give it.
public struct HostOutcome: Sendable, Encodable, Equatable {
    public enum State: String, Sendable, Encodable, Equatable {
        /// The new version serves here.
        case deployed
        /// It went live and passed its watch here, then was switched back because another host failed.
        case switchedBack = "switched-back"
        /// This host's own release failed (gate, watch, a step); its previous version serves.
        case failed
        /// Nothing was done here (a check failed somewhere, or the run stopped before this host's batch).
        case unchanged
        /// Switching back failed: the new version may still serve here. A person must look.
        case stuck
    }

    public let host: String
    public var state: State
    /// What serves on this host now, as far as this run knows.
    public var serving: String?
    public var deployment: String?
    public var detail: String?
}

/// How a run over several hosts ended.
public struct FleetReport: Sendable, Encodable {
    /// `deployed` (every host), `partial` (`--allow-partial`, some hosts failed), `failed` (no host changed for good).
    public var status: String
    public var kind: Deployment.Kind
    public var version: String
    public var image: String
    public var batch: String
    public var hosts: [HostOutcome]

    public var succeeded: Bool { status == "deployed" }

    /// The worst state first: what someone reading at 3 a.m. must see first.
    public var headline: String {
        let deployed = hosts.filter { $0.state == .deployed }.count
        let verb = kind == .rollback ? "rolled back to" : "deployed"
        switch status {
        case "deployed": return "\(verb) \(version) on all \(hosts.count) hosts"
        case "partial": return "\(verb) \(version) on \(deployed) of \(hosts.count) hosts (--allow-partial); the others keep their previous version"
        default:
            if hosts.contains(where: { $0.state == .stuck }) {
                return "not \(verb) \(version), and switching back failed on \(hosts.filter { $0.state == .stuck }.map(\.host).joined(separator: ", ")): look at those hosts now"
            }
            let changed = hosts.contains { $0.state == .switchedBack || $0.state == .failed }
            return "not \(verb) \(version): " + (changed
                ? "every host that switched was switched back; all \(hosts.count) hosts serve their previous version"
                : "nothing was changed on any host")
        }
    }
}

/// Deploys (or rolls back) one environment on several hosts, all or nothing.
///
/// Every host is checked first, then locked one after another in a fixed order (sorted by host, so two runs
/// cannot each hold the lock the other waits for). Hosts switch in batches, each host through the same
/// health-gated blue-green switch and watch as a single host; the previous version keeps running on every
/// switched host until the last batch passed. If any host fails, every host already switched goes back,
/// so no run ends with mixed versions, unless `allowPartial`.
public struct FleetDeployer: Sendable {
    public let members: [Deployer]
    public let batch: Batch
    public let allowPartial: Bool
    let logger: Logger

    public init(members: [Deployer], batch: Batch, allowPartial: Bool, logger: Logger) {
        self.members = members
        self.batch = batch
        self.allowPartial = allowPartial
        self.logger = logger
    }

    /// The host as people name it (`deploy@10.0.0.11:2222` without a default user and port).
    static func name(_ deployer: Deployer) -> String { deployer.environment.host ?? "\(deployer.target)" }

    public func deploy(_ options: DeployOptions) async -> FleetReport {
        await run(kind: .deploy, options: options) { _ in
            (options.image, options.imageTag, options.commitSha)
        }
    }

    /// Each host back to the deployment named by id or tag, or to its previous good one; the hosts must agree
    /// on the version (else nothing changes and the message says which host would go where).
    public func rollback(to selector: String?, options: DeployOptions) async -> FleetReport {
        await run(kind: .rollback, options: options) { history in
            let goal = try Deployer.rollbackGoal(selector, in: history, environment: members[0].environment.name)
            return (goal.image, goal.imageTag, goal.commitSha)
        }
    }

    /// What each host would go back to, and whether they agree (for `rollback --dry-run`).
    public func rollbackGoals(_ selector: String?) async throws -> [(host: String, goal: Deployment)] {
        try await parallel(members) { member in
            (Self.name(member), try Deployer.rollbackGoal(selector, in: try await member.history(),
                                                           environment: member.environment.name))
        }
    }

    /// Every host's `--dry-run` plan (or why its checks failed), side by side, in host order.
    public func plans(_ options: DeployOptions) async -> [Result<[String], any Error>] {
        await parallelResults(members) { member in try await member.plan(options) }
    }

    typealias Goal = (image: String, tag: String, commitSha: String?)

    private func run(kind: Deployment.Kind, options: DeployOptions,
                     goal: @escaping @Sendable ([Deployment]) throws -> Goal) async -> FleetReport {
        let report = await runQuietly(kind: kind, options: options, goal: goal)
        await notify(report)
        return report
    }

    /// One message for the whole run, with a line per host, instead of one per host.
    func notify(_ report: FleetReport) async {
        // Like one host: a run that stopped at its checks changed nothing and says so only on its terminal.
        guard let first = members.first, !first.webhooks.isEmpty,
              report.hosts.contains(where: { $0.state != .unchanged }) else { return }
        let environment = first.environment
        let lines = report.hosts.map { "\($0.host): \($0.state.rawValue)" + ($0.detail.map { " — \($0)" } ?? "") }
        let text = "\(environment.app) \(environment.name): \(report.headline)\n" + lines.joined(separator: "\n")
        let fields: [String: JSONValue] = [
            "app": .string(environment.app), "environment": .string(environment.name),
            "kind": .string(report.kind.rawValue), "version": .string(report.version), "image": .string(report.image),
            "status": .string(report.status),
            "hosts": .array(report.hosts.map { host in
                var object: [String: JSONValue] = ["host": .string(host.host), "state": .string(host.state.rawValue)]
                if let detail = host.detail { object["detail"] = .string(detail) }
                if let id = host.deployment { object["id"] = .string(id) }
                return .object(object)
            }),
        ]
        await first.send(Notification(text: Redactor.redact(text), fields: fields))
    }

    private func runQuietly(kind: Deployment.Kind, options: DeployOptions,
                            goal: @escaping @Sendable ([Deployment]) throws -> Goal) async -> FleetReport {
        let members = self.members.map { member in
            var quiet = member
            quiet.sendsNotifications = false
            return quiet
        }
        let names = members.map(Self.name)
        var outcomes = names.map { HostOutcome(host: $0, state: .unchanged) }
        var report = FleetReport(status: "failed", kind: kind, version: options.imageTag, image: options.image,
                                 batch: "\(batch)", hosts: outcomes)
        func fail(_ index: Int, _ error: any Error) {
            outcomes[index].detail = Redactor.redact("\(error)")
            report.hosts = outcomes
        }

        // 1. Every host is checked (side by side) before any host changes.
        let checked: [Result<(Deployer.Context, Goal, String?), any Error>] = await parallelResults(members) { member in
            let context = try await member.prepare(image: options.image)
            let history = try await context.journal.load()
            return (context, try goal(history), DeploymentJournal.current(in: history)?.imageTag)
        }
        for (i, result) in checked.enumerated() {
            switch result {
            case .failure(let error): outcomes[i].state = .failed; fail(i, error)
            case .success(let (_, _, serving)): outcomes[i].serving = serving
            }
        }
        report.hosts = outcomes
        let contexts = checked.compactMap { try? $0.get() }.map { ($0.0, $0.1) }
        guard contexts.count == members.count else {
            for i in outcomes.indices where outcomes[i].state == .failed { outcomes[i].state = .unchanged }
            report.hosts = outcomes
            return report
        }
        let goals = contexts.map(\.1)
        if Set(goals.map(\.tag)).count > 1 {
            for i in outcomes.indices { outcomes[i].detail = "would go back to \(goals[i].tag)" }
            report.hosts = outcomes
            report.version = goals.map(\.tag).joined(separator: "/")
            return report
        }
        report.version = goals[0].tag
        report.image = goals[0].image
        var goalOptions = options
        goalOptions.image = goals[0].image
        goalOptions.imageTag = goals[0].tag
        let hostOptions = goalOptions

        // 2. The locks, one after another in the fixed order.
        var locks: [DeployLock] = []
        for (i, member) in members.enumerated() {
            do {
                locks.append(try await DeployLock.acquire(on: member.target, path: contexts[i].0.lockPath,
                                                          command: options.command, wait: options.lockWait,
                                                          logger: member.logger))
            } catch {
                fail(i, error)
                await Task { for lock in locks.reversed() { await lock.release() } }.value
                return report
            }
        }

        // 3. Batches: each host stages (start beside, gate, switch, watch) with its previous version kept.
        let size = batch.size(of: members.count)
        var staged: [Int: Deployer.Staged] = [:]
        var failedHosts: [Int] = []
        var stopped = false
        for start in stride(from: 0, to: members.count, by: size) {
            let indices = Array(start..<min(start + size, members.count))
            if members.count > 1 {
                logger.notice("batch \(start / size + 1) of \((members.count + size - 1) / size): \(indices.map { names[$0] }.joined(separator: ", "))")
            }
            let results = await parallelResults(indices) { i in
                try await members[i].stageLocked(image: goals[i].image, tag: goals[i].tag, commitSha: goals[i].commitSha,
                                                 kind: kind, options: hostOptions, context: contexts[i].0)
            }
            for (offset, i) in indices.enumerated() {
                switch results[offset] {
                case .success(let stage):
                    staged[i] = stage
                    outcomes[i].deployment = stage.deployment.id
                case .failure(let error):
                    outcomes[i].state = .failed
                    fail(i, error)
                    failedHosts.append(i)
                }
            }
            if Task.isCancelled || (!failedHosts.isEmpty && !allowPartial) {
                stopped = true
                break
            }
        }

        // 4. All or nothing: switch every staged host back, or make every staged host final.
        let revert = stopped
        let why: String = Task.isCancelled ? "interrupted"
            : "switched back because \(failedHosts.map { names[$0] }.joined(separator: ", ")) failed"
        let stagedNow = staged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let finals: [(Int, String?, Deployment?)] = await Task {
            await parallel(stagedNow) { item -> (Int, String?, Deployment?) in
                let (i, stage) = item
                if revert { return (i, await members[i].revert(stage, because: why), nil) }
                return (i, nil, await members[i].finish(stage))
            }
        }.value
        for (i, failure, deployment) in finals {
            if revert {
                outcomes[i].state = failure == nil ? .switchedBack : .stuck
                outcomes[i].detail = failure.map { "switching back failed: \(Redactor.redact($0))" } ?? why
            } else {
                outcomes[i].state = .deployed
                outcomes[i].serving = deployment?.imageTag
                outcomes[i].detail = nil
            }
        }
        await Task { for lock in locks.reversed() { await lock.release() } }.value

        report.hosts = outcomes
        let deployed = outcomes.filter { $0.state == .deployed }.count
        report.status = deployed == members.count ? "deployed" : (deployed > 0 && allowPartial ? "partial" : "failed")
        return report
    }
}

/// Runs `body` for every item side by side; the results in the items' order.
func parallel<Item: Sendable, Value: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) async throws -> Value)
    async rethrows -> [Value]
{
    try await withThrowingTaskGroup(of: (Int, Value).self) { group in
        for (i, item) in items.enumerated() { group.addTask { (i, try await body(item)) } }
        var values: [(Int, Value)] = []
        for try await value in group { values.append(value) }
        return values.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

func parallel<Item: Sendable, Value: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) async -> Value)
    async -> [Value]
{
    await withTaskGroup(of: (Int, Value).self) { group in
        for (i, item) in items.enumerated() { group.addTask { (i, await body(item)) } }
        var values: [(Int, Value)] = []
        for await value in group { values.append(value) }
        return values.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// Like `parallel`, with each item's failure kept instead of cancelling the others.
func parallelResults<Item: Sendable, Value: Sendable>(_ items: [Item],
                                                      _ body: @escaping @Sendable (Item) async throws -> Value)
    async -> [Result<Value, any Error>]
{
    await parallel(items) { item in
        do { return .success(try await body(item)) } catch { return .failure(error) }
    }
}
