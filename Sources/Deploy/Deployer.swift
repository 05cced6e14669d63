import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What to deploy and how, after flags and environment variables were resolved.
public struct DeployOptions: Sendable {
    /// The full image reference (`registry/app:tag`).
    public var image: String
    public var imageTag: String
    public var commitSha: String?
    public var strategy: DeployEnvironment.Strategy?
    public var watch: Duration?
    public var lockWait: Duration
    /// `--build`: build the image here (and send it to a remote target) instead of pulling it.
    public var build: Bool = false
    /// What the lock holder shows: `deploy production`.
    public var command: String

    public init(image: String, imageTag: String, commitSha: String? = nil, strategy: DeployEnvironment.Strategy? = nil,
                watch: Duration? = nil, lockWait: Duration = .zero, command: String) {
        self.image = image
        self.imageTag = imageTag
        self.commitSha = commitSha
        self.strategy = strategy
        self.watch = watch
        self.lockWait = lockWait
        self.command = command
    }

    /// `--image REF`, else `<image>:<--tag | COMMIT_SHA | latest>`.
    public static func resolve(environment: DeployEnvironment, tag: String?, image: String?,
                               processEnvironment: [String: String], command: String) -> DeployOptions {
        let commit = processEnvironment["COMMIT_SHA"].flatMap { $0.isEmpty ? nil : $0 }
        if let image {
            let tag = image.split(separator: "/").last.flatMap { $0.split(separator: ":").dropFirst().last }.map(String.init)
            return DeployOptions(image: image, imageTag: tag ?? "latest", commitSha: commit, command: command)
        }
        let tag = tag ?? commit ?? "latest"
        return DeployOptions(image: "\(environment.image):\(tag)", imageTag: tag, commitSha: commit, command: command)
    }
}

/// Deploys one environment of a Compose app: health-gated, switched through nginx, watched, self-reverting.
public struct Deployer: Sendable {
    public let environment: DeployEnvironment
    public let target: Target
    let logger: Logger
    let processEnvironment: [String: String]
    let gateProbe: HealthProbe
    /// Whether this host's release tells `notify:` itself (false inside a run over several hosts).
    var sendsNotifications = true

    public init(environment: DeployEnvironment, target: Target, logger: Logger, processEnvironment: [String: String]) {
        self.environment = environment
        self.target = target
        self.logger = logger
        self.processEnvironment = processEnvironment
        self.gateProbe = HealthProbe()
    }

    /// Everything a release needs from the target, checked before anything changes.
    struct Context: Sendable {
        let docker: Docker
        /// nil for `engine: swarm` (the stack is deployed by `docker stack deploy`, not Compose).
        let composeTool: Compose?
        let journal: DeploymentJournal
        let lockPath: String

        var compose: Compose {
            get throws {
                guard let composeTool else { throw DeployError.precheck("this step needs Docker Compose on the target") }
                return composeTool
            }
        }
    }

    func prepare(image: String, create: Bool = true) async throws -> Context {
        do {
            return try await checkTarget(image: image, create: create)
        } catch where Task.isCancelled {
            // Ctrl-C kills the check's child process; that is not a broken compose file or a bad target.
            throw DeployError.precheck("interrupted")
        } catch let error as DeployError {
            throw error
        } catch let error as ConfigError {
            throw error
        } catch {
            throw DeployError.precheck("\(error)")
        }
    }

