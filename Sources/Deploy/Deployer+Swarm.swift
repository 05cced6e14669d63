import FoundationEssentials
import OpsCore
import Shell

/// `engine: swarm`: the stack's service is updated by Swarm (start-first, Swarm's own rollback on a failing
/// task), and opskit adds what Swarm lacks: a health gate and a watch on the public URL, a rollback when
/// either fails, an exit code that says so, and the journal (so a rollback can go further back than Swarm's
/// one previous spec).
extension Deployer {
    var swarm: SwarmService { SwarmService(target: target, name: environment.swarmService, stack: environment.project) }

    /// The checks before a Swarm release (a manager answers, the stack file is readable).
    func checkSwarmTarget(image: String, create: Bool) async throws -> Context {
        let docker = Docker(target: target)
        async let version = docker.version()
        async let manager = swarmNodeState()
        async let free = docker.freeBytes()
        async let stackFilePresent = isReadableFile(environment.composeFile)
        async let directory = StateDirectory.resolve(app: environment.app, on: target, environment: processEnvironment,
                                                     create: create)
        _ = try await version  // an engine that does not answer explains every other failure: report it first
        let state = try await manager
        guard state == "active true" else {
            let role = state.hasPrefix("active") ? "a swarm worker, not a manager" : "not a swarm manager (swarm: \(state.split(separator: " ").first ?? "unknown"))"
            throw DeployError.precheck("the Docker engine on \(target) is \(role); run `docker swarm init` there or set environments.\(environment.name).host to a manager")
        }
        guard try await stackFilePresent else {
            throw DeployError.precheck("the stack file \(environment.composeFile) (environments.\(environment.name).compose_file) does not exist or is unreadable on \(target); `docker stack deploy` needs it")
        }
        let freeBytes = try await free
        if freeBytes < Int64(environment.minFreeDiskMB) << 20 {
            throw DeployError.precheck("only \(freeBytes >> 20) MiB free on \(target) where Docker keeps images (need \(environment.minFreeDiskMB) MiB, environments.\(environment.name).min_free_disk); free some space, e.g. `docker image prune`")
        }
        let stateDirectory = try await directory
        return Context(docker: docker, composeTool: nil,
                       journal: DeploymentJournal(target: target, directory: stateDirectory, environment: environment.name),
                       lockPath: stateDirectory + "/\(environment.name).lock")
    }

    /// `active true` for a manager: the node's swarm state and whether it can control the swarm.
    func swarmNodeState() async throws -> String {
        let out = try await target.capture(Command(
            "docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}", timeout: .seconds(30)))
        return out.stdoutText.trimming(" ")
    }

