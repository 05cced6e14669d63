import OpsCore

extension Deployer {
    /// What `deploy` would do, step by step, after the same checks; changes nothing (`--dry-run`).
    public func plan(_ options: DeployOptions) async throws -> [String] {
        let context = try await prepare(image: options.image, create: false)
        let all = try await context.journal.load()
        let current = DeploymentJournal.current(in: all)
        if environment.engine == .swarm { return try await swarmPlan(options, current: current, context: context) }
        let compose = try context.compose
        var steps = ["checks passed on \(target): docker answers, \(compose.flavor.rawValue)\(compose.version.isEmpty ? "" : " " + compose.version), \(environment.composeFile) is valid"]
        steps += try await releaseSteps(options, context: context)
        let strategy = options.strategy ?? environment.strategy
        switch strategy {
        case .blueGreen:
            let proxy = environment.proxy
            var livePort: Int?
            if let proxy { livePort = try await NginxSwitch(target: target, proxy: proxy).currentPort() }
            let live = current?.color.flatMap(Color.init(rawValue:)) ?? Color.allCases.first { livePort == environment.port($0) }
            let color = live?.other ?? .blue
            steps.append("start \(environment.project(color)) on :\(environment.port(color)) beside \(describe(current))")
            steps.append("wait for \(environment.healthSuccesses) healthy answers in a row from \(environment.directHealthURL(color)) (up to \(Int(environment.healthTimeout.inMilliseconds / 1000)) s)")
            if let proxy {
                steps.append("point \(proxy.upstreamFile) at 127.0.0.1:\(environment.port(color)), run `\(proxy.testCommand.joined(separator: " "))`, then `\(proxy.reloadCommand.joined(separator: " "))`")
            }
            let watch = options.watch ?? environment.watch
            steps.append("watch \(environment.healthURL ?? environment.directHealthURL(color)) for \(Int(watch.inMilliseconds / 1000)) s; on failure switch back")
            if let live { steps.append("drain and stop \(environment.project(live))") }
        case .recreate:
            steps.append("stop \(environment.project(.blue)) (downtime starts)")
            steps.append("start \(options.image) as \(environment.project(.blue)) on :\(environment.port(.blue))")
            steps.append("wait for \(environment.healthSuccesses) healthy answers from \(environment.directHealthURL(.blue)); on failure start \(current?.image ?? "nothing") again")
        }
        steps.append("remove images of \(environment.image) beyond the newest \(environment.keepReleases), never the current or previous one")
        return steps
    }

    /// The steps every engine's release starts with: the lock, the image, the journal entry.
    func releaseSteps(_ options: DeployOptions, context: Context) async throws -> [String] {
        var steps = ["take the lock \(context.lockPath)"]
        if try await context.docker.imageID(options.image) != nil {
            steps.append("use \(options.image), already on \(target)")
        } else {
            steps.append("pull \(options.image) (with retries)")
        }
        steps.append("record the deployment in \(context.journal.path)")
        return steps
    }
}
