#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// setup-vps against a real Debian bookworm system (debootstrap → docker import → its own sshd), over SSH.
///
/// PID 1 in the container is systemd (it boots here), so sshd, fail2ban, Docker and the timers run as units
/// and setup-vps's systemctl path is the one exercised; packages install and start their daemons as on a VM.
/// The one effect a container cannot have is swap (swapon is refused): /swapfile and its fstab line are
/// checked instead. ufw is real: with NET_ADMIN its rules load into the container's own network namespace.
@Suite(.serialized) struct SetupVPSTests {
    func setupVPS(_ vps: VPSContainer, _ arguments: [String], user: String = "root") async throws -> OpsKitBinary.Output {
        var environment = vps.environment
        if user != "root" { environment["OPSKIT_SSH_KEY"] = vps.deployKey }
        return try await OpsKitBinary.run("setup-vps", ["--host", "\(user)@\(vps.destination)"] + arguments,
                                          environment: environment, asLink: true)
    }

    @Test func checkOnAFreshServerChangesNothing() async throws {
        let vps = try await VPSContainer.start()
        defer { Task { await vps.stop() } }
        let before = try await vps.changedPaths()
        let out = try await setupVPS(vps, ["--check", "--ssh-key", vps.deployKey + ".pub", "--app", "demo", "--swap", "64M"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("check only: nothing is changed"))
        #expect(out.stdout.contains("change   ssh hardening"))
        #expect(out.stdout.contains("+PermitRootLogin no"))              // the diff of the drop-in
        #expect(out.stdout.contains("+++ /etc/docker/daemon.json"))
        #expect(out.stdout.contains("created user deploy"))
        let after = try await vps.changedPaths()
        // Only what a login itself leaves behind (sshd's pid, the login records) may differ.
        let changed = after.subtracting(before).filter { !$0.hasPrefix("C /run") && !$0.hasPrefix("A /run") && !$0.contains("/var/log") && !$0.hasSuffix("/var") }
        #expect(changed.isEmpty, "--check changed \(changed.sorted())")
        #expect(try await vps.exec("id deploy", allowed: [0, 1]).termination == .exited(1))
    }

    /// One server through its life: a run whose deploy key cannot log in stops before the SSH hardening and
    /// leaves root reachable; the run with the right key finishes; the second run changes nothing.
    @Test func wrongKeyStopsSafelyThenTheRealRunHardensAndTheSecondChangesNothing() async throws {
        let vps = try await VPSContainer.start()
        defer { Task { await vps.stop() } }
        let common = ["--yes", "--app", "demo", "--swap", "64M", "--schedules", "--json"]

        // A public key whose private half the operator does not have (any more).
        let lost = try TempDirectory(prefix: "opskit-lost-key")
        defer { lost.remove() }
        _ = try await Runner().capture(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", lost.file("lost")))
        _ = try await Runner().capture(Command("rm", lost.file("lost")))
        let wrong = try await setupVPS(vps, common + ["--ssh-key", lost.file("lost.pub")])
        #expect(wrong.exitCode == 1)
        let wrongReport = try #require(JSONValue.parse(Array(wrong.stdout.utf8)))
        let failedStep = try #require(steps(wrongReport).first { $0["status"] == .string("failed") })
        #expect(failedStep["step"] == .string("ssh hardening"))
        #expect(failedStep["error"]?.stringValue?.contains("root login and passwords are still on") == true)
        try await vps.ssh(user: "root", key: vps.rootKey, "true")                         // still reachable
        #expect(try await vps.exec("[ -e /etc/ssh/sshd_config.d/00-opskit.conf ]", allowed: [0, 1]).termination == .exited(1))

        // The right key: everything finishes.
        let first = try await setupVPS(vps, common + ["--ssh-key", vps.deployKey + ".pub"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let firstReport = try #require(JSONValue.parse(Array(first.stdout.utf8)))
        #expect(firstReport.value(atPath: "summary.failed") == .number(0))
        #expect(steps(firstReport).contains { $0["step"] == .string("ssh hardening") && $0["status"] == .string("changed") })

        // The deploy user logs in with its key and has sudo; root and passwords are refused.
        #expect(try await vps.ssh(user: "deploy", key: vps.deployKey, "sudo -n id -u").stdoutText == "0")
        await #expect(throws: CommandError.self) { try await vps.ssh(user: "root", key: vps.rootKey, "true") }
        do {
            try await vps.ssh(user: "deploy", key: nil, extra: ["-o", "PubkeyAuthentication=no",
                              "-o", "PreferredAuthentications=password,keyboard-interactive"], "true")
            Issue.record("a login without a key was accepted")
        } catch let error as CommandError {
            // sshd offers only publickey now.
            #expect(error.stderrTail.joined().contains("Permission denied (publickey)"), "\(error.stderrTail)")
        }
        try await vps.exec("sshd -t")
        let added = try await vps.exec("ufw show added").stdoutText
        for rule in ["ufw allow 22/tcp", "ufw allow 80/tcp", "ufw allow 443/tcp"] { #expect(added.contains(rule)) }
        #expect(try await vps.exec("grep -q '^ENABLED=yes' /etc/ufw/ufw.conf", allowed: [0, 1]).termination == .exited(0))
        let daemon = try #require(JSONValue.parse(Array(try await vps.exec("cat /etc/docker/daemon.json").stdout)))
        #expect(daemon.value(atPath: "log-opts.max-size") == .string("10m"))
        #expect(daemon.value(atPath: "log-opts.max-file") == .string("3"))
        #expect(try await vps.exec("stat -c '%a %U' /opt/demo/config /opt/demo/data").stdoutText == "700 deploy\n755 deploy")
        #expect(try await vps.exec("id -nG deploy").stdoutText.split(separator: " ").contains("docker"))
        #expect(try await vps.exec("grep -c '^/swapfile none swap' /etc/fstab").stdoutText == "1")
        #expect(try await vps.exec("systemctl is-active fail2ban ssh").stdoutText == "active\nactive")
        #expect(try await vps.exec("fail2ban-client status sshd", allowed: [0, 255]).stdoutText.contains("Status for the jail: sshd"))
        #expect(try await vps.exec("systemctl is-enabled opskit-backup.timer opskit-monitor.timer").stdoutText == "enabled\nenabled")

        // Root login is off now: the second run goes in as deploy, through sudo, and changes nothing.
        let second = try await setupVPS(vps, common + ["--ssh-key", vps.deployKey + ".pub"], user: "deploy")
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        let secondReport = try #require(JSONValue.parse(Array(second.stdout.utf8)))
        #expect(secondReport.value(atPath: "summary.changed") == .number(0),
                "second run changed: \(steps(secondReport).filter { $0["status"] == .string("changed") })")
    }

    /// sshd started by socket activation (ssh.socket, as Ubuntu 22.10+ does; here Debian's own unit, one
    /// `sshd -i` per connection): detected, and the hardening applies to the next login.
    @Test func socketActivatedSSH() async throws {
        let vps = try await VPSContainer.start()
        defer { Task { await vps.stop() } }
        try await vps.exec("systemctl disable --now ssh.service >/dev/null 2>&1; systemctl enable --now ssh.socket >/dev/null 2>&1; systemctl is-active ssh.socket")
        try await vps.ssh(user: "root", key: vps.rootKey, "true")
        let out = try await setupVPS(vps, ["--yes", "--ssh-key", vps.deployKey + ".pub", "--swap", "0", "--json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let report = try #require(JSONValue.parse(Array(out.stdout.utf8)))
        #expect(report.value(atPath: "summary.failed") == .number(0))
        #expect(try await vps.ssh(user: "deploy", key: vps.deployKey, "true").termination == .exited(0))
        await #expect(throws: CommandError.self) { try await vps.ssh(user: "root", key: vps.rootKey, "true") }
        #expect(try await vps.exec("systemctl is-active ssh.socket").stdoutText == "active")
    }

    /// On the server itself, as root, with the release binary from bin/ (it needs only libc there): the
    /// local path, where the lockout check can only insist on a valid key.
    @Test func runOnTheServerItself() async throws {
        let binary = try SSHDServer.repositoryRoot() + "/bin/opskit"
        try #require(access(binary, X_OK) == 0, "bin/opskit is missing: scripts/install builds it (scripts/test does)")
        let vps = try await VPSContainer.start()
        defer { Task { await vps.stop() } }
        _ = try await Runner().capture(Command("docker", "cp", binary, "\(vps.name):/usr/local/bin/opskit"))
        try await vps.exec("ln -s opskit /usr/local/bin/setup-vps")
        try await vps.exec(#"printf '%s' "$1" > /root/deploy.pub"#, OpsKitProcess.read(vps.deployKey + ".pub"))

        let first = try await vps.exec("setup-vps --yes --ssh-key /root/deploy.pub --app demo --swap 0 2>&1", allowed: [0, 1, 2])
        #expect(first.termination == .exited(0), "\(first.stdoutText)")
        #expect(first.stdoutText.contains("changed  ssh hardening"))
        #expect(first.stdoutText.contains("could not try a login from here"))
        #expect(try await vps.ssh(user: "deploy", key: vps.deployKey, "sudo -n true").termination == .exited(0))

        let second = try await vps.exec("setup-vps --yes --ssh-key /root/deploy.pub --app demo --swap 0 --json")
        let report = try #require(JSONValue.parse(Array(second.stdout)))
        #expect(report.value(atPath: "summary.changed") == .number(0), "\(second.stdoutText)")

        // Without a terminal and without --yes it changes nothing, and says so.
        let refused = try await vps.exec("setup-vps --app other </dev/null 2>&1", allowed: [1])
        #expect(refused.stdoutText.contains("add --yes"))
        #expect(try await vps.exec("[ -e /opt/other ]", allowed: [0, 1]).termination == .exited(1))
    }

    func steps(_ report: JSONValue) -> [JSONValue] {
        if case .array(let items)? = report["steps"] { return items }
        return []
    }
}
