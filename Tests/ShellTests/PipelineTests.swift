#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Shell

@Suite struct PipelineTests {
    let runner = Runner()

    @Test func stagesAreWiredInOrder() async throws {
        let output = try await runner.pipeline([
            Command("printf", "a\\nb\\n"), Command("grep", "b"), Command("wc", "-l"),
        ])
        #expect(output.stdoutText.trimmingSpaces == "1")
        #expect(output.termination == .exited(0))
    }

    @Test func singleStageIsJustACapture() async throws {
        #expect(try await runner.pipeline([Command("echo", "solo")]).stdoutText == "solo")
    }

    @Test func firstFailingStageIsNamed() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([Command("false"), Command("cat")])
        }
        #expect(error.stage == 0)
        #expect(error.command == "false")
        #expect(error.termination == .exited(1))
        #expect(error.pipeline == "false | cat")
        #expect(error.description.hasPrefix("pipeline stage 0 `false` exited with 1"))
    }

    @Test func pipefailSeesAMiddleFailureEvenWhenTheLastStageSucceeds() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([
                Command("echo", "x"), Command("sh", "-c", "cat; echo broke >&2; exit 7"), Command("cat"),
            ])
        }
        #expect(error.stage == 1)
        #expect(error.termination == .exited(7))
        #expect(error.stderrTail == ["broke"])
    }

    /// `yes | head -1`: yes dies of SIGPIPE because head stopped reading; that is success, as in a shell.
    @Test func upstreamSigpipeIsNotAFailure() async throws {
        let output = try await runner.pipeline([Command("yes"), Command("head", "-1")])
        #expect(output.stdoutText == "y")
    }

    /// When the reader that went away failed, it is the one named, not the writer it cut off.
    @Test func readerFailureIsNamedOverTheSigpipedWriter() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([Command("yes"), Command("sh", "-c", "read x; exit 4")])
        }
        #expect(error.stage == 1)
        #expect(error.termination == .exited(4))
    }

    @Test func missingStageProgramFailsWithoutHanging() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([Command("yes"), Command("opskit-no-such-stage"), Command("cat")])
        }
        #expect(error.stage == 1)
        #expect(error.termination == nil)
        #expect(error.reason.contains("not found in PATH"))
    }

    @Test func bigDataFlowsThroughAndStderrOfEveryStageIsKept() async throws {
        let output = try await runner.pipeline([
            Command("sh", "-c", "echo one >&2; head -c 3000000 /dev/zero"),
            Command("sh", "-c", "echo two >&2; cat"),
            Command("wc", "-c"),
        ])
        #expect(output.stdoutText.trimmingSpaces == "3000000")
        #expect(output.stderrText == "one\ntwo\n")
    }

    @Test func lastStageOverLimitThrows() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([Command("yes"), Command("cat")], limit: 1000)
        }
        #expect(error.outputLimitExceeded)
        #expect(error.stage == 1)
    }

    @Test func timeoutOnAnyStageStopsTheWholePipeline() async throws {
        let start = ContinuousClock.now
        var slow = Command("sleep", "100")
        slow.killGrace = .seconds(1)
        let error = try await #require(throws: CommandError.self) {
            try await runner.pipeline([slow, Command("cat", timeout: .milliseconds(300))])
        }
        #expect(error.timedOut)
        #expect(error.reason.contains("timed out after 0.3s"))
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func emptyPipelineIsAnError() async throws {
        await #expect(throws: CommandError.self) { try await runner.pipeline([]) }
    }
}

extension String {
    /// `wc` pads its numbers with spaces on some systems.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
