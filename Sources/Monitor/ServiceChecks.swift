import FoundationEssentials
import Logging
import OpsCore
import Backup
import Shell

/// The app's health URLs, probed as health-check probes them (OpsCore's HealthProbe): WARNING when degraded, CRITICAL when down.
public struct HealthURLCheck: Sendable {
    public var urls: [String]
    public var timeout: Duration
    /// An extra CA bundle to trust (a private CA).
    public var caFile: String?

    public init(urls: [String], timeout: Duration = .seconds(10), caFile: String? = nil) {
        self.urls = urls
        self.timeout = timeout
        self.caFile = caFile
    }

    public func run() async -> [CheckResult] {
        guard !urls.isEmpty else { return [] }
        // One quick retry for what is transient: a monitor reports, it does not wait out an outage.
        let targets = urls.map {
            HealthTarget(url: $0, timeout: timeout, caFile: caFile, retry: RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(200)))
        }
        return await HealthProbe().checkAll(targets).map { result in
            CheckResult(
                id: "health:\(result.url)", check: "health", state: result.status, summary: result.summary,
                value: result.latencyMs.map { $0 / 1000 }, unit: "seconds", labels: ["url": result.url])
        }
    }
}

/// Days until each domain's TLS certificate expires (21 / 7 by default). An expired or otherwise
/// invalid certificate is CRITICAL with the reason; a domain that does not answer is UNKNOWN.
public struct CertificateCheck: Sendable {
    public var domains: [String]
    public var thresholds: LowerThresholds
    /// An extra CA bundle to trust (a private CA).
    public var caFile: String?
    public var client: HTTPClient

    public init(domains: [String], thresholds: LowerThresholds, caFile: String? = nil, client: HTTPClient = HTTPClient()) {
        self.domains = domains
        self.thresholds = thresholds
        self.caFile = caFile
        self.client = client
    }

    public func run(now: Date = Date()) async -> [CheckResult] {
        await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, domain) in domains.enumerated() {
                group.addTask { (index, await check(domain, now: now)) }
            }
            var results: [(Int, CheckResult)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `example.com`, `example.com:8443` or a URL: what to connect to.
    static func endpoint(_ domain: String) -> String {
        if domain.hasPrefix("https://") {
            let rest = domain.dropFirst("https://".count)
            return "https://" + (rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? String(rest)) + "/"
        }
        return "https://\(domain)/"
    }

    func check(_ domain: String, now: Date) async -> CheckResult {
        let id = "tls:\(domain)"
        let labels = ["domain": domain]
        var request = HTTPRequest(url: Self.endpoint(domain), method: "HEAD")
        request.timeout = .seconds(10)
        request.connectTimeout = .seconds(5)
        request.caFile = caFile
        var invalid: String?
        var response: HTTPResponse?
        do {
            response = try await client.send(request)
        } catch let error as HTTPError {
            switch error {
            case .tlsCertificate(let message), .tls(let message):
                // Read the certificate anyway, to say when it expired.
                invalid = message
                request.verifyTLS = false
                response = try? await client.send(request)
            default:
                return .unknown(id: id, check: "tls", "cannot connect to \(domain): \(error)", labels: labels)
            }
        } catch {
            return .unknown(id: id, check: "tls", "cannot connect to \(domain): \(error)", labels: labels)
        }
        guard let expiry = response?.certificateExpiry else {
            if let invalid { return CheckResult(id: id, check: "tls", state: .critical, summary: "certificate rejected: \(invalid)", labels: labels) }
            return .unknown(id: id, check: "tls", "\(domain) sent no certificate the check could read", labels: labels)
        }
        let days = expiry.timeIntervalSince(now) / 86_400
        let whole = Int(days.rounded(.down))
        var state = thresholds.state(days)
        var summary = days < 0
            ? "certificate expired \(-whole) day\(-whole == 1 ? "" : "s") ago (\(ISO8601Seconds.text(expiry)))"
            : "certificate valid for \(whole) more day\(whole == 1 ? "" : "s") (until \(ISO8601Seconds.text(expiry)))"
        if let invalid, days >= 0 {
            state = .critical
            summary = "certificate rejected: \(invalid)"
        }
        return CheckResult(id: id, check: "tls", state: state, summary: summary, value: days, unit: "days",
                           warning: thresholds.warning, critical: thresholds.critical, labels: labels)
    }
}

/// The age of the newest complete backup in the store `backup-db` writes to (26 h: CRITICAL). A store that
/// cannot be read is UNKNOWN; a store with no backup at all is CRITICAL.
public struct BackupFreshnessCheck: Sendable {
    public var store: StoreSpec
    public var environment: [String: String]
    public var thresholds: UpperThresholds

    public init(store: StoreSpec, environment: [String: String], thresholds: UpperThresholds) {
        self.store = store
        self.environment = environment
        self.thresholds = thresholds
    }

    public func run(now: Date = Date()) async -> CheckResult {
        let spec = store
        let environment = self.environment
        let listing: Result<(String, [BackupManifest]), any Error>
        do {
            listing = .success(try await OwnThread.run { () throws -> (String, [BackupManifest]) in
                let opened = try StoreFactory.open(spec, environment: environment)
                return (opened.description, try opened.list())
            })
        } catch {
            listing = .failure(error)
        }
        switch listing {
        case .failure(let error):
            return .unknown(id: "backup", check: "backup", "cannot read the backup catalog: \(error)")
        case .success(let (where_, manifests)):
            let labels = ["store": where_]
            guard let newest = manifests.max(by: { $0.createdAt < $1.createdAt }) else {
                return CheckResult(id: "backup", check: "backup", state: .critical,
                                   summary: "no complete backup in \(where_)", labels: labels)
            }
            let hours = now.timeIntervalSince(newest.createdAt) / 3600
            let state = thresholds.state(hours)
            return CheckResult(
                id: "backup", check: "backup", state: state,
                summary: "newest backup \(newest.id) is \(Self.age(hours)) old" + (state == .ok ? "" : " (backups older than \(MonitorReport.number(thresholds.critical)) h are stale)"),
                value: hours, unit: "hours", warning: thresholds.warning, critical: thresholds.critical, labels: labels)
        }
    }

    static func age(_ hours: Double) -> String {
        if hours < 1 { return "\(max(0, Int(hours * 60))) min" }
        if hours < 48 { return "\(format1(hours)) h" }
        return "\(Int(hours / 24)) days"
    }
}
