/// 5. SSH hardening in `/etc/ssh/sshd_config.d/00-opskit.conf`, which sorts before cloud-init's
/// `50-cloud-init.conf` (sshd keeps the first value it reads for a keyword, so ours wins): no passwords,
/// no root login, no keyboard-interactive, `MaxAuthTries`.
///
/// Lockout safeguards, in this order: a **new** SSH login as the deploy user with its key must work before
/// anything changes (the current root session stays open throughout); the file is checked with `sshd -t`
/// and put back if sshd rejects it; after the reload a new login is tried again and the change is undone
/// if that fails. On the server itself (no `--host`) there is no second connection to try: the deploy user
/// must at least have a valid key.
public struct SSHHardeningStep: SetupStep {
    public var name: String { "ssh hardening" }
    public init() {}

    public static let path = "/etc/ssh/sshd_config.d/00-opskit.conf"
    static let include = "Include /etc/ssh/sshd_config.d/*.conf"

    public static func config(_ settings: SetupSettings) -> String {
        var lines = [
            "# Managed by opskit setup-vps. Sorts before 50-cloud-init.conf: sshd keeps the first value it reads.",
        ]
        if let port = settings.sshPort { lines.append("Port \(port)") }
        lines += [
            "PermitRootLogin no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "MaxAuthTries \(settings.maxAuthTries)",
            "X11Forwarding no",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        let wanted = Self.config(context.settings)
        let user = context.settings.user

        let mainConfig = try await host.read("/etc/ssh/sshd_config") ?? ""
        let includes = mainConfig.split(separator: "\n").contains { String($0).trimmingSpaces.hasPrefix("Include /etc/ssh/sshd_config.d/") }
        let current = try await host.read(Self.path)
        let mode = try await host.stat(Self.path)?.mode
        let fileOK = current == wanted && mode == "644"
        if fileOK && includes { return log.finish() }

        let newMain = includes ? mainConfig : Self.include + "\n" + mainConfig
        if !includes {
            log.changed("added `\(Self.include)` at the top of /etc/ssh/sshd_config",
                        diff: LineDiff.unified(old: mainConfig, new: newMain, path: "/etc/ssh/sshd_config"))
        }
        if !fileOK {
            log.changed(current == nil ? "created \(Self.path)" : "updated \(Self.path)",
                        diff: LineDiff.unified(old: current, new: wanted, path: Self.path))
        }
        if context.check { return log.finish() }

        // Safeguard 1: the deploy user can log in with its key before root login and passwords go.
        try await requireLogin(context, port: nil, when: "before changing sshd: root login and passwords are still on and nothing in sshd was changed")

        try await context.ensureDirectory("/etc/ssh/sshd_config.d", mode: 0o755, owner: "root", group: "root", log: &log)
        if !fileOK { try await host.write(Self.path, wanted) }
        if !includes { try await host.write("/etc/ssh/sshd_config", newMain) }
        // Safeguard 2: sshd itself accepts the configuration.
        let validated = try await host.sh("sshd -t 2>&1", allowed: [0, 255, 1])
        if validated.termination != .exited(0) {
            try await restore(context, file: current, main: includes ? nil : mainConfig)
            throw SetupError("sshd -t rejected the new configuration (\(validated.stdoutText.split(separator: "\n").first ?? "")); it was put back, sshd was not reloaded")
        }
        try await reload(context)
        // Safeguard 3: a new login still works after the reload; otherwise undo.
        do {
            try await requireLogin(context, port: context.settings.sshPort, when: "after reloading sshd")
        } catch {
            try await restore(context, file: current, main: includes ? nil : mainConfig)
            try await reload(context)
            throw SetupError("\(error) — the previous sshd configuration was put back and reloaded; root login is as it was")
        }
        if context.loginProbe == nil {
            log.note("checked that \(user) has a valid key, but could not try a login from here: keep this root session open and try `ssh \(user)@<server>` from another terminal")
        }
        return log.finish()
    }

    func requireLogin(_ context: SetupContext, port: Int?, when: String) async throws {
        let user = context.settings.user
        if let probe = context.loginProbe {
            // sshd re-executes itself on a reload and drops connections that arrive meanwhile: a closed or
            // refused connection is tried again for a few seconds; a refused key is final at once.
            var failure: String?
            for attempt in 0..<6 {
                failure = await probe(user)
                guard let text = failure, !text.contains("Permission denied") else { break }
                if attempt < 5 { try await Task.sleep(for: .seconds(1)) }
            }
            if let failure {
                let advice = failure.contains("Permission denied")
                    ? "fix the key (--ssh-key FILE) and run setup-vps again" : "check that sshd is reachable, then run setup-vps again"
                throw SetupError("a new SSH login as \(user) with its key failed \(when): \(failure) — \(advice)")
            }
            return
        }
        // On the server itself: at least one key ssh-keygen understands in the user's authorized_keys.
        let valid = try await context.host.test(#"""
            home=$(getent passwd -- "$1" | cut -d: -f6) && [ -n "$home" ] || exit 1
            ssh-keygen -lf "$home/.ssh/authorized_keys" >/dev/null 2>&1
            """#, [user])
        if !valid {
            throw SetupError("\(user) has no valid key in authorized_keys (\(when)); pass --ssh-key FILE and run setup-vps again")
        }
    }

    func restore(_ context: SetupContext, file: String?, main: String?) async throws {
        if let file { try await context.host.write(Self.path, file) } else { try await context.host.sh(#"rm -f -- "$1""#, [Self.path]) }
        if let main { try await context.host.write("/etc/ssh/sshd_config", main) }
    }

    /// Makes sshd use the new file: reload the daemon; on Ubuntu's socket-activated sshd each connection
    /// reads it anyway, and a port change needs the socket regenerated.
    func reload(_ context: SetupContext) async throws {
        let host = context.host
        if context.facts.systemd {
            if context.facts.sshSocket {
                // Socket activation: Ubuntu's ssh.socket starts ssh.service once (a daemon that must reload);
                // Debian's starts `sshd -i` per connection (reads the file each time). A port change needs
                // the socket regenerated from sshd_config (Ubuntu's generator) and restarted.
                if context.settings.sshPort != nil {
                    try await host.sh("systemctl daemon-reload && systemctl restart ssh.socket")
                }
                try await host.sh("if systemctl is-active --quiet ssh.service; then systemctl reload ssh.service; fi")
                return
            }
            try await host.sh("systemctl reload ssh 2>/dev/null || systemctl reload sshd")
            return
        }
        // No systemd (a container): SIGHUP makes sshd re-read its configuration.
        try await host.sh(#"""
            pid=$(cat /run/sshd.pid 2>/dev/null || cat /var/run/sshd.pid 2>/dev/null) && kill -HUP "$pid" \
              || service ssh reload >/dev/null 2>&1 || pkill -HUP -x sshd
            """#)
        try await Task.sleep(for: .milliseconds(300))  // sshd re-executes itself on SIGHUP
    }
}
