import OpsCore
import Testing
@testable import Monitor

@Suite struct RemoteMonitorTests {
    @Test func aHostsReportBecomesOneLineWorstFirst() {
        let json = #"{"status":"CRITICAL","checks":[{"id":"disk:/","state":"WARNING","summary":"disk / 85 %"},{"id":"mem","state":"OK","summary":"ok"},{"id":"container:web","state":"CRITICAL","summary":"web exited"}]}"#
        let result = RemoteMonitor.result(host: "web1", stdout: Array(json.utf8), stderr: "")
        #expect(result.state == .critical)
        #expect(result.summary == "CRITICAL web exited; WARNING disk / 85 %")
        let ok = RemoteMonitor.result(host: "web1", stdout: Array(#"{"status":"OK","checks":[{"state":"OK"},{"state":"OK"}]}"#.utf8), stderr: "")
        #expect(ok.state == .ok && ok.summary == "2 checks OK")
    }

    @Test func noReportIsUnknownWithTheHostsLastWords() {
        let result = RemoteMonitor.result(host: "web1", stdout: [], stderr: "warming up\nopskit's monitor is not installed on this host\n")
        #expect(result.state == .unknown)
        #expect(result.summary == "no report: opskit's monitor is not installed on this host")
    }
}
