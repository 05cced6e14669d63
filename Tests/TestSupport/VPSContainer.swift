#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A "fresh VPS" for setup-vps: a container of the debootstrapped Debian bookworm image
/// (`scripts/services/vps-image`) running its own sshd on a loopback port, root reachable with a test key.
///
/// PID 1 is systemd (it boots here with the host's cgroup v1 tree mounted read-only), which starts sshd as
/// ssh.service: setup-vps installs, reloads and restarts services through systemctl, as on a VPS. The
/// container has NET_ADMIN: ufw loads real netfilter rules into the container's own network namespace.
/// Downloaded packages are kept in the `opskit-test-apt` volume, so only the first run downloads them.
public struct VPSContainer: Sendable {
    public let name: String
    public let port: Int
    public let directory: TempDirectory

    /// Root's key (the one setup-vps connects with).
    public var rootKey: String { directory.file("root_key") }
    /// A second key pair: the deploy user's.
    public var deployKey: String { directory.file("deploy_key") }
    public var knownHosts: String { directory.file("known_hosts") }
    public var destination: String { "127.0.0.1:\(port)" }

    public static func start() async throws -> VPSContainer {
        let root = try SSHDServer.repositoryRoot()
        _ = try await Runner().capture(Command(root + "/scripts/services/vps-image", timeout: .seconds(1800)))
        let directory = try TempDirectory(prefix: "opskit-vps")
        let port = try DockerFixture.freePort()
        let name = "opskit-vps-\(UInt32.random(in: 0...UInt32.max))"
        do {
            for key in ["root_key", "deploy_key"] {
                _ = try await Runner().capture(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", directory.file(key)))
            }
            var args = ["docker", "run", "-d", "--name", name, "--hostname", "vps", "--cap-add", "NET_ADMIN",
                        "-p", "127.0.0.1:\(port):22", "-v", "opskit-test-apt:/var/cache/apt/archives",
                        "--label", "opskit.test=vps"]
            // The package registry this machine reaches by a name in /etc/hosts: the container needs it too.
            for (name, address) in await Self.hostEntries() { args += ["--add-host", "\(name):\(address)"] }
            args += ["--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                     "opskit-test/vps:bookworm", "/lib/systemd/systemd"]
            _ = try await Runner().capture(Command(argv: args, timeout: .seconds(60)))
            let key = OpsKitProcess.read(directory.file("root_key.pub"))
            let vps = VPSContainer(name: name, port: port, directory: directory)
            try await vps.exec("mkdir -p /root/.ssh && chmod 700 /root/.ssh && printf '%s' \"$1\" > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys", key)
            let hostKey = try await vps.exec("cat /etc/ssh/ssh_host_ed25519_key.pub").stdoutText
            let fields = hostKey.split(separator: " ")
            try "[127.0.0.1]:\(port) \(fields[0]) \(fields[1])\n".write(toFile: vps.knownHosts)
            // sshd is up when a login works.
            for attempt in 0..<150 {
                if (try? await vps.ssh(user: "root", key: vps.rootKey, "true")) != nil { break }
                if attempt == 149 { throw TestSupportError("sshd in \(name) did not accept root's key") }
                try await Task.sleep(for: .milliseconds(200))
            }
            return vps
        } catch {
            _ = try? await Runner().capture(Command("docker", "rm", "-f", name))
            directory.remove()
            throw error
        }
    }

    /// Runs a shell script inside the container as root (not through SSH): the test's own view.
    @discardableResult
    public func exec(_ script: String, _ arguments: String..., allowed: Set<Int32> = [0]) async throws -> CapturedOutput {
        try await Runner().capture(Command(argv: ["docker", "exec", name, "sh", "-c", script, "sh"] + arguments,
                                           allowedExitCodes: allowed, timeout: .seconds(120)))
    }

    /// A new SSH login (no multiplexing) running `command`; throws with ssh's message when refused.
    @discardableResult
    public func ssh(user: String, key: String?, extra: [String] = [], _ command: String) async throws -> CapturedOutput {
        var argv = ["ssh", "-o", "BatchMode=yes", "-o", "ControlPath=none", "-o", "ConnectTimeout=5",
                    "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts)", "-p", String(port)]
        if let key { argv += ["-i", key, "-o", "IdentitiesOnly=yes"] }
        argv += extra + ["-l", user, "127.0.0.1", "--", command]
        return try await Runner().capture(Command(argv: argv, timeout: .seconds(30)))
    }

    /// The environment setup-vps needs to reach this server as root.
    public var environment: [String: String?] {
        ["OPSKIT_SSH_KEY": rootKey, "OPSKIT_SSH_KNOWN_HOSTS": knownHosts, "HOME": directory.path]
    }

    /// Files the container changed, added or deleted compared with its image (`docker diff`).
    public func changedPaths() async throws -> Set<String> {
        let out = try await Runner().capture(Command("docker", "diff", name)).stdoutText
        return Set(out.split(separator: "\n").map(String.init))
    }

    public func stop() async {
        _ = try? await Runner().capture(Command("docker", "rm", "-f", name, timeout: .seconds(60)))
        directory.remove()
    }

    /// Debian's registry as this machine resolves it (a mirror reached by name): the container uses the same.
    static func hostEntries() async -> [(String, String)] {
        var entries: [(String, String)] = []
        for name in ["deb.debian.org"] {
            let out = try? await Runner().capture(Command("getent", "ahostsv4", name))
            if let address = out?.stdoutText.split(separator: " ").first { entries.append((name, String(address))) }
        }
        return entries
    }
}
