import FoundationEssentials
import OpsCore
import Shell

/// Points the nginx upstream at one host port: rewrite the upstream file atomically, `nginx -t`, reload.
///
/// A failed test restores the previous file before anything reloads, so nginx never runs a config we did not
/// check. Reload is graceful: old workers finish their requests while new ones use the new upstream.
struct NginxSwitch: Sendable {
    let target: Target
    let proxy: DeployEnvironment.Proxy
    /// What keeps serving when a switch is refused (the previous file is put back): `v1 (demo-production-blue on :3001)`.
    var serving = "the version nginx pointed at"

    /// The port the upstream file points at now; nil when there is no file yet.
    func currentPort() async throws -> Int? {
        guard let bytes = try await target.readFile(proxy.upstreamFile) else { return nil }
        return Self.port(in: String(decoding: bytes, as: UTF8.self))
    }

    /// Switches to `port`; `note` goes into the file's header comment (what is serving, since when).
    func switchTo(port: Int, note: String) async throws {
        let previous = try await target.readFile(proxy.upstreamFile)
        try await target.writeFile(proxy.upstreamFile, Self.render(name: proxy.upstreamName, port: port, note: note))
        do {
            try await target.capture(Command(argv: proxy.testCommand))
        } catch let error as CommandError {
            try await restore(previous)
            throw DeployError.proxyConfig(command: ShellQuote.join(proxy.testCommand), reason: Self.reason(error),
                                          serving: serving)
        }
        do {
            try await target.capture(Command(argv: proxy.reloadCommand))
        } catch let error as CommandError {
            try await restore(previous)
            throw DeployError.proxyReload(command: ShellQuote.join(proxy.reloadCommand), reason: Self.reason(error),
                                          serving: serving)
        }
    }

    private func restore(_ previous: [UInt8]?) async throws {
        if let previous {
            try await target.writeFile(proxy.upstreamFile, String(decoding: previous, as: UTF8.self))
        } else {
            try await target.capture(Command("rm", "-f", "--", proxy.upstreamFile))
        }
    }

    /// nginx's last line is only "configuration file … test failed"; the `[emerg]` line before it says why.
    static func reason(_ error: CommandError) -> String {
        error.stderrTail.last { $0.contains("[emerg]") } ?? error.stderrTail.last ?? error.reason
    }

    static func render(name: String, port: Int, note: String) -> String {
        """
        # Managed by opskit deploy — \(note). Rewritten on every deploy; do not edit by hand.
        upstream \(name) {
            server 127.0.0.1:\(port);
            keepalive 16;
        }

        """
    }

    static func port(in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" })
            if words.first == "server", words.count >= 2, let colon = words[1].lastIndex(of: ":") {
                return Int(words[1][words[1].index(after: colon)...])
            }
        }
        return nil
    }
}
