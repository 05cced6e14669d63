#if canImport(Glibc)
import Glibc
#endif

/// Where an app's deploy history, backup catalog and alert state live on a target.
///
/// `/var/lib/opskit/<app>` as root, `$XDG_STATE_HOME/opskit/<app>` (default `~/.local/state`) otherwise.
/// `OPSKIT_STATE_DIR` replaces the `…/opskit` base (tests, unusual layouts): this machine's for a local target,
/// the target's own for an SSH target.
public enum StateDirectory {
    public static func resolve(app: String, on target: Target, environment: [String: String], create: Bool = true)
        async throws -> String
    {
        let base: String
        if target.isLocal, let override = environment["OPSKIT_STATE_DIR"], !override.isEmpty {
            base = override
        } else {
            // The target's own OPSKIT_STATE_DIR counts there too (set in its environment, e.g. sshd's SetEnv).
            let script = #"if [ -n "${OPSKIT_STATE_DIR:-}" ]; then echo "$OPSKIT_STATE_DIR"; elif [ "$(id -u)" = 0 ]; then echo /var/lib/opskit; else echo "${XDG_STATE_HOME:-$HOME/.local/state}/opskit"; fi"#
            base = try await target.capture(Target.shell(script)).stdoutText
        }
        let directory = base + "/" + app
        if create { try await target.makeDirectory(directory) }
        return directory
    }
}

extension StateDirectory {
    /// The same directory for this machine, computed without starting a process (the monitor runs every
    /// minute and counts its milliseconds). Creates it (0700) when `create`.
    public static func local(app: String, environment: [String: String], create: Bool = true) throws -> String {
        let base: String
        if let override = environment["OPSKIT_STATE_DIR"], !override.isEmpty {
            base = override
        } else if geteuid() == 0 {
            base = "/var/lib/opskit"
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            base = state + "/opskit"
        } else {
            base = (environment["HOME"] ?? "/tmp") + "/.local/state/opskit"
        }
        let directory = base + "/" + app
        if create {
            var built = ""
            for part in directory.split(separator: "/") {
                built += "/" + part
                if mkdir(built, 0o700) != 0 && errno != EEXIST {
                    throw StateDirectoryError(path: built, reason: String(cString: strerror(errno)))
                }
            }
        }
        return directory
    }
}

/// The state directory could not be created.
public struct StateDirectoryError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String {
        "cannot create the state directory \(path): \(reason) — set OPSKIT_STATE_DIR to a writable directory"
    }
}
