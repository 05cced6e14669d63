/// 2. The deploy user: created if missing, in `sudo` and `docker`, sudo without a password (it has none:
/// it logs in with its key only), and `authorized_keys` from `--ssh-key` or copied from root's.
public struct DeployUserStep: SetupStep {
    public var name: String { "deploy user" }
    public init() {}

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        let user = context.settings.user
        try await context.ensurePackages(["sudo"], log: &log)

        let exists = try await host.test(#"id -u -- "$1" >/dev/null 2>&1"#, [user])
        if !exists {
            log.changed("created user \(user)")
            if !context.check { try await host.sh(#"useradd --create-home --shell /bin/bash -- "$1""#, [user]) }
        }
        // The docker group before Docker itself, so the user is in it from the start (docker.io reuses it).
        if !(try await host.test(#"getent group docker >/dev/null"#)) {
            log.changed("created group docker")
            if !context.check { try await host.sh("groupadd --system docker") }
        }
        let groups = exists ? try await host.sh(#"id -nG -- "$1""#, [user]).stdoutText.split(separator: " ").map(String.init) : []
        let missing = ["sudo", "docker"].filter { !groups.contains($0) }
        if !missing.isEmpty {
            log.changed("added \(user) to \(missing.joined(separator: ", "))")
            if !context.check { try await host.sh(#"usermod -aG "$2" -- "$1""#, [user, missing.joined(separator: ",")]) }
        }
        try await ensureSudoers(user: user, context: context, log: &log)

        let home = exists ? try await host.sh(#"getent passwd -- "$1" | cut -d: -f6"#, [user]).stdoutText : "/home/\(user)"
        let keys = try await wantedKeys(context)
        let current = try await host.read("\(home)/.ssh/authorized_keys")
        let merged = Self.merge(keys: keys, into: current)
        try await context.ensureDirectory("\(home)/.ssh", mode: 0o700, owner: user, group: user, log: &log)
        try await context.ensureFile("\(home)/.ssh/authorized_keys", merged, mode: 0o600, owner: user, group: user, log: &log)
        return log.finish()
    }

    /// `/etc/sudoers.d/90-opskit-<user>`, checked with `visudo -c` before sudo reads it.
    func ensureSudoers(user: String, context: SetupContext, log: inout StepLog) async throws {
        let path = "/etc/sudoers.d/90-opskit-\(user)"
        let text = "# Managed by opskit setup-vps: \(user) logs in with a key only and has no password.\n\(user) ALL=(ALL) NOPASSWD:ALL\n"
        let current = try await context.host.read(path)
        let mode = try await context.host.stat(path)?.mode
        if current == text, mode == "440" { return }
        log.changed(current == nil ? "created \(path)" : "updated \(path)",
                    diff: LineDiff.unified(old: current, new: text, path: path))
        guard !context.check else { return }
        // Written under a name sudo skips (it has a dot), checked, then renamed into place.
        let staged = "/etc/sudoers.d/.opskit-\(user).tmp"
        try await context.host.write(staged, text, mode: 0o440)
        let checked = try await context.host.sh(#"visudo -cf "$1" >/dev/null 2>&1 || { rm -f -- "$1"; exit 3; }; mv -f -- "$1" "$2""#,
                                                [staged, path], allowed: [0, 3])
        if checked.termination != .exited(0) {
            throw SetupError("visudo rejected the sudoers entry for \(user); nothing was installed in /etc/sudoers.d")
        }
    }

    /// The keys from `--ssh-key`, else root's authorized keys; it is an error to have none (nobody could log in).
    func wantedKeys(_ context: SetupContext) async throws -> [String] {
        if !context.settings.authorizedKeys.isEmpty { return context.settings.authorizedKeys }
        let root = try await context.host.read("/root/.ssh/authorized_keys") ?? ""
        let keys = Self.keyLines(root)
        guard !keys.isEmpty else {
            throw SetupError("no SSH key for \(context.settings.user): root has no authorized_keys on \(context.host.name); pass --ssh-key ~/.ssh/id_ed25519.pub (nothing after this step was done)")
        }
        return keys
    }

    /// The key lines of an authorized_keys text (no blanks, no comments).
    public static func keyLines(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0).trimmingSpaces }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The existing file with the missing keys appended: keys someone added by hand stay.
    public static func merge(keys: [String], into current: String?) -> String {
        var text = current ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        let present = Set(keyLines(text).map(keyIdentity))
        for key in keys where !present.contains(keyIdentity(key)) { text += key + "\n" }
        return text
    }

    /// Type and base64 blob: the same key with another comment or options is the same key.
    static func keyIdentity(_ line: String) -> String {
        let fields = line.split(separator: " ").map(String.init)
        if let index = fields.firstIndex(where: { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") || $0.hasPrefix("sk-") }),
           index + 1 < fields.count {
            return fields[index] + " " + fields[index + 1]
        }
        return line
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