    /// Updates the service (or deploys the stack the first time), gates and watches the public URL; on any
    /// failure the service runs what it ran before and the error says which version serves.
    func swarmRelease(_ deployment: inout Deployment, current: Deployment?, options: DeployOptions, context: Context)
        async throws
    {
        let service = swarm
        let before = try await service.inspect()
        let serving = swarmServing(current, before)
        let watch = options.watch ?? environment.watch
        try await runSwarmPreDeploy(image: deployment.image, serving: serving)
        // Whether the service may now differ from `before` (and must be brought back on failure).
        var changed = false
        do {
            if let before {
                logger.notice("updating \(service.name) from \(before.image) to \(deployment.image) (start-first; Swarm rolls back a failing task)")
                changed = true
                let output = try await service.update(image: deployment.image, monitor: watch,
                                                      timeout: environment.healthTimeout * 2 + watch + .seconds(300))
                if let after = try await service.settled(within: environment.healthTimeout + .seconds(60)),
                   after.updateFailed, after.startedAt != before.startedAt
                {
                    // `service update` exits 0 after Swarm's rollback; a deploy that did not happen must not.
                    if after.update == "rollback_completed" && after.image == before.image {
                        changed = false
                        deployment.status = .rolledBack
                    }
                    let why = SwarmService.rollbackReason(output: output, state: after)
                    throw DeployError.step("the swarm update of \(service.name) to \(deployment.imageTag)",
                                           reason: "Swarm rolled it back (\(why))", serving: serving)
                }
            } else {
                logger.notice("creating stack \(environment.project) from \(environment.composeFile) with \(deployment.image)")
                changed = true
                try await service.deployStack(file: environment.composeFile, image: deployment.image)
            }

            deployment.status = .healthCheck
            try await context.journal.record(deployment)
            let url = try swarmHealthURL()
            var failure: String?
            var check = "health gate"
            if let unhealthy = try await swarmGate(deployment.imageTag, url: url) {
                failure = "no \(environment.healthSuccesses) healthy answers in a row from \(url) within \(seconds(environment.healthTimeout)) s (\(unhealthy))"
            } else {
                deployment.healthCheckPassed = true
                if let watchFailure = try await watchHealth(url, for: watch) {
                    check = "health watch"
                    failure = "\(url) failed during the \(seconds(watch)) s watch (\(watchFailure))"
                }
            }
            if let failure {
                let undone = try await undoSwarm(before, gate: true)
                changed = false
                if before != nil { deployment.status = .rolledBack }
                throw DeployError.step("the \(check) of \(deployment.imageTag)",
                                       reason: "\(failure), so \(service.name) was \(undone)", serving: serving)
            }
        } catch {
            if changed {
                let gate = !(Task.isCancelled || error is CancellationError)
                // Its own task: on Ctrl-C the service must still get back to what served, never stay half updated.
                let outcome: Result<String, any Error> = await Task {
                    do { return .success(try await undoSwarm(before, gate: gate)) } catch { return .failure(error) }
                }.value
                switch outcome {
                case .success:
                    if before != nil { deployment.status = .rolledBack }
                case .failure(let undoError):
                    throw DeployError.nothingHealthy("\(error); and bringing \(serving) back failed: \(undoError)")
                }
            }
            throw error
        }
    }

    /// Brings back what ran before: the previous image (gated on the public URL unless `gate` is false), or,
    /// after a first deployment, no service at all. Returns what was done (`rolled back to v2`, `removed`).
    @discardableResult
    func undoSwarm(_ before: SwarmService.State?, gate: Bool) async throws -> String {
        let service = swarm
        guard let before else {
            logger.warning("removing \(service.name): its first deployment did not pass")
            try await service.remove()
            return "removed"
        }
        logger.warning("rolling \(service.name) back to \(before.image)")
        try await service.update(image: before.reference, monitor: .seconds(1), failureAction: "pause",
                                 timeout: environment.healthTimeout * 2 + .seconds(300))
        let state = try await service.settled(within: environment.healthTimeout + .seconds(60))
        guard let state, state.image == before.image, state.update != "paused" else {
            throw DeployError.nothingHealthy("\(service.name) did not return to \(before.image) (\(state?.update ?? "service gone"): \(state?.message ?? "no message"))")
        }
        if gate, let unhealthy = try await swarmGate(tag(of: before.image), url: try swarmHealthURL()) {
            throw DeployError.nothingHealthy("\(service.name) is back on \(before.image) but it does not answer healthy either (\(unhealthy))")
        }
        return "rolled back to \(tag(of: before.image))"
    }

    /// N consecutive healthy answers within the budget: nil, or why the last answer was not healthy.
    func swarmGate(_ version: String, url: String) async throws -> String? {
        let gate = HealthGate(successes: environment.healthSuccesses, budget: environment.healthTimeout,
                              interval: environment.healthInterval, probe: gateProbe)
        let outcome = try await gate.wait(for: url, logger: logger)
        guard outcome.passed else { return outcome.last?.reasons.first ?? "no answer" }
        logger.notice("\(version) is healthy at \(url) (\(outcome.checks) checks)")
        return nil
    }

    func swarmHealthURL() throws -> String {
        guard let url = environment.healthURL else {
            throw DeployError.precheck("engine: swarm needs environments.\(environment.name).health_url (the service's public URL)")
        }
        return url
    }

