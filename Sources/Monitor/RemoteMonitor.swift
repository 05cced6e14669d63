import OpsCore
import Shell

/// `monitor --environment`: each host runs its own monitor (the one in opskit's bin/ there, which reads that
/// host's /proc and Docker socket), over SSH and side by side; this collects one result per host.
public struct RemoteMonitor: Sendable {
    /// One host's answer.
    public struct HostResult: Sendable, Equatable {
        public var host: String
        public var state: HealthStatus
        /// The non-OK checks' summaries (`disk /: 91% used`), or `12 checks OK`; why it could not run.
        public var summary: String
        /// The host's whole `monitor --json` document, when it printed one.
        public var document: JSONValue?
    }

    /// Where opskit's bin/ is on the hosts; nil: `monitor` on PATH, else /opt/opskit/bin.
    public var remoteBin: String?
    /// `--config` for the monitor on each host (its opskit.yml there), if not its default.
    public var remoteConfig: String?

    public init(remoteBin: String? = nil, remoteConfig: String? = nil) {
        self.remoteBin = remoteBin
        self.remoteConfig = remoteConfig
    }

    static let script = #"""
    bin=$1; shift
    if [ -n "$bin" ]; then
        [ -x "$bin/monitor" ] || { echo "no monitor in $bin on this host" >&2; exit 3; }
        exec "$bin/monitor" "$@"
    fi
    if command -v monitor >/dev/null 2>&1; then exec monitor "$@"; fi
    if [ -x /opt/opskit/bin/monitor ]; then exec /opt/opskit/bin/monitor "$@"; fi
    echo "opskit's monitor is not installed on this host (not on PATH, not in /opt/opskit/bin); install bin/ there or pass --remote-bin DIR" >&2
    exit 3
    """#

    /// Runs every host's monitor at once; results in the hosts' order.
    public func run(on hosts: [(name: String, target: Target)]) async -> [HostResult] {
        await withTaskGroup(of: (Int, HostResult).self) { group in
            for (i, host) in hosts.enumerated() {
                group.addTask { (i, await self.check(host.name, host.target)) }
            }
            var all: [(Int, HostResult)] = []
            for await result in group { all.append(result) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func check(_ name: String, _ target: Target) async -> HostResult {
        var arguments = [remoteBin ?? "", "--json"]
        if let remoteConfig { arguments += ["--config", remoteConfig] }
        let output: CapturedOutput
        do {
            output = try await target.capture(Target.shell(Self.script, arguments, allowedExitCodes: [0, 1, 2, 3]))
        } catch {
            // No answer from the host at all (SSH refused, timed out): it is not well.
            return HostResult(host: name, state: .critical, summary: "not reachable: \(Redactor.redact("\(error)"))")
        }
        return Self.result(host: name, stdout: output.stdout, stderr: output.stderrText)
    }

    /// What one host's `monitor --json` said (or why it said nothing useful).
    static func result(host: String, stdout: [UInt8], stderr: String) -> HostResult {
        guard let document = JSONValue.parse(stdout), case .string(let statusText)? = document["status"],
              let state = HealthStatus(rawValue: statusText) else {
            let reason = stderr.split(separator: "\n").last.map(String.init)
                ?? String(decoding: stdout.prefix(200), as: UTF8.self)
            return HostResult(host: host, state: .unknown, summary: "no report: \(Redactor.redact(reason))")
        }
        var bad: [(HealthStatus, String)] = []
        var total = 0
        if case .array(let checks)? = document["checks"] {
            total = checks.count
            for check in checks {
                guard case .string(let text)? = check["state"], let checkState = HealthStatus(rawValue: text),
                      checkState != .ok else { continue }
                bad.append((checkState, check["summary"]?.stringValue ?? check["id"]?.stringValue ?? "?"))
            }
        }
        let summary = bad.isEmpty ? "\(total) checks OK"
            : bad.sorted { $0.0.severity > $1.0.severity }.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: "; ")
        return HostResult(host: host, state: state, summary: summary, document: document)
    }
}
