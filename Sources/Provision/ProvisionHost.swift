import OpsCore
import Shell

/// The server being set up, as root: this machine or one host over SSH (through ``Target``).
///
/// Every operation is a POSIX `sh` script with its arguments passed separately ("$1"…), so nothing of ours
/// has to be installed on the server and no value is ever spliced into a command line.
public struct ProvisionHost: Sendable {
    public let target: Target
    /// Commands go through `sudo -n` (logged in as the deploy user once root login is off).
    public let sudo: Bool

    public init(target: Target, sudo: Bool = false) {
        self.target = target
        self.sudo = sudo
    }

    public var name: String { target.description }

    /// Runs `script` with `arguments`; exit codes outside `allowed` throw a ``CommandError``.
    @discardableResult
    public func sh(_ script: String, _ arguments: [String] = [], allowed: Set<Int32> = [0],
                   timeout: Duration? = .seconds(120)) async throws -> CapturedOutput {
        var command = Target.shell(script, arguments, allowedExitCodes: allowed)
        if sudo { command.argv = ["sudo", "-n", "--"] + command.argv }
        command.timeout = timeout
        return try await target.capture(command)
    }

    /// True when `script` exits 0, false for any other exit code but 255 (ssh's own failure, which throws).
    public func test(_ script: String, _ arguments: [String] = []) async throws -> Bool {
        try await sh(script, arguments, allowed: Self.anyButSSHFailure).termination == .exited(0)
    }

    static let anyButSSHFailure = Set<Int32>(0...254)

