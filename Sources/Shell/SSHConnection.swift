#if canImport(Glibc)
import Glibc
#endif

/// Runs commands on one host through the system `ssh`, reusing one ControlMaster connection for the whole run.
///
/// Host keys are always checked (`StrictHostKeyChecking=yes`, `BatchMode=yes`: never a prompt). Call
/// ``close()`` when done; otherwise the master exits by itself 60 s after its last use.
public final class SSHConnection: Sendable {
    public let host: SSHHost
    public let options: SSHOptions
    /// Where the ControlMaster socket lives.
    public let controlDirectory: String
    private let ownsControlDirectory: Bool

    /// - Parameter controlDirectory: where to put the socket; `nil` makes a fresh private (0700) temp dir,
    ///   removed by ``close()``.
    public init(host: SSHHost, options: SSHOptions = .init(), controlDirectory: String? = nil) {
        self.host = host
        self.options = options
        if let controlDirectory {
            self.controlDirectory = controlDirectory
            ownsControlDirectory = false
        } else {
            // Short on purpose: a unix socket path must fit in 108 bytes, and %C adds 40.
            var template = Array("/tmp/opskit-ssh-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.flatMap { mkdtemp($0) }
            }
            // No directory: ssh then warns and runs without multiplexing, which is slower but still correct.
            self.controlDirectory = made.map { String(cString: $0) } ?? "/tmp/opskit-ssh-\(getpid())"
            ownsControlDirectory = made != nil
        }
    }

    /// `%C` (a hash of host, port and user) keeps connections apart when callers share a directory.
    var controlPath: String { controlDirectory + "/%C" }

    /// The ssh options and destination every invocation shares, without the remote command.
    private var sshArguments: [String] {
        var args = [
            "ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=\(controlPath)",
            "-o", "ControlPersist=60", "-o", "ConnectTimeout=\(Self.wholeSeconds(options.connectTimeout))",
        ]
        if let port = host.port { args += ["-p", String(port)] }
        if let key = options.identityFile { args += ["-i", key, "-o", "IdentitiesOnly=yes"] }
        if let knownHosts = options.knownHostsFile { args += ["-o", "UserKnownHostsFile=\(knownHosts)"] }
        args += ["-o", "StrictHostKeyChecking=yes"]
        return args + options.extraOptions
    }

    /// The same command, run on the host: `ssh … user@host -- '<quoted remote command>'`.
    ///
    /// The remote side is a shell, so every argument is quoted; environment changes become `env NAME=value`
    /// (unsets `unset NAME`) and the working directory `cd DIR &&`. Timeout, grace and allowed exit codes
    /// carry over; remember that ssh exits 255 when it cannot connect (see ``CommandError/isSSHConnectionFailure``).
    /// Values of environment changes appear in the ssh command line (visible in `ps`): pass secrets another way.
    public func wrap(_ command: Command) -> Command {
        var steps: [String] = []
        if let directory = command.workingDirectory { steps.append("cd " + ShellQuote.quote(directory)) }
        let changes = command.environment.sorted { $0.key < $1.key }
        let unsets = changes.filter { $0.value == nil }.map(\.key)
        if !unsets.isEmpty { steps.append("unset " + ShellQuote.join(unsets)) }
        let sets = changes.compactMap { change in change.value.map { "\(change.key)=\($0)" } }
        steps.append(ShellQuote.join((sets.isEmpty ? [] : ["env"] + sets) + command.argv))

        var wrapped = Command(
            argv: sshArguments + [host.destination, "--", steps.joined(separator: " && ")],
            allowedExitCodes: command.allowedExitCodes, timeout: command.timeout)
        wrapped.killGrace = command.killGrace
        return wrapped
    }

    /// Makes `remoteHost:remotePort` as seen from the host reachable here at `127.0.0.1:<returned port>`,
    /// through the master connection (`ssh -O forward -L`), e.g. to check a service bound to the VPS's loopback.
    ///
    /// The forward lives as long as the master; ``close()`` ends both.
    public func forward(remotePort: Int, remoteHost: String = "127.0.0.1") async throws -> Int {
        // Make sure the master is up: `-O forward` talks to a running master and fails without one.
        _ = try await Runner().capture(wrap(Command("true", timeout: .seconds(30))))
        var lastError: (any Error)?
        for _ in 0..<5 {
            let local = Self.freeLocalPort()
            let spec = "127.0.0.1:\(local):\(remoteHost):\(remotePort)"
            do {
                _ = try await Runner().capture(
                    Command(argv: sshArguments + ["-O", "forward", "-L", spec, host.destination], timeout: .seconds(15)))
                return local
            } catch {
                lastError = error  // the port was taken in between: try another
            }
        }
        throw lastError ?? CommandError(command: "ssh -O forward", termination: nil, reason: "no local port could be forwarded")
    }

    /// A port below the ephemeral range that nothing listens on now.
    static func freeLocalPort() -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20000..<32000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { Glibc.close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        return Int.random(in: 20000..<32000)
    }

    /// Stops the master connection (`ssh -O exit`) and removes the socket directory we made.
    public func close() async {
        let exit = Command(argv: sshArguments + ["-O", "exit", host.destination], timeout: .seconds(15))
        // No master running (never connected, or it timed out) is fine: there is nothing to stop.
        _ = try? await Runner().capture(exit)
        if ownsControlDirectory { Self.removeDirectory(controlDirectory) }
    }

    private static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }

    /// Removes a directory holding only files or sockets (ours holds at most a stale socket).
    private static func removeDirectory(_ path: String) {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
