import Backup
import FoundationEssentials
import Logging
import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// What `backup-db` and `restore` share: logging, opskit.yml, settings, the state directory, output.
struct BackupSession: Sendable {
    let job: BackupJob

    static func start<Tool: OpsKitTool>(_ tool: Tool.Type, output: OutputOptions, overrides: BackupSettings.Overrides,
                                        requireSources: Bool, progress: Bool) async -> BackupSession? {
        let name = tool.configuration.commandName ?? "backup-db"
        Log.bootstrap(tool: name, format: output.logFormat, level: output.logLevel)
        let logger = Logger(label: name)
        let env = ProcessInfo.processInfo.environment
        do {
            let config = try OpsConfig.load(explicitPath: output.config, environment: env)
            let settings = try BackupSettings.resolve(config: config, overrides: overrides, environment: env,
                                                      requireSources: requireSources)
            let state = try await StateDirectory.resolve(app: settings.app, on: .local, environment: env)
            let meter = progress && !output.quiet && !output.json && StandardStreams.isTerminal(2)
                ? ProgressMeter() : nil
            var report: (@Sendable (Int) -> Void)?
            if let meter { report = { bytes in meter.update(bytes) } }
            let job = BackupJob(settings: settings, environment: env, stateDirectory: state, logger: logger,
                                progress: report)
            return BackupSession(job: job)
        } catch {
            tool.reportUsageError(Redactor.redact("\(error)"))
            return nil
        }
    }

    static func fail(_ tool: String, _ error: any Error, json: Bool) -> Int32 {
        ProgressMeter.clearLine()
        let message = Redactor.redact("\(error)")
        if json { writeStdout(DeploySession.json(Failure(status: "failed", error: message))) }
        writeStderr("\(tool): \(message)\n")
        return 1
    }

    struct Failure: Encodable {
        let status: String
        let error: String
    }

    // MARK: Listing

    struct Listed: Encodable {
        let id: String
        let createdAt: Date
        let sizeBytes: Int
        let sha256: String
        let compression: String
        let encrypted: Bool
        let recipients: [String]
        let permanent: Bool
        let verifiedAt: Date?
        let sources: [String]
        let object: String
    }

    static func listed(_ m: BackupManifest) -> Listed {
        Listed(id: m.id.description, createdAt: m.createdAt, sizeBytes: m.sizeBytes, sha256: m.sha256,
               compression: m.compression, encrypted: m.encrypted, recipients: m.recipients, permanent: m.permanent,
               verifiedAt: m.verifiedAt, sources: m.sources.map(\.location), object: m.object)
    }

    /// `--list`: id, size, age, encrypted, permanent, verified — newest last, like `ls -tr`.
    static func printList(_ manifests: [BackupManifest], store: String, json: Bool, now: Date) {
        let sorted = manifests.sorted { $0.id < $1.id }
        if json {
            writeStdout(DeploySession.json(sorted.map(listed)))
            return
        }
        guard !sorted.isEmpty else {
            writeStdout("no backups in \(store) yet")
            return
        }
        let width = max(2, sorted.map { $0.id.description.count }.max() ?? 0)
        var lines = [pad("ID", width) + "  " + pad("SIZE", 9) + "  " + pad("AGE", 8) + "  ENCRYPTED  PERMANENT  VERIFIED"]
        for m in sorted {
            let verified = m.verifiedAt.map { age(now.timeIntervalSince($0)) + " ago" } ?? "no"
            lines.append(pad(m.id.description, width) + "  " + pad(bytes(m.sizeBytes), 9) + "  "
                + pad(age(now.timeIntervalSince(m.createdAt)), 8) + "  " + pad(m.encrypted ? "yes" : "no", 9) + "  "
                + pad(m.permanent ? "yes" : "no", 9) + "  " + verified)
        }
        lines.append("\(sorted.count) backup\(sorted.count == 1 ? "" : "s") in \(store)")
        writeStdout(lines.joined(separator: "\n"))
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(n) B" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }

    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}

/// A one-line progress display on a terminal's stderr, at most four times a second.
final class ProgressMeter: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var lastPrint = 0.0
    private let start = ProgressMeter.seconds()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func update(_ bytes: Int) {
        let now = Self.seconds()
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard now - lastPrint >= 0.25 else { return }
        lastPrint = now
        let rate = Double(bytes) / max(now - start, 0.001)
        writeStderr("\r\u{1B}[K  \(BackupSession.bytes(bytes)) read  (\(BackupSession.bytes(Int(rate)))/s)")
    }

    /// Clears the progress line (only ever drawn on a terminal).
    static func clearLine() {
        if StandardStreams.isTerminal(2) { writeStderr("\r\u{1B}[K") }
    }
}
