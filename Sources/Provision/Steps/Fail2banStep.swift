/// 6. fail2ban with an sshd jail; the systemd backend where sshd logs only to the journal.
public struct Fail2banStep: SetupStep {
    public var name: String { "fail2ban" }
    public init() {}

    public static let path = "/etc/fail2ban/jail.d/opskit-sshd.local"

    public static func jail(ports: [Int], journal: Bool) -> String {
        var lines = [
            "# Managed by opskit setup-vps.",
            "[sshd]",
            "enabled = true",
            "port = \(ports.map(String.init).joined(separator: ","))",
            "maxretry = 5",
            "findtime = 10m",
            "bantime = 1h",
        ]
        if journal { lines.append("backend = systemd") }
        return lines.joined(separator: "\n") + "\n"
    }

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let journal = context.facts.journalOnly && context.facts.systemd
        try await context.ensurePackages(journal ? ["fail2ban", "python3-systemd"] : ["fail2ban"], log: &log)
        let ports = context.facts.sshPortsToAllow(wanted: context.settings.sshPort)
        let text = Self.jail(ports: ports, journal: journal)
        if try await context.ensureFile(Self.path, text, log: &log) {
            try await context.restartIfRunning("fail2ban", log: &log)
        }
        return log.finish()
    }
}