    /// The file's text, nil when it does not exist.
    public func read(_ path: String) async throws -> String? {
        let out = try await sh(#"[ -e "$1" ] || exit 3; cat -- "$1""#, [path], allowed: [0, 3])
        return out.termination == .exited(3) ? nil : String(decoding: out.stdout, as: UTF8.self)
    }

    /// Mode (octal text, e.g. `600`), owner and group of a path; nil when it does not exist.
    public func stat(_ path: String) async throws -> (mode: String, owner: String, group: String)? {
        let out = try await sh(#"[ -e "$1" ] || exit 3; stat -c '%a %U %G' -- "$1""#, [path], allowed: [0, 3])
        guard out.termination == .exited(0) else { return nil }
        let fields = out.stdoutText.split(separator: " ").map(String.init)
        guard fields.count == 3 else { return nil }
        return (fields[0], fields[1], fields[2])
    }

    /// Replaces a file atomically (written beside it, synced, renamed) with this owner and mode: a reader
    /// sees the old or the new text, never a mix. The text travels as one argument (configuration files).
    public func write(_ path: String, _ text: String, mode: UInt32 = 0o644, owner: String = "root",
                      group: String = "root") async throws {
        let script = #"""
        set -e
        tmp="$(dirname "$1")/.$(basename "$1").opskit-tmp"
        trap 'rm -f "$tmp"' EXIT
        umask 077
        printf '%s' "$2" > "$tmp"
        chown -- "$4:$5" "$tmp"
        chmod "$3" "$tmp"
        sync "$tmp" 2>/dev/null || sync
        mv -f -- "$tmp" "$1"
        trap - EXIT
        """#
        try await sh(script, [path, text, String(mode, radix: 8), owner, group])
    }

    /// Whether a Debian package is installed.
    public func isInstalled(_ package: String) async throws -> Bool {
        try await test(#"dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'"#, [package])
    }

    /// Installs packages non-interactively, keeping existing configuration files.
    public func aptInstall(_ packages: [String]) async throws {
        guard !packages.isEmpty else { return }
        try await sh(Self.aptEnvironment + #"apt-get install -y -q --no-install-recommends "$@""#, packages,
                     timeout: .seconds(1800))
    }

    /// Prefix for every apt-get: no prompts, no configuration file questions (keep what is there).
    static let aptEnvironment = #"export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a; "#
        + #"set -- -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; "#
}

/// What setup-vps learns about the server before it changes anything.
public struct HostFacts: Sendable, Equatable {
    /// `debian` or `ubuntu` (os-release ID).
    public var distribution: String
    /// e.g. `bookworm`, `noble`.
    public var codename: String
    /// PID 1 is systemd.
    public var systemd: Bool
    /// Running in a container (LXC/Docker VPS): no swap, no kernel firewall of its own.
    public var container: Bool
    public var memoryBytes: Int64
    /// Swap in use now (bytes of all swap areas).
    public var swapBytes: Int64
    /// Ports sshd listens on now (from `sshd -T`, or ssh.socket on Ubuntu).
    public var sshPorts: [Int]
    /// The port this SSH session came in on (remote runs): it must stay open whatever sshd_config says.
    public var sessionPort: Int?
    /// Ubuntu's socket-activated sshd (ssh.socket) is in use.
    public var sshSocket: Bool
    /// No /var/log/auth.log: sshd logs only to the journal (fail2ban needs the systemd backend).
    public var journalOnly: Bool

    public init(distribution: String, codename: String, systemd: Bool, container: Bool, memoryBytes: Int64,
                swapBytes: Int64, sshPorts: [Int], sessionPort: Int?, sshSocket: Bool, journalOnly: Bool) {
        self.distribution = distribution
        self.codename = codename
        self.systemd = systemd
        self.container = container
        self.memoryBytes = memoryBytes
        self.swapBytes = swapBytes
        self.sshPorts = sshPorts
        self.sessionPort = sessionPort
        self.sshSocket = sshSocket
        self.journalOnly = journalOnly
    }

    /// Reads the facts in one round trip.
    public static func gather(on host: ProvisionHost) async throws -> HostFacts {
        let script = #"""
        [ "$(id -u)" = 0 ] || { echo "notroot"; exit 0; }
        . /etc/os-release 2>/dev/null
        echo "id=${ID:-unknown}"
        echo "codename=${VERSION_CODENAME:-unknown}"
        [ -d /run/systemd/system ] && echo systemd=1
        if [ -e /.dockerenv ] || [ -e /run/.containerenv ] || grep -qa 'container=' /proc/1/environ 2>/dev/null; then echo container=1; fi
        awk '/^MemTotal:/ {print "mem=" $2 * 1024}' /proc/meminfo
        awk 'NR > 1 {sum += $3} END {print "swap=" sum * 1024}' /proc/swaps
        sshd -T 2>/dev/null | awk '$1 == "port" {print "port=" $2}'
        [ -n "${SSH_CONNECTION:-}" ] && echo "session=${SSH_CONNECTION##* }"
        if [ -d /run/systemd/system ] && systemctl is-active --quiet ssh.socket 2>/dev/null; then echo sshsocket=1; fi
        [ -e /var/log/auth.log ] || echo journal=1
        exit 0
        """#
        let out = try await host.sh(script)
        var lines = out.stdoutText.split(separator: "\n").map(String.init)
        if host.sudo && !host.target.isLocal {
            // sudo drops SSH_CONNECTION: ask the login shell itself.
            let session = try await host.target.capture(Target.shell(#"echo "${SSH_CONNECTION##* }""#))
            if let port = Int(session.stdoutText) { lines.append("session=\(port)") }
        }
        if lines.first == "notroot" {
            throw SetupError("setup-vps must run as root on \(host.name) (it creates users and edits /etc); nothing was changed — run it with sudo or as root@HOST")
        }
        var values: [String: [String]] = [:]
        for line in lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq]), default: []].append(String(line[line.index(after: eq)...]))
        }
        let id = values["id"]?.first ?? "unknown"
        guard id == "debian" || id == "ubuntu" else {
            throw SetupError("\(host.name) runs '\(id)', not Debian or Ubuntu; setup-vps knows only those (apt, ufw, sshd_config.d); nothing was changed")
        }
        return HostFacts(
            distribution: id, codename: values["codename"]?.first ?? "unknown",
            systemd: values["systemd"] != nil, container: values["container"] != nil,
            memoryBytes: Int64(values["mem"]?.first ?? "") ?? 0, swapBytes: Int64(values["swap"]?.first ?? "") ?? 0,
            sshPorts: (values["port"] ?? []).compactMap { Int($0) },
            sessionPort: values["session"]?.first.flatMap { Int($0) },
            sshSocket: values["sshsocket"] != nil, journalOnly: values["journal"] != nil)
    }

    /// Every port SSH must stay reachable on: the current ones, the session's, and the one asked for.
    public func sshPortsToAllow(wanted: Int?) -> [Int] {
        var ports = sshPorts
        if let sessionPort { ports.append(sessionPort) }
        if let wanted { ports.append(wanted) }
        if ports.isEmpty { ports = [22] }
        var seen = Set<Int>()
        return ports.filter { seen.insert($0).inserted }
    }
}
