import OpsCore
import Shell

/// One Swarm service of a stack, driven through the `docker` CLI of a manager (here or over SSH).
struct SwarmService: Sendable {
    let target: Target
    /// `<stack>_<service>`.
    let name: String
    let stack: String

    /// What `docker service inspect` says of the spec and of the last update.
    struct State: Sendable, Equatable {
        /// The spec's image without the digest Swarm may have pinned (`repo:tag`, not `repo:tag@sha256:…`).
        var image: String
        /// The spec's image as Swarm holds it, digest included: what a restore must ask for.
        var reference: String
        /// `updating`, `completed`, `paused`, `rollback_started`, `rollback_paused`, `rollback_completed`;
        /// nil when the service was never updated.
        var update: String?
        var startedAt: String?
        var message: String?

        /// Swarm undid the update (or stopped it half-way): the new version is not what it runs now.
        var updateFailed: Bool { update == "paused" || update?.hasPrefix("rollback") == true }
        /// An update or rollback still under way.
        var inFlight: Bool { update == "updating" || update == "rollback_started" }

        /// Reads the tab-separated line of ``SwarmService/inspectFormat``.
        init?(line: String) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let first = fields.first, !first.isEmpty else { return nil }
            reference = first
            image = SwarmService.withoutDigest(first)
            func field(_ i: Int) -> String? { fields.count > i && !fields[i].isEmpty ? fields[i] : nil }
            update = field(1)
            startedAt = field(2)
            message = field(3)
        }
    }

    static let inspectFormat = #"{{.Spec.TaskTemplate.ContainerSpec.Image}}{{if .UpdateStatus}}{{"\t"}}{{.UpdateStatus.State}}{{"\t"}}{{.UpdateStatus.StartedAt}}{{"\t"}}{{.UpdateStatus.Message}}{{end}}"#

    static func withoutDigest(_ image: String) -> String {
        image.firstIndex(of: "@").map { String(image[..<$0]) } ?? image
    }

    /// The service's spec and last update, or nil when there is no such service.
    func inspect() async throws -> State? {
        let out = try await docker(["service", "inspect", "--format", Self.inspectFormat, name], allowedExitCodes: [0, 1],
                                   timeout: .seconds(60))
        if out.termination != .exited(0) {
            if out.stderrText.lowercased().contains("no such service") { return nil }
            throw CommandError(command: "docker service inspect \(name)", termination: out.termination,
                               stderrTail: out.stderrText.split(separator: "\n").suffix(3).map(String.init),
                               reason: "\(out.termination)")
        }
        let line = out.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        guard let state = State(line: line) else {
            throw CommandError(command: "docker service inspect \(name)", termination: out.termination,
                               reason: "printed no image: \(out.stdoutText)")
        }
        return state
    }

    /// Polls until no update or rollback is under way (the CLI we waited on may have been stopped early).
    func settled(within budget: Duration) async throws -> State? {
        let clock = ContinuousClock()
        let end = clock.now + budget
        var state = try await inspect()
        while let current = state, current.inFlight, clock.now < end {
            try await Task.sleep(for: .seconds(1))
            state = try await inspect()
        }
        return state
    }

    /// `docker stack deploy`: creates the stack (or brings it in line with the file) with `${OPSKIT_IMAGE}`.
    func deployStack(file: String, image: String) async throws {
        try await docker(["stack", "deploy", "--with-registry-auth", "-c", file, stack], environment: ["OPSKIT_IMAGE": image],
                         timeout: .seconds(300))
    }

    /// A rolling update to `image`: new tasks start before old ones stop, and Swarm rolls back by itself when
    /// a new task fails (or turns unhealthy) within `monitor`. Returns what the CLI printed.
    @discardableResult
    func update(image: String, monitor: Duration, failureAction: String = "rollback", timeout: Duration)
        async throws -> String
    {
        let out = try await docker([
            "service", "update", "--image", image, "--update-order", "start-first",
            "--update-failure-action", failureAction, "--update-monitor", Self.goDuration(monitor),
            "--rollback-order", "start-first", "--detach=false", "--with-registry-auth", name,
        ], timeout: timeout)
        return out.stdoutText + "\n" + out.stderrText
    }

    /// `docker service rm`: for a first deployment that did not pass (nothing served before it).
    func remove() async throws {
        try await docker(["service", "rm", name], timeout: .seconds(60))
    }

    /// `2500ms`: the Go duration the docker CLI reads; at least a second.
    static func goDuration(_ duration: Duration) -> String {
        "\(max(1000, Int(duration.inMilliseconds.rounded())))ms"
    }

    /// Why Swarm rolled back, in its own words: the `rollback: …` line of `service update`, else the status.
    static func rollbackReason(output: String, state: State) -> String {
        let line = output.split(separator: "\n").map { String($0).trimming(" ") }
            .last { $0.hasPrefix("rollback:") && $0.count > "rollback:".count + 1 }
        if let line { return String(line.dropFirst("rollback:".count)).trimming(" ") }
        return state.message ?? "update \(state.update ?? "failed")"
    }

    @discardableResult
    private func docker(_ arguments: [String], environment: [String: String?] = [:], allowedExitCodes: Set<Int32> = [0],
                        timeout: Duration? = nil) async throws -> CapturedOutput {
        try await target.capture(Command(argv: ["docker"] + arguments, environment: environment,
                                         allowedExitCodes: allowedExitCodes, timeout: timeout))
    }
}
