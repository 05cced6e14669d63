import Shell

/// A new SSH login, apart from any running connection (no ControlMaster), as setup-vps's lockout check.
public enum LoginProbe {
    /// Runs `true` as `user` on the host; nil when that worked, else ssh's own words for what failed.
    public static func tryLogin(host: SSHHost, user: String, port: Int?, identityFile: String?,
                                knownHostsFile: String?) async -> String? {
        var argv = ["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none",
                    "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=yes"]
        if let p = port ?? host.port { argv += ["-p", String(p)] }
        if let identityFile { argv += ["-i", identityFile, "-o", "IdentitiesOnly=yes"] }
        if let knownHostsFile { argv += ["-o", "UserKnownHostsFile=\(knownHostsFile)"] }
        argv += ["-l", user, host.host, "--", "true"]
        do {
            _ = try await Runner().capture(Command(argv: argv, timeout: .seconds(30)))
            return nil
        } catch let error as CommandError {
            return error.stderrTail.last(where: { !$0.isEmpty }) ?? error.description
        } catch {
            return "\(error)"
        }
    }
}
