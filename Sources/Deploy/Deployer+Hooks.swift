import FoundationEssentials
import Logging
import OpsCore
import Shell

extension Deployer {
    /// `hooks.pre_deploy` in the new image, before anything switches: migrations must pass first.
    ///
    /// Runs as a one-off container of the new slot's Compose project (`run --rm --no-deps SERVICE sh -c …`),
    /// so it sees the same environment and networks as the release it prepares.
    func runPreDeploy(image: String, color: Color, context: Context, serving: String) async throws {
        guard let hook = environment.preDeploy else { return }
        logger.notice("running pre_deploy in \(image): \(hook)")
        do {
            let out = try await context.compose.run(
                project: environment.project(color), file: environment.composeFile,
                environment: composeEnvironment(image: image, color: color), service: environment.service,
                command: ["sh", "-c", hook])
            if !out.stdout.isEmpty { logger.info("pre_deploy: \(out.stdoutText)") }
        } catch let error as CommandError {
            throw DeployError.hook("pre_deploy", reason: Self.hookReason(error), serving: serving)
        } catch DockerError.command(let error) {
            throw DeployError.hook("pre_deploy", reason: Self.hookReason(error), serving: serving)
        } catch {
            throw DeployError.hook("pre_deploy", reason: "\(error)", serving: serving)
        }
    }

    /// The hook's own last words: Compose v1 surrounds them with "Creating …" lines and a bare exit code.
    static func hookReason(_ error: CommandError) -> String {
        let noise = ["Creating ", "Starting ", "Removing ", "Stopping ", "Pulling "]
        let line = error.stderrTail.last { line in
            let trimmed = line.trimming(" ")
            return !trimmed.isEmpty && !trimmed.allSatisfy(\.isNumber) && !noise.contains { trimmed.hasPrefix($0) }
        }
        return line ?? error.reason
    }

    /// `hooks.post_deploy` on the target once the release is live; a failure is reported, not undone.
    func runPostDeploy(_ deployment: Deployment) async -> String? {
        guard let hook = environment.postDeploy else { return nil }
        logger.notice("running post_deploy: \(hook)")
        var command = Command("sh", "-c", hook)
        command.environment = [
            "OPSKIT_DEPLOYMENT_ID": deployment.id, "OPSKIT_IMAGE": deployment.image,
            "OPSKIT_VERSION": deployment.imageTag, "OPSKIT_ENVIRONMENT": environment.name,
        ]
        do {
            try await target.capture(command)
            return nil
        } catch let error as CommandError {
            let reason = "post_deploy failed: \(error.stderrTail.last ?? error.reason)"
            logger.warning("\(reason) (the deployment stays live)")
            return reason
        } catch {
            logger.warning("post_deploy failed: \(error) (the deployment stays live)")
            return "post_deploy failed: \(error)"
        }
    }

    /// Tells Slack, Discord and JSON webhooks how the deployment ended: id, version, result, duration.
    func notify(_ deployment: Deployment, note: String? = nil) async {
        // Several hosts: the run sends one message for all of them (FleetDeployer), not one per host.
        guard sendsNotifications, !webhooks.isEmpty else { return }
        let seconds = deployment.duration.map { Int($0.rounded()) }
        let verb = deployment.kind == .rollback ? "Rollback of" : "Deploy of"
        let outcome: String
        switch deployment.status {
        case .success: outcome = "succeeded"
        case .rolledBack: outcome = "failed its health watch and was switched back"
        default: outcome = "failed"
        }
        var text = "\(verb) \(environment.app) \(deployment.imageTag) to \(environment.name) \(outcome)"
        if let seconds { text += " in \(seconds) s" }
        text += " (\(deployment.id))"
        if let reason = deployment.reason { text += ": \(reason)" }
        if let note { text += " — \(note)" }
        var fields: [String: JSONValue] = [
            "app": .string(environment.app), "environment": .string(environment.name), "id": .string(deployment.id),
            "kind": .string(deployment.kind.rawValue), "version": .string(deployment.imageTag),
            "image": .string(deployment.image), "status": .string(deployment.status.rawValue),
        ]
        if let seconds { fields["durationSeconds"] = .number(Double(seconds)) }
        if let reason = deployment.reason { fields["reason"] = .string(reason) }
        if let previous = deployment.previousVersion { fields["previousVersion"] = .string(previous) }
        if let note { fields["note"] = .string(note) }
        await send(Notification(text: Redactor.redact(text), fields: fields))
    }

    var webhooks: [Webhook] {
        environment.notify.slack.map { Webhook(kind: .slack, url: $0) }
            + environment.notify.discord.map { Webhook(kind: .discord, url: $0) }
            + environment.notify.webhook.map { Webhook(kind: .json, url: $0) }
    }

    func send(_ notification: Notification) async {
        let hooks = webhooks
        guard !hooks.isEmpty else { return }
        // Its own task: a notification goes out even when the deploy was interrupted.
        _ = await Task { await Notifier().send(notification, to: hooks, logger: logger) }.value
    }

    /// `deploy --build`: builds the image here and, for a remote target, streams it there (skipped when
    /// the target already has that image ID).
    func buildImage(_ image: String, context: Context) async throws -> String? {
        guard let buildContext = environment.buildContext else {
            throw DeployError.precheck("--build needs environments.\(environment.name).build.context in opskit.yml")
        }
        let local = Docker(target: .local)
        logger.notice("building \(image) from \(buildContext)")
        try await local.build(context: buildContext, dockerfile: environment.buildDockerfile, tag: image)
        if !target.isLocal {
            let copied = try await transferImage(image, from: local, to: context.docker, logger: logger)
            logger.notice(copied ? "sent \(image) to \(target)" : "\(target) already has \(image)")
        }
        return try await context.docker.imageID(image)
    }
}

extension String {
    func trimming(_ set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
