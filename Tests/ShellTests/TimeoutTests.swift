#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Shell

@Suite struct TimeoutTests {
    let runner = Runner()

    /// Dead means gone, or a zombie: where PID 1 does not reap orphans (containers) a killed grandchild stays
    /// a zombie, which holds no resources and runs no code.
    static func isDead(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        return ProcessGroup.statusOf(pid)?.state == "Z"
    }

    static func readPids(_ path: String) throws -> [pid_t] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TestSupportError("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).split(separator: "\n").compactMap {
            pid_t($0)
        }
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let pids = dir.file("pids")
        let script = "sleep 100 & echo $! >> '\(pids)'; sleep 100 & echo $! >> '\(pids)'; wait"
        let start = ContinuousClock.now
        let error = try await #require(throws: CommandError.self) {
            // 2 s, not less: on a loaded machine sh must get to write the pid file before the deadline.
            // A long grace: when the whole test run stalls, SIGKILL must not overtake the SIGTERM under test.
            var command = Command("sh", "-c", script, timeout: .seconds(2))
            command.killGrace = .seconds(30)
            return try await runner.run(command)
        }
        #expect(ContinuousClock.now - start < .seconds(50))  // well before the 100 s sleeps
        #expect(error.timedOut)
        #expect(error.termination == .signaled(SIGTERM))
        #expect(error.description.contains("timed out after 2s"))
        let grandchildren = try Self.readPids(pids)
        #expect(grandchildren.count == 2)
        for pid in grandchildren { #expect(Self.isDead(pid), "grandchild \(pid) survived the timeout") }
    }

    @Test func childIgnoringSigtermIsKilledAfterGrace() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let pids = dir.file("pids")
        // The ignored disposition survives exec, so the grandchild `sleep` ignores SIGTERM too.
        var command = Command(
            "sh", "-c", "trap '' TERM; sleep 100 & echo $! > '\(pids)'; wait", timeout: .seconds(2))
        command.killGrace = .milliseconds(700)
        let start = ContinuousClock.now
        let error = try await #require(throws: CommandError.self) { try await runner.capture(command) }
        let elapsed = ContinuousClock.now - start
        #expect(error.timedOut)
        #expect(error.termination == .signaled(SIGKILL))
        #expect(error.reason == "timed out after 2s; killed by SIGKILL after 0.7s grace")
        #expect(elapsed >= .milliseconds(2600))  // it did get its grace
        #expect(elapsed < .seconds(50))
        for pid in try Self.readPids(pids) { #expect(Self.isDead(pid)) }
    }

    /// The leader exits on SIGTERM but its child ignores it: the child must not outlive the run.
    @Test func grandchildIgnoringSigtermDoesNotOutliveTheLeader() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let pids = dir.file("pids")
        var command = Command(
            "sh", "-c", "(trap '' TERM; exec sleep 100) & echo $! > '\(pids)'; wait", timeout: .seconds(2))
        command.killGrace = .milliseconds(500)
        let error = try await #require(throws: CommandError.self) { try await runner.lines(command) { _ in } }
        #expect(error.timedOut)
        let grandchildren = try Self.readPids(pids)
        #expect(grandchildren.count == 1)
        for pid in grandchildren { #expect(Self.isDead(pid), "grandchild \(pid) outlived the run") }
    }

    /// Regression: on a loaded machine the deadline can pass before the spawn registers its group; the
    /// escalation used to see no groups, stop early, and leave a SIGTERM-ignoring child running.
    @Test func deadlineBeforeSpawnStillEscalatesToSigkill() async throws {
        let watchdog = Watchdog(timeout: .milliseconds(20), grace: .milliseconds(300))
        let start = ContinuousClock.now
        let launched = try await watchdog.supervise {
            try await Task.sleep(for: .milliseconds(150))  // a slow spawn
            return try await Launcher.launch(
                Command("sh", "-c", "trap '' TERM; sleep 100"), input: .none, output: .sequence,
                watchdog: watchdog, stderrCapacity: 1024
            ) { execution in
                for try await _ in execution.standardOutput {}
            }
        }
        #expect(watchdog.fired)
        // SIGTERM at registration may land before the trap is set; either way it must not run on.
        #expect([.signaled(SIGKILL), .signaled(SIGTERM)].contains(launched.termination))
        #expect(ContinuousClock.now - start < .seconds(50))
    }

    @Test func finishingInTimeIsNotATimeout() async throws {
        let output = try await runner.capture(Command("echo", "quick", timeout: .seconds(30)))
        #expect(output.stdoutText == "quick")
    }

    @Test func cancellingTheCallerTearsDownTheGroup() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let pids = dir.file("pids")
        var command = Command("sh", "-c", "sleep 100 & echo $! > '\(pids)'; wait")
        command.killGrace = .milliseconds(500)
        let task = Task { try await runner.capture(command) }
        // Wait until the grandchild exists, then give up on the run.
        for _ in 0..<200 where (try? Self.readPids(pids))?.isEmpty ?? true {
            try await Task.sleep(for: .milliseconds(25))
        }
        task.cancel()
        _ = try? await task.value
        let grandchildren = try Self.readPids(pids)
        #expect(grandchildren.count == 1)
        try await Task.sleep(for: .milliseconds(200))
        for pid in grandchildren { #expect(Self.isDead(pid)) }
    }
}
