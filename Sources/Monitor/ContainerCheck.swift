import FoundationEssentials
import OpsCore

/// The state of every container on this machine, from the Docker Engine API over its Unix socket (no
/// `docker` process is started).
///
/// One result per container, id `container:<name>`, labels `container` and `image`:
/// - running, without a health check or healthy → OK; health check still starting → OK, saying so;
///   unhealthy → CRITICAL with the last line the failing probe printed;
/// - restarting → CRITICAL;
/// - exited or dead → CRITICAL when it is `expected`, else WARNING (a finished one-off job is normal,
///   a stopped service is not): `exited (code 3) 3 h ago`;
/// - created, paused or being removed → WARNING;
/// - `RestartCount` grown since the last run → at least WARNING, `restarted N times since the last run`.
///   `value` is `RestartCount` in `restarts`; `warning`, when there is a last run, is its count + 1.
///   A count lower than last time (the container was re-created) says nothing.
///
/// Each name in `expected` matches a container of that name or the containers of that Compose service
/// (label `com.docker.compose.service`); one that matches none is CRITICAL, `container:<name>`.
///
/// When the engine answers there is also an OK `containers` result counting the containers; when it cannot
/// be reached (no socket, no permission, no answer) that result is the only one, UNKNOWN with the reason.
/// Both share the id so that an alert about an unreachable engine clears when it answers again.
public struct ContainerCheck: Sendable {
    let endpoint: DockerEndpoint
    public let expected: [String]
    let client: HTTPClient
    /// Longest wait for each answer of the engine.
    public var timeout: Duration = .seconds(5)
    /// How many containers are inspected at the same time (each request runs on a thread of its own).
    static let parallelInspections = 8

    /// - Parameter socketPath: the engine's socket; nil for `DOCKER_HOST=unix://PATH` when set,
    ///   else `/var/run/docker.sock`. A `DOCKER_HOST` of another kind (tcp://, ssh://) makes the check UNKNOWN.
    public init(socketPath: String? = nil, expected: [String] = [], client: HTTPClient = HTTPClient()) {
        self.endpoint = DockerEndpoint.resolve(socketPath: socketPath, dockerHost: DockerEndpoint.environmentDockerHost)
        self.expected = expected
        self.client = client
    }

    /// The socket this check talks to, or nil when `DOCKER_HOST` names an engine it cannot reach.
    public var socketPath: String? {
        if case .socket(let path) = endpoint { return path }
        return nil
    }

    /// Inspects every container.
    ///
    /// - Parameter previousRestarts: container name → `RestartCount` seen in the last run (from the monitor's
    ///   state file; empty on the first run).
    /// - Returns: the results, and the restart counts to remember for the next run. When the engine cannot
    ///   be reached, the counts are `previousRestarts` unchanged, so restarts during an outage still show.
    public func run(previousRestarts: [String: Int]) async -> (results: [CheckResult], restarts: [String: Int]) {
        let engine: DockerSocketClient
        switch endpoint {
        case .unsupported(let reason):
            return ([Self.unreachable(reason)], previousRestarts)
        case .socket(let path):
            engine = DockerSocketClient(socketPath: path, client: client, timeout: timeout)
        }
        if let problem = engine.socketProblem() {
            return ([Self.unreachable(problem)], previousRestarts)
        }

        let listed: [(id: String, name: String)]
        do throws(DockerEngineError) {
            guard case .array(let items)? = try await engine.get("/containers/json?all=1") else {
                throw DockerEngineError(description: "the answer of \(engine.socketPath) to GET /containers/json "
                    + "is not a list of containers — is it really the Docker engine's socket?")
            }
            listed = items.compactMap { item in
                guard let id = item["Id"]?.stringValue else { return nil }
                var name = id
                if case .array(let names)? = item["Names"], let first = names.first?.stringValue {
                    name = first.hasPrefix("/") ? String(first.dropFirst()) : first
                }
                return (id, name)
            }
        } catch {
            return ([Self.unreachable(error.description)], previousRestarts)
        }

        let inspected = await inspectAll(listed.map(\.id), engine: engine)
        var containers: [ContainerState] = []
        var failed: [CheckResult] = []
        var restarts: [String: Int] = [:]
        for (entry, outcome) in zip(listed, inspected) {
            switch outcome {
            case .success(let state?):
                containers.append(state)
            case .success(nil):
                continue  // removed between the listing and the inspection
            case .failure(let error):
                failed.append(.unknown(id: "container:\(entry.name)", check: "container",
                                       "cannot inspect container \(entry.name): \(error)",
                                       labels: ["container": entry.name]))
                if let previous = previousRestarts[entry.name] { restarts[entry.name] = previous }
            }
        }
        var evaluated = Self.evaluate(containers, expected: expected, previousRestarts: previousRestarts, now: Date())
        restarts.merge(evaluated.restarts) { _, new in new }
        let running = containers.filter { $0.status == "running" }.count
        let engineResult = CheckResult(
            id: "containers", check: "container", state: .ok,
            summary: "Docker engine at \(engine.socketPath) answers: \(Self.count(listed.count, "container")), "
                + "\(running) running")
        evaluated.results.insert(contentsOf: failed, at: 0)
        evaluated.results.sort { $0.id < $1.id }
        return ([engineResult] + evaluated.results, restarts)
    }

