import Backup
import Logging
import Shell
import FoundationEssentials
import Monitor
import OpsCore
import Testing
import TestSupport

/// Health URLs and certificates against the real nginx of scripts/services/http-fixture (certificates of
/// a private CA: valid 400 days, expiring in 10 days, expired), and backup freshness against a real store.
@Suite struct ServiceChecksTests {
    @Test func healthURLsAreOKDegradedAndDownThroughTheHealthLibrary() async throws {
        let fixture = try await HTTPFixture.shared
        let urls = [fixture.http + "/api/health", fixture.http + "/degraded", fixture.http + "/unhealthy", fixture.closed + "/"]
        let results = await HealthURLCheck(urls: urls, timeout: .seconds(5)).run()
        #expect(results.map(\.id) == urls.map { "health:" + $0 })
        #expect(results.map(\.state) == [.ok, .warning, .critical, .critical])
        #expect(results[1].summary.contains("ollama"))
        #expect(results[0].unit == "seconds" && (results[0].value ?? -1) >= 0)
        #expect(await HealthURLCheck(urls: []).run().isEmpty)
    }

    @Test func certificateDaysLeftAgainstTheThresholds() async throws {
        let fixture = try await HTTPFixture.shared
        let domains = [fixture.httpsOK, fixture.httpsSoon, fixture.httpsExpired]
        let check = CertificateCheck(domains: domains, thresholds: LowerThresholds(warning: 21, critical: 7), caFile: fixture.caFile)
        let results = await check.run()
        #expect(results.map(\.state) == [.ok, .warning, .critical], "\(results.map(\.summary))")
        #expect((results[0].value ?? 0) > 390)
        #expect((9...10).contains(Int(results[1].value ?? 0)))
        #expect(results[1].summary.hasPrefix("certificate valid for 9 more days") || results[1].summary.hasPrefix("certificate valid for 10 more days"))
        #expect(results[2].summary.hasPrefix("certificate expired"), "\(results[2].summary)")
        #expect(results.allSatisfy { $0.id.hasPrefix("tls:https://127.0.0.1:") })

        // Without the private CA the certificate is rejected: CRITICAL with the reason, not OK.
        let untrusted = await CertificateCheck(domains: [fixture.httpsOK], thresholds: LowerThresholds(warning: 21, critical: 7)).run()
        #expect(untrusted.first?.state == .critical)
        #expect(untrusted.first?.summary.hasPrefix("certificate rejected") == true)

        // Nothing listening: UNKNOWN with the reason.
        let closed = await CertificateCheck(domains: [String(fixture.closed.dropFirst("http://".count))],
                                            thresholds: LowerThresholds(warning: 21, critical: 7)).run()
        #expect(closed.first?.state == .unknown)
        #expect(closed.first?.summary.hasPrefix("cannot connect to 127.0.0.1:") == true)
    }

    @Test func backupFreshnessFromTheCatalog() async throws {
        let tmp = try TempDirectory(prefix: "opskit-monitor-backup")
        defer { tmp.remove() }
        let storeDirectory = tmp.file("store")
        let spec = StoreSpec.directory(storeDirectory)
        let check = BackupFreshnessCheck(store: spec, environment: [:], thresholds: UpperThresholds(warning: 26, critical: 26))
        let empty = await check.run()
        #expect(empty.state == .critical || empty.state == .unknown)

        // A real backup through backup-db's library.
        makeDirectories(tmp.file("data"))
        try AtomicFile.write("hello", to: tmp.file("data/a.txt"))
        let settings = BackupSettings(app: "mon", sources: [try BackupSource(parsing: "dir:" + tmp.file("data"))], store: spec)
        makeDirectories(tmp.file("state"))
        let job = BackupJob(settings: settings, environment: [:], stateDirectory: tmp.file("state"), logger: Logger(label: "test"))
        _ = try await job.backup(name: nil, permanent: false, prune: false)

        let fresh = await check.run()
        #expect(fresh.state == .ok, "\(fresh.summary)")
        #expect(fresh.summary.hasPrefix("newest backup backup-"))
        let later = await check.run(now: Date().addingTimeInterval(27 * 3600))
        #expect(later.state == .critical)
        #expect(later.summary.contains("older than 26 h"))
    }
}
