import Testing
@testable import Shell

@Suite struct CommandTests {
    @Test func descriptionQuotesAndRedacts() {
        let command = Command("curl", "-H", "it's here", "--token=hunter2", "API_KEY=abc")
        #expect(command.description == "curl -H 'it'\\''s here' --token=*** API_KEY=***")
    }

    @Test func defaults() {
        let command = Command("true")
        #expect(command.allowedExitCodes == [0])
        #expect(command.timeout == nil)
        #expect(command.killGrace == .seconds(5))
        #expect(command.environment.isEmpty)
        #expect(Command(argv: ["a", "b"]).argv == ["a", "b"])
    }

    @Test func terminationDescriptions() {
        #expect(Termination.exited(2).description == "exited with 2")
        #expect(Termination.signaled(9).description == "killed by SIGKILL")
        #expect(Termination.signaled(15).description == "killed by SIGTERM")
        #expect(Termination.signaled(99).description == "killed by signal 99")
    }

    @Test func errorDescriptionIsOneLineWithLastStderrLine() {
        let error = CommandError(
            command: "grep -q x", termination: .exited(2), stderrTail: ["first", "grep: oops\r", ""],
            reason: "exited with 2")
        #expect(error.description == "`grep -q x` exited with 2: grep: oops")
        let staged = CommandError(command: "false", termination: .exited(1), stage: 0, reason: "exited with 1")
        #expect(staged.description == "pipeline stage 0 `false` exited with 1")
    }

    @Test func durationsPrintShort() {
        #expect(Duration.seconds(5).shortDescription == "5s")
        #expect(Duration.milliseconds(500).shortDescription == "0.5s")
        #expect(Duration.milliseconds(1250).shortDescription == "1.25s")
    }

    @Test func stdoutTextTrimsOneTrailingNewline() {
        let output = CapturedOutput(stdout: Array("a\nb\n\n".utf8), stderr: [], termination: .exited(0))
        #expect(output.stdoutText == "a\nb\n")
        #expect(CapturedOutput(stdout: Array("x\r\n".utf8), stderr: [], termination: .exited(0)).stdoutText == "x")
    }

    @Test func outputTailKeepsLastLinesOfHugeStreams() {
        var tail = OutputTail(capacity: 100)
        for i in 0..<10_000 {
            Array("line \(i)\n".utf8).withUnsafeBytes { tail.append($0) }
        }
        #expect(tail.bytes.count <= 100)
        #expect(tail.lastLines(3) == ["line 9997", "line 9998", "line 9999"])
        var roomy = OutputTail(capacity: 1000)
        for i in 0..<10_000 {
            Array("line \(i)\n".utf8).withUnsafeBytes { roomy.append($0) }
        }
        #expect(roomy.lastLines() == (9990..<10_000).map { "line \($0)" })
    }

    @Test func lineSplitterHoldsBackPartialLines() {
        var splitter = LineSplitter()
        #expect(Array("a\r\nb".utf8).withUnsafeBytes { splitter.feed($0) } == ["a"])
        #expect(Array("c\n\nd".utf8).withUnsafeBytes { splitter.feed($0) } == ["bc", ""])
        #expect(splitter.finish() == "d")
        #expect(splitter.finish() == nil)
    }
}
