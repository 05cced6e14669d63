#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport
@testable import Shell

@Suite struct RunnerTests {
    let runner = Runner()

    @Test func captureCollectsStdoutAndStderr() async throws {
        let output = try await runner.capture(Command("sh", "-c", "echo out; echo err >&2"))
        #expect(output.stdoutText == "out")
        #expect(output.stderrText == "err\n")
        #expect(output.termination == .exited(0))
    }

    @Test func disallowedExitThrowsWithQuotedArgvCodeAndStderrTail() async throws {
        let command = Command("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i >&2; done; exit 2")
        let error = try await #require(throws: CommandError.self) { try await runner.capture(command) }
        #expect(error.termination == .exited(2))
        #expect(error.command == "sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i >&2; done; exit 2'")
        #expect(error.stderrTail == (3...12).map { "line\($0)" })
        #expect(error.reason == "exited with 2")
        #expect(error.description.hasSuffix("exited with 2: line12"))
        #expect(!error.timedOut)
        #expect(error.stage == nil)
    }

    @Test func allowedExitCodesAreReturnedNotThrown() async throws {
        let termination = try await runner.run(Command("sh", "-c", "exit 3", allowedExitCodes: [0, 3]))
        #expect(termination == .exited(3))
        await #expect(throws: CommandError.self) { try await runner.run(Command("sh", "-c", "exit 4")) }
    }

    @Test func signalIsAFailure() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.capture(Command("sh", "-c", "kill -USR1 $$"))
        }
        #expect(error.termination == .signaled(SIGUSR1))
        #expect(error.reason == "killed by SIGUSR1")
    }

    @Test func missingExecutableSaysSo() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.run(Command("opskit-no-such-program-\(getpid())", "x"))
        }
        #expect(error.termination == nil)
        #expect(error.reason.contains("not found in PATH"))
        let byPath = try await #require(throws: CommandError.self) {
            try await runner.capture(Command("/nonexistent/prog"))
        }
        #expect(byPath.termination == nil)
        #expect(byPath.description.contains("/nonexistent/prog"))
    }

    @Test func secretsInArgvAreRedactedInErrors() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.capture(Command("sh", "-c", "echo password=hunter2 >&2; exit 1", "PASSWORD=hunter2"))
        }
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("***"))
    }

    @Test func environmentChangesApplyOnTopOfInherited() async throws {
        setenv("OPSKIT_TEST_INHERITED", "kept", 1)
        setenv("OPSKIT_TEST_UNSET_ME", "present", 1)
        let command = Command(
            "sh", "-c", "echo \"$OPSKIT_TEST_INHERITED/$OPSKIT_TEST_NEW/${OPSKIT_TEST_UNSET_ME-unset}/$PATH\"",
            environment: ["OPSKIT_TEST_NEW": "new value", "OPSKIT_TEST_UNSET_ME": nil])
        let output = try await runner.capture(command)
        let fields = output.stdoutText.split(separator: "/", maxSplits: 3).map(String.init)
        #expect(fields[0] == "kept")
        #expect(fields[1] == "new value")
        #expect(fields[2] == "unset")
        #expect(fields[3].isEmpty == false)  // PATH is inherited, not replaced
    }

    @Test func workingDirectoryIsUsed() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let output = try await runner.capture(Command("pwd", workingDirectory: dir.path))
        #expect(output.stdoutText == dir.path)
        let error = try await #require(throws: CommandError.self) {
            try await runner.capture(Command("pwd", workingDirectory: dir.file("missing")))
        }
        #expect(error.termination == nil)
        #expect(error.reason.contains("missing"))
    }

    /// 2 MiB on both stdout and stderr: a reader that drains one after the other would deadlock here.
    @Test func bigStdoutAndStderrDoNotDeadlock() async throws {
        let script = "head -c 2097152 /dev/zero | tr '\\0' e >&2 & head -c 2097152 /dev/zero | tr '\\0' o; wait"
        let output = try await runner.capture(Command("sh", "-c", script, timeout: .seconds(60)))
        #expect(output.stdout.count == 2 << 20)
        #expect(output.stderr.count == 2 << 20)
        #expect(output.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
    }

    /// Many MiB of stderr are drained to the end (the process is not blocked) but only a tail is kept.
    @Test func hugeStderrKeepsOnlyTheTail() async throws {
        let script = "i=0; while [ $i -lt 200000 ]; do echo \"noise $i\"; i=$((i+1)); done >&2; echo last words >&2; exit 5"
        let error = try await #require(throws: CommandError.self) {
            try await runner.lines(Command("sh", "-c", script, timeout: .seconds(120))) { _ in }
        }
        #expect(error.termination == .exited(5))
        #expect(error.stderrTail.count == 10)
        #expect(error.stderrTail.last == "last words")
        #expect(error.stderrTail.first == "noise 199991")
    }

    @Test func captureOverLimitThrowsInsteadOfTruncating() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await runner.capture(Command("yes"), limit: 1 << 16)
        }
        #expect(error.outputLimitExceeded)
        #expect(error.reason.contains("64 KiB"))
        let fits = try await runner.capture(Command("head", "-c", "65536", "/dev/zero"), limit: 1 << 16)
        #expect(fits.stdout.count == 1 << 16)
    }

    @Test func linesArriveWhileTheProcessRuns() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let marker = dir.file("finished")
        let ack = dir.file("ack")
        let seen = Mutex<[(line: String, finishedYet: Bool)]>([])
        // The process cannot go on until the test has seen its first line: proof that lines arrive while it
        // runs, however slow the machine (fixed sleeps failed when the whole test run stalled for 15 s).
        let script = "echo one; while [ ! -e '\(ack)' ]; do sleep 0.05; done; echo two; printf three; touch '\(marker)'"
        try await runner.lines(Command("sh", "-c", script, timeout: .seconds(120))) { line in
            let finished = access(marker, F_OK) == 0
            seen.withLock { $0.append((line, finished)) }
            if line == "one" { try "".write(toFile: ack) }
        }
        let lines = seen.withLock { $0 }
        #expect(lines.map(\.line) == ["one", "two", "three"])
        #expect(lines.first?.finishedYet == false)
    }

    @Test func linesCallbackErrorStopsTheProcess() async throws {
        struct Enough: Error {}
        let start = ContinuousClock.now
        await #expect(throws: Enough.self) {
            try await runner.lines(Command("sh", "-c", "echo a; sleep 100")) { _ in throw Enough() }
        }
        #expect(ContinuousClock.now - start < .seconds(50))
    }

    @Test func runInheritsStdoutAndReturnsTermination() async throws {
        #expect(try await runner.run(Command("true")) == .exited(0))
    }
}
