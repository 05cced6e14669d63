import FoundationEssentials
import Logging
import OpsCore
import Shell

extension Deployer {
    /// Start beside the old version, gate on health, switch nginx, watch; returns the color that served before
    /// (still running: `finish` drains and stops it, `revert` switches back to it).
    func blueGreen(_ deployment: inout Deployment, current: Deployment?, options: DeployOptions, context: Context)
        async throws -> Color?
    {
        guard let proxy = environment.proxy else {
            throw DeployError.step("blue-green", reason: "no proxy configured", serving: describe(current))
        }
        let serving = describe(current)
        let nginx = NginxSwitch(target: target, proxy: proxy, serving: serving)
        let livePort = try await nginx.currentPort()
        let liveColor = current?.color.flatMap(Color.init(rawValue:))
            ?? Color.allCases.first { livePort == environment.port($0) }
        let color = liveColor?.other ?? .blue
        deployment.color = color.rawValue
        deployment.port = environment.port(color)

        // A crashed earlier run may have left this slot running; it is not serving (nginx points elsewhere).
        // Asking Docker first is cheap; `compose down` on an empty project still costs Compose's start-up.
        if livePort != environment.port(color),
           try await !context.docker.containers(project: environment.project(color)).isEmpty {
            try await down(color, context: context)
        }
        try await runPreDeploy(image: deployment.image, color: color, context: context, serving: serving)
        try await up(color, image: deployment.image, context: context)
        var started = true
        do {
            deployment.status = .healthCheck
            try await context.journal.record(deployment)
            try await gate(deployment.imageTag, color: color, serving: serving)
            deployment.healthCheckPassed = true

            try await nginx.switchTo(port: environment.port(color), note: note(deployment, color))
            logger.notice("nginx now sends \(environment.name) to \(deployment.imageTag) on :\(environment.port(color))")

            let watch = options.watch ?? environment.watch
            let watchURL: String
            if let publicURL = environment.healthURL { watchURL = publicURL } else { watchURL = try await reachableHealthURL(color) }
            if let failure = try await watchHealth(watchURL, for: watch) {
                if let liveColor {
                    try await nginx.switchTo(port: environment.port(liveColor), note: "switched back to \(serving)")
                }
                try await down(color, context: context)
                started = false
                deployment.status = .rolledBack
                throw DeployError.watchFailed(version: deployment.imageTag, detail: failure, serving: serving)
            }
            return liveColor
        } catch {
            if started {
                // Whatever went wrong (or Ctrl-C), the new slot must not stay up beside the serving one;
                // if nginx was already switched, switch it back first.
                await Task {
                    if let liveColor, (try? await nginx.currentPort()) == environment.port(color) {
                        try? await nginx.switchTo(port: environment.port(liveColor), note: "switched back to \(serving)")
                    }
                    // Never stop the slot nginx still sends traffic to: a degraded release beats an outage.
                    if (try? await nginx.currentPort()) != environment.port(color) {
                        try? await down(color, context: context)
                    } else {
                        logger.error("nginx still points at \(environment.project(color)); it was left running — switch \(proxy.upstreamFile) back by hand")
                    }
                }.value
            }
            throw error
        }
    }

    /// Stop the old version, start the new one, gate on health; on failure bring the previous image back.
    /// Has downtime by design (the seed's behaviour, for apps without a proxy).
    func recreate(_ deployment: inout Deployment, current: Deployment?, context: Context) async throws {
        let color = Color.blue
        deployment.color = color.rawValue
        deployment.port = environment.port(color)
        try await runPreDeploy(image: deployment.image, color: color, context: context, serving: describe(current))
        try await down(color, context: context)
        try await up(color, image: deployment.image, context: context)
        deployment.status = .healthCheck
        try await context.journal.record(deployment)
        do {
            try await gate(deployment.imageTag, color: color, serving: describe(current))
            deployment.healthCheckPassed = true
        } catch {
            let restored: Bool? = await Task {
                try? await down(color, context: context)
                guard let current else { return nil }
                logger.warning("bringing \(current.imageTag) back up")
                guard (try? await up(color, image: current.image, context: context)) != nil else { return false }
                return (try? await gate(current.imageTag, color: color, serving: current.imageTag)) != nil
            }.value
            if restored == false, let current {
                throw DeployError.nothingHealthy("\(error); and \(current.imageTag) did not come back healthy either")
            }
            throw error
        }
    }

    func up(_ color: Color, image: String, context: Context) async throws {
        var arguments = ["up", "-d", "--no-build", "--remove-orphans"]
        if let envFile = environment.envFile { arguments = ["--env-file", envFile] + arguments }
        logger.notice("starting \(image) as \(environment.project(color)) on :\(environment.port(color))")
        try await target.capture(try context.compose.command(
            project: environment.project(color), file: environment.composeFile,
            environment: composeEnvironment(image: image, color: color), arguments))
    }

    /// Stops and removes a slot; `drain` is how long its containers get to finish requests after SIGTERM.
    /// One `down -t` rather than `stop` + `down`: each Compose v1 call costs ~0.5 s of start-up.
    func down(_ color: Color, context: Context, drain: Int? = nil) async throws {
        try await context.compose.down(project: environment.project(color), file: environment.composeFile,
                                       environment: composeEnvironment(image: "none", color: color), timeout: drain)
    }

    /// N consecutive healthy answers from the new slot within the budget, or `DeployError.unhealthy`.
    func gate(_ version: String, color: Color, serving: String) async throws {
        let url = try await reachableHealthURL(color)
        let gate = HealthGate(successes: environment.healthSuccesses, budget: environment.healthTimeout,
                              interval: environment.healthInterval, probe: gateProbe)
        let outcome = try await gate.wait(for: url, logger: logger)
        guard outcome.passed else {
            throw DeployError.unhealthy(
                version: version, url: url, after: "\(Int(environment.healthTimeout.inMilliseconds / 1000)) s",
                detail: outcome.last?.reasons.first ?? "no answer", serving: serving)
        }
        logger.notice("\(version) is healthy (\(outcome.checks) checks)")
    }

    /// Checks `url` every health interval for `duration`; returns why it failed, or nil if it stayed healthy.
    func watchHealth(_ url: String, for duration: Duration) async throws -> String? {
        guard duration > .zero else { return nil }
        logger.notice("watching \(url) for \(Int(duration.inMilliseconds / 1000)) s")
        let clock = ContinuousClock()
        let end = clock.now + duration
        // One quick retry absorbs a single dropped connection; a real failure repeats.
        let retry = RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(200), jitter: false)
        while clock.now < end {
            let result = await gateProbe.check(HealthTarget(url: url, timeout: .seconds(5), retry: retry))
            if result.status != .ok { return result.reasons.first ?? result.summary }
            try await Task.sleep(for: min(environment.healthInterval, end - clock.now))
        }
        return nil
    }

    /// The slot's health URL as this machine can reach it (through an SSH forward for a remote target).
    func reachableHealthURL(_ color: Color) async throws -> String {
        let port = try await target.localPort(reaching: environment.port(color))
        return "http://127.0.0.1:\(port)\(environment.healthPath)"
    }

    func note(_ deployment: Deployment, _ color: Color) -> String {
        "\(environment.app) \(environment.name) → \(color.rawValue) (\(deployment.imageTag)), deployment \(deployment.id)"
    }
}
