import OpsCore
import Testing
@testable import Deploy

@Suite struct FleetReportTests {
    func report(_ states: [HostOutcome.State], status: String) -> FleetReport {
        FleetReport(status: status, kind: .deploy, version: "v2", image: "app:v2", batch: "1", hosts: states.enumerated().map {
            HostOutcome(host: "deploy@web\($0.offset + 1).example.com", state: $0.element, serving: "v1",
                        detail: $0.element == .failed ? "v2 did not become healthy\nat http://x within 30 s" : nil)
        })
    }

    @Test func twentyHostsAreTwentyAlignedLines() {
        var states = Array(repeating: HostOutcome.State.switchedBack, count: 20)
        states[6] = .failed
        for i in 7..<20 { states[i] = .unchanged }
        let r = report(states, status: "failed")
        let lines = HostTable.render(r.hosts.map { [$0.host, $0.state.rawValue, $0.serving ?? "-", $0.detail ?? ""] })
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 20, "one line per host, a detail with a newline stays on its line")
        // The state column starts at the same place on every line (web1 … web20 differ in length).
        let columns = Set(lines.map { line -> Int in
            let afterIndent = line.drop { $0 == " " }
            let host = afterIndent.prefix { $0 != " " }
            let gap = afterIndent.dropFirst(host.count).prefix { $0 == " " }
            return line.count - afterIndent.count + host.count + gap.count
        })
        #expect(columns.count == 1, "\(lines)")
        #expect(lines.allSatisfy { $0.count <= 200 && !$0.hasSuffix(" ") })
        #expect(r.headline == "not deployed v2: every host that switched was switched back; all 20 hosts serve their previous version")
    }

    @Test func headlines() {
        #expect(report([.deployed, .deployed], status: "deployed").headline == "deployed v2 on all 2 hosts")
        #expect(report([.unchanged, .unchanged], status: "failed").headline == "not deployed v2: nothing was changed on any host")
        #expect(report([.deployed, .failed], status: "partial").headline.hasPrefix("deployed v2 on 1 of 2 hosts (--allow-partial)"))
        #expect(report([.stuck, .failed], status: "failed").headline.contains("switching back failed on deploy@web1.example.com"))
    }

    @Test func longDetailsAreCut() {
        let text = HostTable.render([["h", "failed", String(repeating: "x", count: 400)]])
        #expect(text.count < 180 && text.hasSuffix("..."))
    }
}
