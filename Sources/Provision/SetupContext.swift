import Shell

/// What every step gets: the server, what is known about it, what is wanted, and whether to change anything.
public struct SetupContext: Sendable {
    public let host: ProvisionHost
    public let facts: HostFacts
    public let settings: SetupSettings
    /// `--check`: find out what would change, change nothing.
    public let check: Bool
    /// Tries a new SSH login as `user` with the key that should work; nil means it worked, else what failed.
    /// nil when setup-vps runs on the server itself (there is no second connection to try).
    public let loginProbe: (@Sendable (_ user: String) async -> String?)?

    public init(host: ProvisionHost, facts: HostFacts, settings: SetupSettings, check: Bool,
                loginProbe: (@Sendable (String) async -> String?)?) {
        self.host = host
        self.facts = facts
        self.settings = settings
        self.check = check
        self.loginProbe = loginProbe
    }

    /// Makes `path` hold exactly `text` with this mode and owner; records the change (and its diff) in `log`.
    /// Returns whether anything changed (with `--check`: would change).
    @discardableResult
    public func ensureFile(_ path: String, _ text: String, mode: UInt32 = 0o644, owner: String = "root",
                           group: String = "root", log: inout StepLog) async throws -> Bool {
        let current = try await host.read(path)
        let meta = current == nil ? nil : try await host.stat(path)
        let wantedMode = String(mode, radix: 8)
        let sameText = current == text
        let sameMeta = meta.map { $0.mode == wantedMode && $0.owner == owner && $0.group == group } ?? false
        if sameText && sameMeta { return false }
        if sameText {
            log.changed("set \(path) to \(owner):\(group) \(wantedMode)")
        } else {
            log.changed(current == nil ? "created \(path)" : "updated \(path)",
                        diff: LineDiff.unified(old: current, new: text, path: path))
        }
        if !check { try await host.write(path, text, mode: mode, owner: owner, group: group) }
        return true
    }

    /// Makes a directory exist with this mode and owner.
    @discardableResult
    public func ensureDirectory(_ path: String, mode: UInt32, owner: String, group: String, log: inout StepLog)
        async throws -> Bool
    {
        let wantedMode = String(mode, radix: 8)
        let meta = try await host.stat(path)
        if let meta, meta.mode == wantedMode, meta.owner == owner, meta.group == group { return false }
        log.changed(meta == nil ? "created \(path) (\(owner):\(group) \(wantedMode))"
                                : "set \(path) to \(owner):\(group) \(wantedMode)")
        if !check {
            try await host.sh(#"mkdir -p -- "$1" && chown -- "$2:$3" "$1" && chmod "$4" "$1""#,
                              [path, owner, group, wantedMode])
        }
        return true
    }

    /// Installs the packages that are missing; records them.
    public func ensurePackages(_ packages: [String], log: inout StepLog) async throws {
        var missing: [String] = []
        for package in packages where !(try await host.isInstalled(package)) { missing.append(package) }
        guard !missing.isEmpty else { return }
        log.changed("installed \(missing.joined(separator: ", "))")
        if !check { try await host.aptInstall(missing) }
    }

    /// Restarts (or reloads) a service if it is running; says so otherwise.
    public func restartIfRunning(_ service: String, reload: Bool = false, log: inout StepLog) async throws {
        guard !check else { return }
        let verb = reload ? "reload" : "restart"
        if facts.systemd {
            if try await host.test(#"systemctl is-active --quiet "$1""#, [service]) {
                try await host.sh(#"systemctl "$2" "$1""#, [service, verb])
            } else {
                try await host.sh(#"systemctl enable --now "$1" >/dev/null 2>&1 || true"#, [service])
            }
        } else if try await host.test(#"command -v service >/dev/null && service "$1" status >/dev/null 2>&1"#, [service]) {
            try await host.sh(#"service "$1" "$2""#, [service, verb])
        } else {
            log.note("\(service) is not running (no systemd here); the change applies when it starts")
        }
    }
}

/// One step of the setup, in the order ``SetupPlan/steps`` runs them.
public protocol SetupStep: Sendable {
    var name: String { get }
    func run(_ context: SetupContext) async throws -> StepResult
}
