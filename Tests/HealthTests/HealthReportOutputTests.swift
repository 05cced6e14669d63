import OpsCore
import Testing
@testable import Health

@Suite struct HealthReportOutputTests {
    func result(_ url: String, _ status: HealthStatus, latency: Double? = 12.3456, days: Int? = nil,
                summary: String? = nil, attempts: Int = 1) -> HealthResult {
        HealthResult(url: url, status: status, summary: summary ?? "\(url) 200 in 12 ms (healthy)", httpStatus: 200,
                     latencyMs: latency, timings: nil, certificateDaysLeft: days, reportedStatus: "healthy",
                     failingChecks: [], reasons: [], attempts: attempts, error: nil)
    }

    @Test func oneURLLineWithPerfdataAndThresholds() {
        let target = HealthTarget(url: "http://a/", expectations: .init(warnLatencyMs: 300, critLatencyMs: 1000, minCertificateDays: 14))
        let report = HealthReport(results: [result("http://a/", .ok, days: 99)], targets: [target])
        #expect(report.pluginLine ==
            "HEALTH OK - http://a/ 200 in 12 ms (healthy) | time=0.012346s;0.300000;1.000000;0 cert_days=99;14;0 attempts=1")
        #expect(report.exitCode == 0)
    }

    @Test func severalURLsNameTheWorstAndLabelPerfdata() {
        let report = HealthReport(
            results: [result("http://a/", .ok), result("http://b/", .critical, latency: nil, summary: "http://b/: refused", attempts: 3)],
            targets: [HealthTarget(url: "http://a/"), HealthTarget(url: "http://b/")])
        #expect(report.status == .critical)
        #expect(report.exitCode == 2)
        #expect(report.pluginLine == "HEALTH CRITICAL - 1 of 2 URLs not OK: OK http://a/ 200 in 12 ms (healthy); "
            + "CRITICAL http://b/: refused | time_1=0.012346s;;;0 attempts_1=1 attempts_2=3")
    }

    @Test func jsonForOneURLIsTheResultItself() throws {
        let report = HealthReport(results: [result("http://a/", .warning)], targets: [HealthTarget(url: "http://a/")])
        let doc = try #require(JSONValue.parse(Array(report.jsonDocument().utf8)))
        #expect(doc["url"] == .string("http://a/"))
        #expect(doc["status"] == .string("WARNING"))
        #expect(doc["attempts"] == .number(1))
        #expect(doc["results"] == nil)
    }

    @Test func jsonForSeveralURLsHasWorstAndResults() throws {
        let report = HealthReport(results: [result("http://a/", .ok), result("http://b/", .unknown)],
                                  targets: [HealthTarget(url: "http://a/"), HealthTarget(url: "http://b/")])
        let doc = try #require(JSONValue.parse(Array(report.jsonDocument().utf8)))
        #expect(doc["status"] == .string("UNKNOWN"))
        guard case .array(let results)? = doc["results"] else { Issue.record("no results"); return }
        #expect(results.count == 2)
    }
}