    /// The checks run side by side: each is a process (over SSH, a round trip), and a deploy should spend
    /// its time starting the release, not asking questions one after another.
    private func checkTarget(image: String, create: Bool) async throws -> Context {
        if environment.engine == .swarm { return try await checkSwarmTarget(image: image, create: create) }
        let docker = Docker(target: target)
        async let version = docker.version()
        async let free = docker.freeBytes()
        async let composeFilePresent = isReadableFile(environment.composeFile)
        async let envFilePresent = isReadableFile(environment.envFile)
        async let directory = StateDirectory.resolve(app: environment.app, on: target, environment: processEnvironment,
                                                     create: create)
        // Validation is the slowest check (Compose v1 starts Python): it starts at once, and its verdict is
        // reported only after the plainer failures (no engine, no file) had their say.
        async let composeCheck = detectAndValidate(image: image)
        _ = try await version  // an engine that does not answer explains every other failure: report it first
        let (compose, validation) = try await composeCheck
        logger.debug("using \(compose.flavor.rawValue) \(compose.version) on \(target)")
        guard try await composeFilePresent else {
            throw DeployError.composeFileMissing(path: environment.composeFile, target: "\(target)")
        }
        if let envFile = environment.envFile, try await !envFilePresent {
            throw DeployError.precheck("the env_file \(envFile) of environments.\(environment.name) is missing or unreadable on \(target)")
        }
        let freeBytes = try await free
        if freeBytes < Int64(environment.minFreeDiskMB) << 20 {
            throw DeployError.precheck("only \(freeBytes >> 20) MiB free on \(target) where Docker keeps images (need \(environment.minFreeDiskMB) MiB, environments.\(environment.name).min_free_disk); free some space, e.g. `docker image prune`")
        }
        if let validation { throw validation }
        let stateDirectory = try await directory
        return Context(docker: docker, composeTool: compose,
                       journal: DeploymentJournal(target: target, directory: stateDirectory, environment: environment.name),
                       lockPath: stateDirectory + "/\(environment.name).lock")
    }

    /// Compose on the target, and what `config -q` said of the compose file (nil: valid).
    private func detectAndValidate(image: String) async throws -> (Compose, (any Error)?) {
        let compose = try await Compose.detect(on: target, readVersion: false)
        do {
            try await compose.validate(file: environment.composeFile, environment: composeEnvironment(image: image, color: .blue))
            return (compose, nil)
        } catch {
            return (compose, error)
        }
    }

