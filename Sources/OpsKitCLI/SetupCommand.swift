import ArgumentParser
import OpsCore
import Provision
import Shell

/// `setup-vps`: first setup of a fresh Debian/Ubuntu VPS, idempotent, with `--check`, lockout-proof.
struct SetupCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "setup-vps",
        abstract: "Set up a fresh Debian/Ubuntu VPS: deploy user, Docker, firewall, SSH hardening, fail2ban, swap, /opt/<app>.",
        discussion: """
        Runs on the VPS itself as root, or from a laptop/CI with --host over SSH. Every step reports ok, changed
        or failed; a second run on the same server changes nothing. --check prints what would change, with a
        diff for every file, and changes nothing.

        Root login and passwords are turned off only after a new SSH login as the deploy user with its key has
        worked; the current session stays open meanwhile, and the change is undone if sshd rejects it. Once
        root login is off, run it again with --host deploy@IP: it then works through sudo.

        EXIT CODES: 0 done (or nothing to do)   1 a step failed (the steps before it are done, the rest did
                    not run)   2 bad arguments or configuration

        EXAMPLES:
          setup-vps --host root@203.0.113.10 --ssh-key ~/.ssh/id_ed25519.pub --app memoryloop --check
          setup-vps --host root@203.0.113.10 --ssh-key ~/.ssh/id_ed25519.pub --app memoryloop --yes
          setup-vps --host deploy@203.0.113.10 --app memoryloop --yes    # later runs, through sudo
          sudo setup-vps --app memoryloop --swap 2G --schedules           # on the VPS itself
        """
    )

    @Option(help: ArgumentHelp("Set up this server over SSH (default: this machine).", valueName: "user@host[:port]"))
    var host: String?

    @Flag(name: [.customLong("check"), .customLong("dry-run")], help: "Print what would change (with diffs); change nothing.")
    var check = false

    @Flag(name: [.short, .long], help: "Do not ask for confirmation (needed without a terminal).")
    var yes = false

    @Option(help: ArgumentHelp("The deploy user to create (default: deploy).", valueName: "name"))
    var user: String?

    @Option(name: .customLong("ssh-key"), help: ArgumentHelp("Public key for the deploy user (default: root's authorized_keys). Repeatable.", valueName: "file"))
    var sshKeys: [String] = []

    @Option(help: ArgumentHelp("Create /opt/<app>/{data,config,backups,logs}.", valueName: "name"))
    var app: String?

    @Option(help: ArgumentHelp("Swap file size when there is no swap: 2G, 512M, 0 for none (default: 2G under 4 GiB RAM).", valueName: "size"))
    var swap: String?

    @Option(name: .customLong("ssh-port"), help: ArgumentHelp("Make sshd listen on this port (allowed in ufw first).", valueName: "port"))
    var sshPort: Int?

    @Flag(help: "Install systemd timers: backup-db daily at 02:00, monitor --alert every 5 minutes.")
    var schedules = false

    @Option(name: .customLong("bin-dir"), help: ArgumentHelp("Where the opskit tools live on the server (for --schedules).", valueName: "dir"))
    var binDir: String?

    @Flag(help: "Print the diff of every changed file (always shown with --check).")
    var diff = false

    @OptionGroup var output: OutputOptions

    mutating func execute() async -> Int32 {
        let env = ProcessEnvironment.current()
        var settings: SetupSettings
        do {
            let config = try OpsConfig.load(explicitPath: output.config, environment: env)
            settings = try SetupSettings.resolve(config: config)
            if let user { settings.user = user }
            if let app { settings.app = app }
            if let swap {
                guard let bytes = SetupSettings.parseSize(swap) else { throw SetupError("--swap '\(swap)' is not a size like 2G or 512M (0 for none)") }
                settings.swapBytes = bytes
            }
            if let sshPort {
                guard (1...65535).contains(sshPort) else { throw SetupError("--ssh-port \(sshPort) is not a port") }
                settings.sshPort = sshPort
            }
            if schedules { settings.schedules = true }
            if let binDir { settings.binDirectory = binDir }
            if !sshKeys.isEmpty { settings.authorizedKeys = try sshKeys.flatMap(Self.readKeys) }
            try settings.validate()
        } catch {
            writeStderr("setup-vps: \(error); nothing was changed\n")
            return Self.usageExitCode
        }

        var connection: SSHConnection?
        var loginProbe: (@Sendable (String) async -> String?)?
        var provisionHost = ProvisionHost(target: .local)
        if let hostText = host ?? DeploySession.legacyHost(env) {
            do {
                let parsed = try SSHHost(parsing: hostText)
                let options = SSHOptions(identityFile: env["OPSKIT_SSH_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                                         knownHostsFile: env["OPSKIT_SSH_KNOWN_HOSTS"].flatMap { $0.isEmpty ? nil : $0 })
                let ssh = SSHConnection(host: parsed, options: options)
                connection = ssh
                provisionHost = ProvisionHost(target: .ssh(ssh), sudo: (parsed.user ?? env["USER"] ?? "root") != "root")
                let probeKey = Self.privateKey(for: sshKeys.first) ?? options.identityFile
                let wantedPort = settings.sshPort
                loginProbe = { user in
                    await LoginProbe.tryLogin(host: parsed, user: user, port: wantedPort, identityFile: probeKey,
                                              knownHostsFile: options.knownHostsFile)
                }
            } catch {
                writeStderr("setup-vps: \(error); nothing was changed\n")
                return Self.usageExitCode
            }
        }

        if !check && !yes {
            guard StandardStreams.isTerminal(0), StandardStreams.isTerminal(2) else {
                writeStderr("setup-vps: refusing to change \(provisionHost.name) without a terminal to confirm on; add --yes (or --check to only look); nothing was changed\n")
                return 1
            }
            guard (try? Prompt(assumeYes: false).confirm("Set up \(provisionHost.name) (users, packages, firewall, sshd)?")) == true else {
                writeStderr("setup-vps: not confirmed; nothing was changed\n")
                return 1
            }
        }

        let run = SetupRun(host: provisionHost, settings: settings, check: check, loginProbe: loginProbe)
        let live = !output.json && !output.quiet && StandardStreams.isTerminal(2)
        let report = await run.run { result in
            if live { writeStderr("  \(result.status.rawValue): \(result.step)\n") }
        }
        if let connection { await connection.close() }
        if output.json {
            writeStdout(report.json.serialized(pretty: true))
        } else if !(output.quiet && !report.failed) {
            let text = report.text(diffs: diff, color: StandardStreams.isTerminal(1) && env["NO_COLOR"] == nil)
            if report.failed { writeStderr(text) } else { writeStdout(String(text.dropLast())) }
        }
        return report.exitCode
    }

    /// The key lines of a public key file (a private key path reads FILE.pub beside it).
    static func readKeys(_ path: String) throws -> [String] {
        let publicPath = path.hasSuffix(".pub") ? path : (AtomicFile.read(path + ".pub") != nil ? path + ".pub" : path)
        guard let bytes = AtomicFile.read(publicPath) else {
            throw SetupError("cannot read the SSH key \(publicPath)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("PRIVATE KEY") {
            throw SetupError("\(publicPath) is a private key; give the public one (\(path).pub)")
        }
        let keys = DeployUserStep.keyLines(text)
        guard !keys.isEmpty else { throw SetupError("\(publicPath) holds no public key") }
        return keys
    }

    /// The private key beside a public key file, for trying the deploy user's login.
    static func privateKey(for publicKey: String?) -> String? {
        guard let publicKey else { return nil }
        let base = publicKey.hasSuffix(".pub") ? String(publicKey.dropLast(4)) : publicKey
        return AtomicFile.read(base) != nil ? base : nil
    }
}