    /// `GET /containers/{id}/json` for each id, a few at a time; nil for a container that is gone.
    private func inspectAll(_ ids: [String], engine: DockerSocketClient) async
        -> [Result<ContainerState?, DockerEngineError>]
    {
        var outcomes = [Result<ContainerState?, DockerEngineError>](repeating: .success(nil), count: ids.count)
        await withTaskGroup(of: (Int, Result<ContainerState?, DockerEngineError>).self) { group in
            var pending = ids.enumerated().makeIterator()
            func startNext() {
                guard let (index, id) = pending.next() else { return }
                group.addTask {
                    do throws(DockerEngineError) {
                        guard let json = try await engine.get("/containers/\(id)/json", keeping: ContainerState.inspectMembers) else { return (index, .success(nil)) }
                        guard let state = ContainerState(inspect: json) else {
                            return (index, .failure(DockerEngineError(
                                description: "the engine's description of it lacks its name or state")))
                        }
                        return (index, .success(state))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            for _ in 0..<Self.parallelInspections { startNext() }
            for await (index, outcome) in group {
                outcomes[index] = outcome
                startNext()
            }
        }
        return outcomes
    }

    /// The results for inspected containers and the missing expected ones, sorted by id, plus every
    /// container's restart count.
    static func evaluate(_ containers: [ContainerState], expected: [String], previousRestarts: [String: Int],
                         now: Date) -> (results: [CheckResult], restarts: [String: Int]) {
        var results: [CheckResult] = []
        var restarts: [String: Int] = [:]
        for container in containers {
            let isExpected = expected.contains { matches(container, $0) }
            results.append(result(for: container, expected: isExpected, previousRestarts: previousRestarts[container.name], now: now))
            restarts[container.name] = container.restartCount
        }
        for name in expected where !containers.contains(where: { matches($0, name) }) {
            results.append(CheckResult(
                id: "container:\(name)", check: "container", state: .critical,
                summary: "expected service \(name) is not running (no such container)", labels: ["container": name]))
        }
        results.sort { $0.id < $1.id }
        return (results, restarts)
    }

    static func matches(_ container: ContainerState, _ expected: String) -> Bool {
        container.name == expected || container.labels["com.docker.compose.service"] == expected
    }

    static func result(for c: ContainerState, expected: Bool, previousRestarts: Int?, now: Date) -> CheckResult {
        var (state, summary) = verdict(for: c, expected: expected, now: now)
        if let previous = previousRestarts, c.restartCount > previous {
            let note = "restarted \(count(c.restartCount - previous, "time")) since the last run"
            if state.severity < HealthStatus.warning.severity {
                state = .warning
                summary = note + "; " + summary
            } else {
                summary += "; " + note
            }
        }
        return CheckResult(
            id: "container:\(c.name)", check: "container", state: state, summary: summary,
            value: Double(c.restartCount), unit: "restarts",
            warning: previousRestarts.map { Double($0 + 1) },
            labels: ["container": c.name, "image": c.image])
    }

    /// The state and summary from the container's status and health alone.
    static func verdict(for c: ContainerState, expected: Bool, now: Date) -> (HealthStatus, String) {
        let up = c.startedAt.map { ", up " + EngineTime.span(now.timeIntervalSince($0)) } ?? ""
        let ended = c.finishedAt.map { " " + EngineTime.span(now.timeIntervalSince($0)) + " ago" } ?? ""
        let exit = "(code \(c.exitCode)\(c.oomKilled ? ", out of memory" : ""))"
        switch c.status {
        case "running":
            switch c.health {
            case nil:
                return (.ok, "running" + up)
            case "healthy":
                return (.ok, "running and healthy" + up)
            case "starting":
                return (.ok, "running, health check starting" + up)
            case "unhealthy":
                let streak = c.failingStreak > 0 ? " (\(count(c.failingStreak, "failed check")) in a row)" : ""
                let output = c.healthOutput.map { ": " + String($0.prefix(200)) } ?? ""
                return (.critical, "running but unhealthy" + streak + output)
            case let other?:
                return (.unknown, "running, unknown health state '\(other)'")
            }
        case "restarting":
            return (.critical, "restarting: exited \(exit), restarted \(count(c.restartCount, "time")) so far")
        case "exited", "dead":
            let line = "\(c.status) \(exit)\(ended)"
            return expected ? (.critical, line + "; expected to be running") : (.warning, line)
        case "created":
            return (.warning, "created but never started")
        case "paused":
            return (.warning, "paused" + up)
        case "removing":
            return (.warning, "being removed")
        default:
            return (.unknown, "unknown container state '\(c.status)'")
        }
    }

    static func unreachable(_ reason: String) -> CheckResult {
        .unknown(id: "containers", check: "container", reason)
    }

    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }
}
