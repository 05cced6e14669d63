import Testing
@testable import Deploy

@Suite struct SwarmServiceTests {
    @Test func readsTheInspectLine() throws {
        let state = try #require(SwarmService.State(line:
            "registry.example.com/demo:v3@sha256:abc\trollback_completed\t2026-12-03 11:50:48 +0000 UTC\trollback completed"))
        #expect(state.image == "registry.example.com/demo:v3" && state.reference.hasSuffix("@sha256:abc"))
        #expect(state.update == "rollback_completed" && state.updateFailed && !state.inFlight)
        #expect(state.message == "rollback completed")

        let fresh = try #require(SwarmService.State(line: "demo:v1"))
        #expect(fresh.update == nil && fresh.startedAt == nil && !fresh.updateFailed)
        #expect(SwarmService.State(line: "") == nil)
        #expect(try #require(SwarmService.State(line: "demo:v2\tpaused\tt\tupdate paused")).updateFailed)
        #expect(try #require(SwarmService.State(line: "demo:v2\tupdating\tt\t")).inFlight)
    }

    @Test func takesSwarmsOwnWordsForARollback() throws {
        let state = try #require(SwarmService.State(line: "demo:v2\trollback_completed\tt\trollback completed"))
        let output = """
            overall progress: 0 out of 1 tasks
            rollback: update rolled back due to failure or early termination of task abc
            verify: Service demo_app converged
            """
        #expect(SwarmService.rollbackReason(output: output, state: state)
                == "update rolled back due to failure or early termination of task abc")
        #expect(SwarmService.rollbackReason(output: "rollback: \n", state: state) == "rollback completed")
    }

    @Test func goDurationsAreAtLeastASecond() {
        #expect(SwarmService.goDuration(.seconds(30)) == "30000ms")
        #expect(SwarmService.goDuration(.milliseconds(2500)) == "2500ms")
        #expect(SwarmService.goDuration(.zero) == "1000ms")
    }
}
