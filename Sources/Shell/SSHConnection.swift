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
