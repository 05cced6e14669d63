/// 4. ufw: deny incoming by default, allow the SSH port(s) actually in use **first**, then 80 and 443, and
/// only then enable. Never enabled before SSH is allowed.
public struct FirewallStep: SetupStep {
    public var name: String { "firewall" }
    public init() {}

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        try await context.ensurePackages(["ufw"], log: &log)
        let sshPorts = context.facts.sshPortsToAllow(wanted: context.settings.sshPort)
        let wanted = sshPorts.map { "\($0)/tcp" } + ["80/tcp", "443/tcp"]

        // `ufw show added` lists rules whether or not ufw is active; `ufw status verbose` says whether it is.
        let installed = context.check ? try await host.test("command -v ufw >/dev/null") : true
        let added = installed ? try await host.sh("ufw show added 2>/dev/null || true").stdoutText : ""
        let rules = UFWStatus.allowedRules(added)
        // ufw's own settings files say what it will do, whether or not the kernel rules are loaded now.
        let active = UFWStatus.setting("ENABLED", in: try await host.read("/etc/ufw/ufw.conf") ?? "") == "yes"
        let denyIncoming = ["DROP", "REJECT"].contains(
            UFWStatus.setting("DEFAULT_INPUT_POLICY", in: try await host.read("/etc/default/ufw") ?? "") ?? "")

        if !denyIncoming || !active {
            // ufw keeps its default policy even while inactive; setting it again is harmless.
            if !denyIncoming { log.changed("default incoming policy: deny") }
            if !context.check { try await host.sh("ufw default deny incoming >/dev/null && ufw default allow outgoing >/dev/null") }
        }
        for rule in wanted where !rules.contains(rule) {
            log.changed("allowed \(rule)")
            if !context.check { try await host.sh(#"ufw allow "$1" >/dev/null"#, [rule]) }
        }
        if !active {
            log.changed("enabled ufw (SSH on \(sshPorts.map(String.init).joined(separator: ", ")) allowed first)")
            if !context.check {
                // The SSH rule must be in place before enabling: check what ufw itself recorded.
                let recorded = UFWStatus.allowedRules(try await host.sh("ufw show added").stdoutText)
                guard sshPorts.allSatisfy({ recorded.contains("\($0)/tcp") }) else {
                    throw SetupError("ufw did not record the SSH rule; it was NOT enabled, so SSH stays reachable — check `ufw show added`")
                }
                let enabled = try await host.sh("ufw --force enable 2>&1", allowed: [0, 1])
                if enabled.termination != .exited(0) {
                    if context.facts.container {
                        log.note("ufw could not be enabled in this container (no firewall of its own: \(enabled.stdoutText.split(separator: "\n").last ?? "")); its rules are saved")
                    } else {
                        throw SetupError("ufw --force enable failed: \(enabled.stdoutText); the rules are saved, the firewall is off")
                    }
                }
            }
        }
        log.note("ports Docker publishes bypass ufw; publish internal services on 127.0.0.1 (\"127.0.0.1:3000:3000\")")
        return log.finish()
    }
}

/// Reading `ufw show added` and `ufw status verbose`.
public enum UFWStatus {
    /// Rules like `22/tcp` from `ufw allow 22/tcp` lines.
    public static func allowedRules(_ shown: String) -> Set<String> {
        var rules = Set<String>()
        for line in shown.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 3, fields[0] == "ufw", fields[1] == "allow" else { continue }
            rules.insert(fields[2].contains("/") ? fields[2] : fields[2] + "/tcp")
        }
        return rules
    }

    /// `NAME=value` (quotes removed) from a shell-style settings file such as /etc/default/ufw.
    public static func setting(_ name: String, in text: String) -> String? {
        var value: String?
        for line in text.split(separator: "\n") {
            let trimmed = String(line).trimmingSpaces
            guard trimmed.hasPrefix(name + "=") else { continue }
            var v = Substring(trimmed.dropFirst(name.count + 1))
            if v.count >= 2, let f = v.first, f == "\"" || f == "'", v.last == f { v = v.dropFirst().dropLast() }
            value = String(v)
        }
        return value
    }
}
