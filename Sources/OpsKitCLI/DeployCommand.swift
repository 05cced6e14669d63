import ArgumentParser
import Deploy
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// `deploy`: a zero-downtime, health-gated, self-reverting deploy of a Compose app.
struct DeployCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy a Compose app with zero downtime: start beside, check health, switch nginx, watch.",
        discussion: """
        Reads environments.<environment> from opskit.yml (see docs/config.md). The image is <image>:<tag>, the tag
        from --tag, else $COMMIT_SHA, else latest. With a proxy the new version starts beside the old one, must
        answer healthy twice in a row, then nginx is switched and the public health URL watched; if it fails, nginx
        is switched back. Without a proxy (--strategy recreate) it stops the old version first (downtime).

        With `hosts:` in the environment the same switch runs on every host, --batch hosts at a time, all or
        nothing: if any host fails its health gate or its watch, every host already switched goes back and the
        command exits 1 naming each host's state (see docs/scale-out.md). With `engine: swarm` the service is
        updated by Swarm (start-first, rolled back on failure) and gated on the public health URL.

        EXIT CODES: 0 deployed   1 not deployed (the old version keeps serving; the reason is printed)
                    2 bad arguments or configuration

        EXAMPLES:
          COMMIT_SHA=abc123 deploy production                 # what `npm run deploy:production` calls
          deploy staging --tag v1.4.2 --watch 60
          deploy production --host deploy@vps.example.com     # every step over one SSH connection
          deploy production --build --tag "$(git rev-parse --short HEAD)" --host deploy@vps   # build here, stream it
          deploy production --dry-run                         # print the plan, change nothing
          deploy production --json | jq .status
          deploy production --batch 25%                       # hosts: a quarter of them at a time
          deploy production --host deploy@10.0.0.12           # hosts: only this one of them
        """
    )

    @Argument(help: "The environment in opskit.yml (e.g. production, staging).")
    var environment: String

    @Option(help: ArgumentHelp("Image tag to deploy (default: $COMMIT_SHA, else latest).", valueName: "tag"))
    var tag: String?

    @Option(help: ArgumentHelp("Full image reference to deploy instead of <image>:<tag>.", valueName: "ref"))
    var image: String?

    @Flag(help: "Build the image here from build.context (and stream it to --host with docker save | zstd | ssh).")
    var build = false

    @Option(help: ArgumentHelp("Run every step on this host over SSH (default: the environment's host).",
                               valueName: "user@host[:port]"))
    var host: String?

    @Option(help: ArgumentHelp("blue-green (zero downtime, needs a proxy) or recreate (downtime).", valueName: "strategy"))
    var strategy: DeployEnvironment.Strategy?

    @Option(help: ArgumentHelp("Seconds to watch the public health URL after switching (default 30).", valueName: "seconds"))
    var watch: Int?

    @Option(name: .customLong("lock-wait"),
            help: ArgumentHelp("Wait this long for another deploy of this environment to finish.", valueName: "seconds"))
    var lockWait: Int = 0

    @Option(help: ArgumentHelp("With hosts: how many switch at a time, a number or a share (default: batch, else 1).",
                               valueName: "n|n%"))
    var batch: Batch?

    @Flag(name: .customLong("allow-partial"),
          help: "With hosts: keep the hosts that deployed when others fail (mixed versions) instead of switching all back.")
    var allowPartial = false

    @OptionGroup var change: ChangeOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if tag != nil && image != nil { throw ValidationError("--tag and --image exclude each other") }
        if let watch, watch < 0 { throw ValidationError("--watch must be 0 or more seconds") }
        if lockWait < 0 { throw ValidationError("--lock-wait must be 0 or more seconds") }
    }

    mutating func execute() async -> Int32 {
        guard let session = await DeploySession.start(Self.self, environment: environment, host: host, output: output,
                                                      batch: batch, allowPartial: allowPartial)
        else { return Self.usageExitCode }
        let code = await deploy(session)
        await session.close()  // awaited: a detached close could lose the race with exit() and leave ssh behind
        return code
    }

    func deploy(_ session: DeploySession) async -> Int32 {
        var options = DeployOptions.resolve(environment: session.deployer.environment, tag: tag, image: image,
                                            processEnvironment: ProcessInfo.processInfo.environment,
                                            command: "deploy \(environment)")
        options.strategy = strategy
        options.watch = watch.map { .seconds($0) }
        options.lockWait = .seconds(lockWait)
        options.build = build
        let captured = options
        if let fleet = session.fleet {
            if change.dryRun { return await session.printFleetPlan(options, json: output.json) }
            guard session.confirm("deploy \(options.image) to \(environment) on \(fleet.members.count) hosts", change: change,
                                  tool: "deploy")
            else { return 1 }
            return await session.runFleet(json: output.json, quiet: output.quiet) { fleet in await fleet.deploy(captured) }
        }
        if change.dryRun { return await session.printPlan(options, json: output.json) }
        guard session.confirm("deploy \(options.image) to \(environment) on \(session.deployer.target)", change: change,
                              tool: "deploy")
        else { return 1 }
        return await session.run(json: output.json, quiet: output.quiet) { deployer in
            try await deployer.deploy(captured)
        }
    }
}

extension DeployEnvironment.Strategy: ExpressibleByArgument {}

extension Batch: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
