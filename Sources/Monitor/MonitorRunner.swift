#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore

/// One monitor run: every check at once, collected in a fixed order (host, containers, health, TLS, backup).
public struct MonitorRunner: Sendable {
    public var settings: MonitorSettings
    public var environment: [String: String]
    /// Prefix for /proc and /var/run (tests).
    public var root: String

    public init(settings: MonitorSettings, environment: [String: String], root: String = "") {
        self.settings = settings
        self.environment = environment
        self.root = root
    }

    /// Runs the checks; `previousRestarts` are the container restart counts the last run saw. Returns the
    /// report and the counts to remember.
    public func run(previousRestarts: [String: Int]) async -> (report: MonitorReport, restarts: [String: Int]) {
        let clock = ContinuousClock()
        let started = clock.now
        let startedAt = Date()
        let settings = self.settings
        async let containers = settings.dockerSocket == nil
            ? (results: [CheckResult](), restarts: previousRestarts)
            : ContainerCheck(socketPath: settings.dockerSocket, expected: settings.expectedContainers)
                .run(previousRestarts: previousRestarts)
        async let health = HealthURLCheck(urls: settings.healthURLs, caFile: settings.caFile).run()
        async let certificates = CertificateCheck(domains: settings.domains, thresholds: settings.thresholds.certificateDays, caFile: settings.caFile)
            .run(now: startedAt)
        async let backup: CheckResult? = settings.backupStore.map { store in
            BackupFreshnessCheck(store: store, environment: environment, thresholds: settings.thresholds.backupAgeHours)
        }?.run(now: startedAt)
        let host = HostChecks(thresholds: settings.thresholds, root: root, dockerRoot: settings.dockerRoot).run()
        let (containerResults, restarts) = await containers
        var results = host + containerResults + (await health) + (await certificates)
        if let backup = await backup { results.append(backup) }
        let report = MonitorReport(results: results, startedAt: startedAt, duration: clock.now - started, host: Self.hostname())
        return (report, restarts)
    }

    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
