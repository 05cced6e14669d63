/// Where an app's deploy history, backup catalog and alert state live on a target.
///
/// `/var/lib/opskit/<app>` as root, `$XDG_STATE_HOME/opskit/<app>` (default `~/.local/state`) otherwise.
/// `OPSKIT_STATE_DIR` replaces the `…/opskit` base on this machine (tests, unusual layouts).
public enum StateDirectory {
    public static func resolve(app: String, on target: Target, environment: [String: String], create: Bool = true)
        async throws -> String
    {
        let base: String
        if target.isLocal, let override = environment["OPSKIT_STATE_DIR"], !override.isEmpty {
            base = override
        } else {
            let script = #"if [ "$(id -u)" = 0 ]; then echo /var/lib/opskit; else echo "${XDG_STATE_HOME:-$HOME/.local/state}/opskit"; fi"#
            base = try await target.capture(Target.shell(script)).stdoutText
        }
        let directory = base + "/" + app
        if create { try await target.makeDirectory(directory) }
        return directory
    }
}