    /// Whether a regular, readable file is at `path` on the target; no path counts as present.
    func isReadableFile(_ path: String?) async throws -> Bool {
        guard let path else { return true }
        return try await target.capture(Target.shell(#"[ -f "$1" ] && [ -r "$1" ]"#, [path], allowedExitCodes: [0, 1]))
            .termination == .exited(0)
    }

    /// The variables the compose file reads: `${OPSKIT_IMAGE}` and `${OPSKIT_PORT}`.
    func composeEnvironment(image: String, color: Color) -> [String: String] {
        ["OPSKIT_IMAGE": image, "OPSKIT_PORT": String(environment.port(color))]
    }

    /// Deploys `options.image`; returns the journal entry of a deployment that went live and stayed.
    public func deploy(_ options: DeployOptions) async throws -> Deployment {
        try await release(image: options.image, tag: options.imageTag, commitSha: options.commitSha, kind: .deploy,
                          options: options)
    }

    /// Goes back to the previous successful deployment, or to the one named by id or tag.
    public func rollback(to selector: String?, options: DeployOptions) async throws -> Deployment {
        let context = try await prepare(image: options.image)
        let goal = try Self.rollbackGoal(selector, in: try await context.journal.load(), environment: environment.name)
        var rollback = options
        rollback.image = goal.image
        rollback.imageTag = goal.imageTag
        return try await release(image: goal.image, tag: goal.imageTag, commitSha: goal.commitSha, kind: .rollback,
                                 options: rollback, context: context)
    }

    /// What a rollback returns to: the deployment named by id or tag (one that passed its health gate), or
    /// the successful one before the current.
    public static func rollbackGoal(_ selector: String?, in all: [Deployment], environment: String) throws(DeployError)
        -> Deployment
    {
        if let selector {
            guard let match = all.last(where: { ($0.id == selector || $0.imageTag == selector) && $0.healthCheckPassed }) else {
                throw .unknownDeployment(selector, environment: environment)
            }
            return match
        }
        guard let previous = DeploymentJournal.previous(in: all) else { throw .nothingToRollBack(environment: environment) }
        return previous
    }

    /// The journal, oldest first.
    public func history() async throws -> [Deployment] {
        let directory = try await StateDirectory.resolve(app: environment.app, on: target, environment: processEnvironment,
                                                         create: false)
        return try await DeploymentJournal(target: target, directory: directory, environment: environment.name).load()
    }

    func release(image: String, tag: String, commitSha: String?, kind: Deployment.Kind, options: DeployOptions,
                 context given: Context? = nil) async throws -> Deployment {
        let context: Context
        if let given { context = given } else { context = try await prepare(image: image) }
        let lock = try await DeployLock.acquire(on: target, path: context.lockPath, command: options.command,
                                                wait: options.lockWait, logger: logger)
        let result: Result<Deployment, any Error>
        do {
            result = .success(try await releaseLocked(image: image, tag: tag, commitSha: commitSha, kind: kind,
                                                      options: options, context: context))
        } catch where Task.isCancelled && !(error is DeployError) {
            // Ctrl-C before the release changed anything (e.g. while the journal was read): the killed
            // `cat` is not the story.
            result = .failure(DeployError.precheck("interrupted"))
        } catch {
            result = .failure(error)
        }
        // An unstructured task, so the lock is released even when this task was cancelled (Ctrl-C).
        await Task { await lock.release() }.value
        return try result.get()
    }

    func releaseLocked(image: String, tag: String, commitSha: String?, kind: Deployment.Kind,
                       options: DeployOptions, context: Context) async throws -> Deployment {
        await finish(try await stageLocked(image: image, tag: tag, commitSha: commitSha, kind: kind, options: options,
                                           context: context))
    }

    /// A release that went live on this host and passed its watch while the previous version is still there:
    /// `finish` drains and stops the previous one, `revert` switches back to it (several hosts, all or nothing).
    struct Staged: Sendable {
        var deployment: Deployment
        let current: Deployment?
        /// Blue-green: the color that served before, still running.
        let liveColor: Color?
        let strategy: DeployEnvironment.Strategy
        let context: Context
    }

    /// Everything up to a live, watched release; on failure this host is back where it was and the error says so.
    func stageLocked(image: String, tag: String, commitSha: String?, kind: Deployment.Kind,
                     options: DeployOptions, context: Context) async throws -> Staged {
        let journal = context.journal
        var all = try await journal.load()
        // We hold the lock: an entry still in flight belongs to a run that died (kill -9, power loss).
        for i in all.indices where [.pending, .inProgress, .healthCheck].contains(all[i].status) {
            all[i].status = .failed
            all[i].reason = all[i].reason ?? "abandoned: the run stopped without finishing (killed?)"
            try await journal.record(all[i])
        }
        let current = DeploymentJournal.current(in: all)
        let strategy = options.strategy ?? environment.strategy
        var deployment = Deployment(
            id: Deployment.makeID(at: Date(), existing: Set(all.map(\.id))), kind: kind, environment: environment.name,
            commitSha: commitSha, imageTag: tag, image: image,
            strategy: environment.engine == .swarm ? "swarm" : strategy.rawValue, startedAt: Date(),
            previousVersion: current?.imageTag)
        try await journal.record(deployment)
        logger.notice(kind == .deploy
            ? "deploying \(image) to \(environment.name) on \(target) (\(deployment.id))"
            : "rolling \(environment.name) back to \(image) on \(target) (\(deployment.id))")

        var step = "getting the image \(image)"
        do {
            deployment.imageID = options.build && kind == .deploy
                ? try await buildImage(image, context: context)
                : try await ensureImage(image, docker: context.docker)
            step = environment.engine == .swarm ? "the swarm service update"
                : strategy == .blueGreen ? "the blue-green switch" : "the recreate"
            deployment.status = .inProgress
            try await journal.record(deployment)
            var liveColor: Color?
            if environment.engine == .swarm {
                try await swarmRelease(&deployment, current: current, options: options, context: context)
            } else {
                switch strategy {
                case .blueGreen:
                    liveColor = try await blueGreen(&deployment, current: current, options: options, context: context)
                case .recreate:
                    try await recreate(&deployment, current: current, context: context)
                }
            }
            return Staged(deployment: deployment, current: current, liveColor: liveColor, strategy: strategy,
                          context: context)
        } catch {
            if deployment.status != .rolledBack { deployment.status = .failed }
            deployment.completedAt = Date()
            deployment.reason = Task.isCancelled || error is CancellationError
                ? DeployError.interrupted(serving: describe(current)).description : "\(error)"
            let final = deployment
            await Task { try? await journal.record(final) }.value
            await notify(final)
            if Task.isCancelled || error is CancellationError { throw DeployError.interrupted(serving: describe(current)) }
            if error is DeployError { throw error }
            // Name the step and what still serves; the cause's own words follow.
            throw DeployError.step(step, reason: "\(error)", serving: describe(current))
        }
    }

    /// Makes a staged release final: the previous color drains and stops, the journal says success, the
    /// post_deploy hook runs, old images are pruned, and the notification goes out.
    func finish(_ staged: Staged) async -> Deployment {
        var deployment = staged.deployment
        let context = staged.context
        if let liveColor = staged.liveColor {
            logger.notice("draining and stopping \(environment.project(liveColor))")
            do {
                try await down(liveColor, context: context, drain: environment.drainTimeout)
            } catch {
                // nginx no longer sends it anything: the release stands, the leftover is only in the way.
                logger.warning("could not stop \(environment.project(liveColor)) (\(error)); stop it by hand")
            }
        }
        deployment.status = .success
        deployment.completedAt = Date()
        do { try await context.journal.record(deployment) } catch {
            logger.error("\(deployment.imageTag) is live, but the journal could not record it: \(error)")
        }
        let postDeployFailure = await runPostDeploy(deployment)
        await prune(keeping: [deployment.image, staged.current?.image].compactMap { $0 }, docker: context.docker)
        await notify(deployment, note: postDeployFailure)
        return deployment
    }

    /// Undoes a staged release because another host failed: back to what served before, the new version
    /// stopped, the journal entry marked rolled back. Returns why switching back failed, or nil.
    func revert(_ staged: Staged, because reason: String) async -> String? {
        var deployment = staged.deployment
        let context = staged.context
        var failure: String?
        do {
            if environment.engine == .swarm {
                try await swarmRevert(staged)
            } else if staged.strategy == .blueGreen, let proxy = environment.proxy, let color = deployment.color.flatMap(Color.init(rawValue:)) {
                if let liveColor = staged.liveColor {
                    let nginx = NginxSwitch(target: target, proxy: proxy, serving: deployment.imageTag)
                    try await nginx.switchTo(port: environment.port(liveColor), note: "switched back to \(describe(staged.current))")
                    logger.notice("nginx sends \(environment.name) to \(describe(staged.current)) again")
                }
                try await down(color, context: context)
            } else {
                try await down(.blue, context: context)
                if let current = staged.current {
                    try await up(.blue, image: current.image, context: context)
                    try await gate(current.imageTag, color: .blue, serving: current.imageTag)
                }
            }
        } catch {
            failure = "\(error)"
        }
        deployment.status = failure == nil ? .rolledBack : .failed
        deployment.completedAt = Date()
        deployment.reason = reason + (failure.map { "; switching back failed: \($0)" } ?? "")
        let final = deployment
        await Task { try? await context.journal.record(final) }.value
        return failure
    }

    /// The image's ID on the target, pulling it (with retries) when the target does not have it.
    func ensureImage(_ image: String, docker: Docker) async throws -> String? {
        if let id = try await docker.imageID(image) { return id }
        logger.notice("pulling \(image)")
        try await docker.pull(image, retry: RetryPolicy(maxAttempts: 4, initialDelay: .seconds(2)), logger: logger)
        return try await docker.imageID(image)
    }

    /// What a person reads as "what is serving": `v1 (demo-production-blue on :3001)`.
    func describe(_ deployment: Deployment?) -> String {
        guard let deployment else { return "nothing (this was the first deployment)" }
        let slot = deployment.color.flatMap(Color.init(rawValue:)).map { " (\(environment.project($0)) on :\(environment.port($0)))" } ?? ""
        return deployment.imageTag + slot
    }

    /// Removes images of this app's repository beyond `keepReleases`, never the current or previous one.
    func prune(keeping protected: [String], docker: Docker) async {
        do {
            let images = try await docker.images(repository: environment.image)
            let keepIDs = Set(images.filter { protected.contains("\(environment.image):\($0.tag)") }.map(\.id))
            var kept = 0
            for image in images {
                if keepIDs.contains(image.id) || kept < environment.keepReleases {
                    kept += 1
                    continue
                }
                try await docker.removeImage("\(environment.image):\(image.tag)")
                logger.info("pruned \(environment.image):\(image.tag)")
            }
        } catch {
            logger.warning("could not prune old images: \(error)")
        }
    }
}
