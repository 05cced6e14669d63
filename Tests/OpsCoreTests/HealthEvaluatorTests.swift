import FoundationEssentials
import Testing
@testable import OpsCore

@Suite struct HealthEvaluatorTests {
    func judge(_ status: Int, _ body: String, latency: Double = 5, expiry: Date? = nil,
               _ e: HealthExpectations = .init()) -> HealthVerdict {
        HealthEvaluator.evaluate(
            HealthObservation(httpStatus: status, body: Array(body.utf8), latencyMs: latency, certificateExpiry: expiry),
            expecting: e, now: Date(timeIntervalSince1970: 1_000_000_000))
    }

    @Test(arguments: [
        ("healthy", HealthStatus.ok), ("OK", .ok), ("Up", .ok),
        ("degraded", .warning), ("DEGRADED", .warning),
        ("unhealthy", .critical), ("down", .critical), ("Error", .critical),
        ("starting", .warning),
    ])
    func topLevelStatus(reported: String, expected: HealthStatus) {
        #expect(judge(200, #"{"status":"\#(reported)"}"#).status == expected)
    }

    @Test func namesEveryFailingCheck() {
        let v = judge(503, #"{"status":"unhealthy","checks":{"database":{"status":"down","latencyMs":5},"cache":false,"ollama":{"status":"up"}}}"#)
        #expect(v.status == .critical)
        #expect(v.failingChecks.map(\.description) == ["cache (down)", "database (down)"])
        #expect(v.reasons.contains("failing checks: cache (down), database (down)"))
        #expect(v.reasons.contains("HTTP 503, expected 2xx or 3xx"))
    }

    @Test func downCheckUnderHealthyStatusWarns() {
        let v = judge(200, #"{"status":"healthy","checks":{"db":{"status":"down"}}}"#)
        #expect(v.status == .warning)
    }

    @Test func checksWithoutTopLevelStatusDecideAlone() {
        #expect(judge(200, #"{"checks":{"db":true,"cache":true}}"#).status == .ok)
        #expect(judge(200, #"{"checks":{"db":false}}"#).status == .critical)
    }

    @Test func nonJSONIsJudgedByStatusAndExpectBody() {
        #expect(judge(200, "<html>not json {").status == .ok)
        #expect(judge(200, "OK all good", .init(bodyContains: "all good")).status == .ok)
        let v = judge(200, "<html>", .init(bodyContains: "all good"))
        #expect(v.status == .critical)
        #expect(v.reasons == [#"body does not contain "all good""#])
        #expect(judge(503, "Service Unavailable").status == .critical)
        #expect(judge(404, "").status == .critical)
    }

    @Test func expectStatusReplacesTheDefaultRange() {
        #expect(judge(204, "", .init(statuses: [204])).status == .ok)
        #expect(judge(200, "", .init(statuses: [204])).reasons == ["HTTP 200, expected 204"])
    }

    @Test func expectJSONUsesDottedKeys() {
        let body = #"{"status":"healthy","checks":{"database":{"status":"up","latencyMs":5}},"n":3,"ok":true}"#
        let pass = HealthExpectations(json: [.init(path: "checks.database.status", value: "up"),
                                             .init(path: "n", value: "3"), .init(path: "ok", value: "true")])
        #expect(judge(200, body, pass).status == .ok)
        let fail = judge(200, body, .init(json: [.init(path: "checks.database.status", value: "down"),
                                                 .init(path: "checks.cache.status", value: "up")]))
        #expect(fail.status == .critical)
        #expect(fail.reasons == [#"checks.database.status is "up", expected "down""#,
                                 #"checks.cache.status is missing, expected "up""#])
        #expect(judge(200, "plain", .init(json: [.init(path: "a", value: "b")])).status == .critical)
    }

    @Test func parsesExpectJSONArguments() {
        #expect(JSONExpectation(parsing: "checks.db.status=up") == .init(path: "checks.db.status", value: "up"))
        #expect(JSONExpectation(parsing: "a=b=c") == .init(path: "a", value: "b=c"))
        #expect(JSONExpectation(parsing: "a=") == .init(path: "a", value: ""))
        #expect(JSONExpectation(parsing: "noequals") == nil)
        #expect(JSONExpectation(parsing: "=x") == nil)
        #expect(JSONExpectation(parsing: "a..b=x") == nil)
    }

    @Test func latencyThresholds() {
        let e = HealthExpectations(warnLatencyMs: 100, critLatencyMs: 500)
        #expect(judge(200, "", latency: 99, e).status == .ok)
        #expect(judge(200, "", latency: 100, e).status == .warning)
        #expect(judge(200, "", latency: 700, e).status == .critical)
    }

    @Test func certificateDays() {
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        let e = HealthExpectations(minCertificateDays: 30)
        let soon = judge(200, "", expiry: now.addingTimeInterval(10 * 86_400 + 60), e)
        #expect(soon.status == .warning)
        #expect(soon.certificateDaysLeft == 10)
        #expect(judge(200, "", expiry: now.addingTimeInterval(400 * 86_400), e).status == .ok)
        #expect(judge(200, "", expiry: now.addingTimeInterval(-86_400), e).status == .critical)
    }

    @Test func worstOfSeveral() {
        #expect(HealthStatus.worst([.ok, .warning, .ok]) == .warning)
        #expect(HealthStatus.worst([.unknown, .critical]) == .critical)
        #expect(HealthStatus.worst([.ok, .unknown]) == .unknown)
    }
}
