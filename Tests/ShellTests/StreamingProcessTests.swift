#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Shell

@Suite struct StreamingProcessTests {
    /// Reads stdout to its end, chunk by chunk, as the backup pipeline does.
    private func readAll(_ process: StreamingProcess) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try process.readStdout(into: $0) }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }

    @Test func streamsStdoutLargerThanAPipe() throws {
        let process = try StreamingProcess.spawn(Command("head", "-c", "3000000", "/dev/zero"))
        let bytes = try readAll(process)
        #expect(try process.wait() == .exited(0))
        #expect(bytes.count == 3_000_000)
        #expect(bytes.allSatisfy { $0 == 0 })
    }

    @Test func feedsStdinAndCapturesStdoutAtTheSameTime() throws {
        // cat echoes 2 MB back: without stdout drained concurrently both sides would block on full pipes.
        let process = try StreamingProcess.spawn(Command("cat"), stdin: .pipe, stdout: .capture(limit: 4 << 20))
        let chunk = [UInt8]((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        for _ in 0..<32 { #expect(try chunk.withUnsafeBytes { try process.writeStdin($0) }) }
        process.closeStdin()
        try process.wait()
        #expect(process.capturedStdout.count == 32 * 65536)
        #expect(Array(process.capturedStdout.suffix(65536)) == chunk)
    }

    @Test func captureLimitKillsTheChildAndThrows() throws {
        let process = try StreamingProcess.spawn(Command("cat", "/dev/zero"), stdout: .capture(limit: 1 << 20))
        let error = try #require(throws: CommandError.self) { try process.wait() }
        #expect(error.outputLimitExceeded)
        #expect(error.termination == .signaled(SIGKILL))
    }

    @Test func muchStderrNeverBlocksTheChild() throws {
        let process = try StreamingProcess.spawn(
            Command("sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo last words >&2; echo done"))
        #expect(String(decoding: try readAll(process), as: UTF8.self) == "done\n")
        try process.wait()
        #expect(process.stderrLines(1) == ["last words"])
    }

    @Test func failureCarriesTheLastStderrLinesMasked() throws {
        let process = try StreamingProcess.spawn(
            Command("sh", "-c", "echo 'connect postgres://u:hunter2@db/x failed' >&2; exit 3"))
        _ = try readAll(process)
        let error = try #require(throws: CommandError.self) { try process.wait() }
        #expect(error.termination == .exited(3))
        #expect(error.stderrTail == ["connect postgres://u:***@db/x failed"])
        #expect(!error.description.contains("hunter2"))
        // A second wait reports the same thing without waiting again.
        #expect(throws: CommandError.self) { try process.wait() }
    }

    @Test func environmentChangesReachTheChildAndNotArgv() throws {
        setenv("OPSKIT_STREAMING_UNSET", "present", 1)
        defer { unsetenv("OPSKIT_STREAMING_UNSET") }
        let process = try StreamingProcess.spawn(
            Command("sh", "-c", "echo \"$PGPASSWORD/${OPSKIT_STREAMING_UNSET:-gone}\"",
                    environment: ["PGPASSWORD": "s3cret", "OPSKIT_STREAMING_UNSET": nil]))
        #expect(String(decoding: try readAll(process), as: UTF8.self) == "s3cret/gone\n")
        try process.wait()
        #expect(!process.command.description.contains("s3cret"))
    }

    @Test func workingDirectoryIsApplied() throws {
        let process = try StreamingProcess.spawn(Command("pwd", workingDirectory: "/usr/bin"))
        #expect(String(decoding: try readAll(process), as: UTF8.self) == "/usr/bin\n")
        try process.wait()
    }

    @Test func missingProgramIsACommandErrorWithoutTermination() throws {
        let error = try #require(throws: CommandError.self) {
            try StreamingProcess.spawn(Command("opskit-no-such-program-xyz"))
        }
        #expect(error.termination == nil)
        #expect(error.description.contains("not found in PATH"))
    }

    /// The child stopped reading: the write reports it instead of raising SIGPIPE in the test process.
    @Test func writingToAChildThatStoppedReadingReturnsFalse() throws {
        let process = try StreamingProcess.spawn(Command("head", "-c", "10"), stdin: .pipe, stdout: .discard)
        let chunk = [UInt8](repeating: 1, count: 1 << 16)
        var accepted = true
        for _ in 0..<200 where accepted {
            accepted = try chunk.withUnsafeBytes { try process.writeStdin($0) }
        }
        #expect(!accepted)
        #expect(try process.wait() == .exited(0))
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }

    @Test func abandoningAProcessKillsAndReapsItsGroup() throws {
        var process: StreamingProcess? = try StreamingProcess.spawn(
            Command("sh", "-c", "sleep 60 & sleep 60; wait"), stdin: .pipe)
        let pgid = try #require(process?.processID)
        #expect(kill(-pgid, 0) == 0)
        process = nil
        // Reaped by deinit: no such process any more, not even a zombie. The backgrounded sleep was killed
        // with its group; as an orphan it may linger as a zombie until init reaps it, but it is not running.
        #expect(kill(pgid, 0) == -1 && errno == ESRCH)
        // SIGKILL reaches the other member asynchronously: give it a moment to die.
        for _ in 0..<100 where ProcessGroup.hasLiveMembers(pgid) { usleep(10_000) }
        #expect(!ProcessGroup.hasLiveMembers(pgid))
    }

    @Test func killStopsAProcessThatIsBeingRead() throws {
        let process = try StreamingProcess.spawn(Command("cat", "/dev/zero"))
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(try buffer.withUnsafeMutableBytes { try process.readStdout(into: $0) } > 0)
        process.kill()
        let error = try #require(throws: CommandError.self) { try process.wait() }
        #expect(error.termination == .signaled(SIGKILL))
    }
}