    /// `hooks.pre_deploy` in a one-off container of the new image on the manager (`docker run --rm`).
    ///
    /// It does not join the stack's overlay networks (they are not attachable unless the stack file says so):
    /// a migration reaches its database by an address the manager can reach.
    func runSwarmPreDeploy(image: String, serving: String) async throws {
        guard let hook = environment.preDeploy else { return }
        logger.notice("running pre_deploy in \(image): \(hook)")
        var arguments = ["docker", "run", "--rm"]
        if let envFile = environment.envFile { arguments += ["--env-file", envFile] }
        arguments += [image, "sh", "-c", hook]
        do {
            let out = try await target.capture(Command(argv: arguments))
            if !out.stdout.isEmpty { logger.info("pre_deploy: \(out.stdoutText)") }
        } catch let error as CommandError {
            throw DeployError.hook("pre_deploy", reason: Self.hookReason(error), serving: serving)
        }
    }

    /// What serves now: the journal's version when the service runs its image, else the service's own image.
    func swarmServing(_ current: Deployment?, _ before: SwarmService.State?) -> String {
        guard let before else { return describe(nil) }
        if let current, SwarmService.withoutDigest(current.image) == before.image { return current.imageTag }
        return before.image
    }

    /// `v2` of `registry:5000/app:v2`.
    func tag(of image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        return last.firstIndex(of: ":").map { String(last[last.index(after: $0)...]) } ?? image
    }

    func seconds(_ duration: Duration) -> String {
        let ms = Int(duration.inMilliseconds.rounded())
        return ms % 1000 == 0 ? "\(ms / 1000)" : "\(Double(ms) / 1000)"
    }

    /// Another host failed (several hosts, all or nothing): back to the version that served before.
    func swarmRevert(_ staged: Staged) async throws {
        guard let current = staged.current else {
            try await undoSwarm(nil, gate: false)
            return
        }
        let service = swarm
        logger.warning("rolling \(service.name) back to \(current.image)")
        try await service.update(image: current.image, monitor: .seconds(1), failureAction: "pause",
                                 timeout: environment.healthTimeout * 2 + .seconds(300))
    }

    /// The `--dry-run` steps for a Swarm release; asks the manager about the service, changes nothing.
    func swarmPlan(_ options: DeployOptions, current: Deployment?, context: Context) async throws -> [String] {
        let service = swarm
        let before = try await service.inspect()
        let serving = swarmServing(current, before)
        let watch = options.watch ?? environment.watch
        let url = try swarmHealthURL()
        var steps = ["checks passed on \(target): docker answers and is a swarm manager, \(environment.composeFile) is readable"]
        steps += try await releaseSteps(options, context: context)
        if let hook = environment.preDeploy {
            steps.append("run pre_deploy in a one-off container of \(options.image) (`docker run --rm \(options.image) sh -c …`): \(hook)")
        }
        if let before {
            steps.append("update \(service.name) from \(before.image) to \(options.image): `docker service update --image \(options.image) --update-order start-first --update-failure-action rollback --update-monitor \(SwarmService.goDuration(watch)) --detach=false \(service.name)`; if Swarm rolls back, stop with exit 1")
        } else {
            steps.append("create the stack \(environment.project) (service \(service.name)): `OPSKIT_IMAGE=\(options.image) docker stack deploy -c \(environment.composeFile) \(environment.project)`")
        }
        let undo = before == nil ? "remove \(service.name)" : "roll \(service.name) back to \(serving)"
        steps.append("wait for \(environment.healthSuccesses) healthy answers in a row from \(url) (up to \(seconds(environment.healthTimeout)) s); on failure \(undo)")
        steps.append("watch \(url) for \(seconds(watch)) s; on failure \(undo)")
        steps.append("remove images of \(environment.image) beyond the newest \(environment.keepReleases), never the current or previous one")
        return steps
    }
}
