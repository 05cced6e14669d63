#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Subprocess
import Testing
import TestSupport
@testable import Shell

private func writeLock(_ holder: LockHolder, at path: String) throws {
    try AtomicFile.write(try holder.encoded(), to: path)
}

private func holder(pid: Int32, host: String = LockHolder.hostName(), command: String = "deploy production") -> LockHolder {
    LockHolder(pid: pid, host: host, user: "deploy", command: command, startedAt: Date(timeIntervalSince1970: 1_777_636_800))
}

/// The pid of a process that has exited and been reaped, so no process has it (barring instant reuse).
private func deadPid() async throws -> Int32 {
    let result = try await Subprocess.run(.path("/bin/true"), output: .discarded)
    let pid = result.processIdentifier.value
    #expect(kill(pid, 0) == -1 && errno == ESRCH, "pid \(pid) should be gone")
    return pid
}

@Suite struct LockTests {
    @Test func acquireAndRelease() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let lock = try await FileLock.acquire(at: path, command: "deploy production")
        let recorded = try LockHolder.decode(Array(try #require(Files.read(path)).utf8))
        #expect(recorded == lock.holder)
        #expect(lock.takenOverFrom == nil)
        #expect(recorded.pid == getpid())
        #expect(recorded.host == LockHolder.hostName())
        #expect(recorded.command == "deploy production")
        #expect(abs(recorded.startedAt.timeIntervalSinceNow) < 60)
        try lock.release()
        #expect(Files.entries(dir.path).isEmpty, "lock and temporary files are gone")
        try lock.release()  // idempotent
        let again = try await FileLock.acquire(at: path, command: "deploy staging")
        try again.release()
    }

    @Test func secondAcquireWhileHeldNamesTheHolder() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let lock = try await FileLock.acquire(at: path, command: "deploy production")
        defer { try? lock.release() }
        let error = await #expect(throws: LockError.self) {
            try await FileLock.acquire(at: path, command: "rollback production")
        }
        guard case .held(let by, let errorPath, _) = error else { Issue.record("expected .held, got \(String(describing: error))"); return }
        #expect(by == lock.holder)
        #expect(errorPath == path)
        let message = try #require(error?.description)
        #expect(message.contains("pid \(getpid())"))
        #expect(message.contains("(deploy production)"))
        #expect(message.contains("on \(LockHolder.hostName())"))
        #expect(message.contains(path))
        #expect(!message.contains("\n"))
        #expect(Files.entries(dir.path) == ["deploy.lock"], "the failed attempt left no temporary file")
    }

    @Test func staleLockOfDeadProcessOnThisHostIsTakenOver() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let dead = holder(pid: try await deadPid())
        try writeLock(dead, at: path)
        let lock = try await FileLock.acquire(at: path, command: "deploy production")
        #expect(try LockHolder.decode(Array(try #require(Files.read(path)).utf8)) == lock.holder)
        #expect(lock.takenOverFrom == dead, "the caller must learn whose lock it replaced, to warn about it")
        try lock.release()
        #expect(Files.entries(dir.path).isEmpty)
    }

    @Test(arguments: [getpid(), 1] as [Int32])
    func liveLockIsRespected(pid: Int32) async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let live = holder(pid: pid)
        try writeLock(live, at: path)
        await #expect(throws: LockError.self) { try await FileLock.acquire(at: path, command: "x") }
        #expect(try LockHolder.decode(Array(try #require(Files.read(path)).utf8)) == live, "lock file untouched")
    }

    @Test func lockOfARunningChildIsRespected() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let config = Configuration(executable: .path("/bin/sleep"), arguments: ["30"])
        _ = try await Subprocess.run(config, input: .none, output: .discarded, error: .discarded) { execution in
            defer { try? execution.send(signal: .kill) }
            try writeLock(holder(pid: execution.processIdentifier.value), at: path)
            let error = await #expect(throws: LockError.self) { try await FileLock.acquire(at: path, command: "x") }
            guard case .held(let by, _, _) = error else { Issue.record("expected .held, got \(String(describing: error))"); return }
            #expect(by.pid == execution.processIdentifier.value)
        }
    }

    @Test func lockFromAnotherHostIsRespectedEvenWithDeadPid() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let remote = holder(pid: try await deadPid(), host: "elsewhere.invalid")
        try writeLock(remote, at: path)
        let error = await #expect(throws: LockError.self) { try await FileLock.acquire(at: path, command: "x") }
        let message = error?.description ?? ""
        #expect(message.contains("on elsewhere.invalid"))
        #expect(message.contains("another host"))
        #expect(try LockHolder.decode(Array(try #require(Files.read(path)).utf8)) == remote)
    }

    @Test(arguments: ["garbage", "", "{\"pid\": 12}"])
    func corruptLockIsHeldAndNeverDeleted(content: String) async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        try AtomicFile.write(content, to: path)
        let error = await #expect(throws: LockError.self) { try await FileLock.acquire(at: path, command: "x") }
        guard case .unreadable = error else { Issue.record("expected .unreadable, got \(String(describing: error))"); return }
        #expect(error?.description.contains("remove it by hand") == true)
        #expect(Files.read(path) == content)
        #expect(Files.entries(dir.path) == ["deploy.lock"])
    }

    @Test func waitsForARelease() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let first = try await FileLock.acquire(at: path, command: "first")
        let releaser = Task {
            try await Task.sleep(for: .milliseconds(300))
            try first.release()
        }
        let start = ContinuousClock.now
        let second = try await FileLock.acquire(at: path, command: "second", wait: .seconds(5), pollInterval: .milliseconds(20))
        let waited = ContinuousClock.now - start
        try await releaser.value
        #expect(waited >= .milliseconds(250) && waited < .seconds(30), "waited \(waited)")  // an upper bound only against hanging
        #expect(second.holder.command == "second")
        try second.release()
    }

    @Test func givesUpAfterTheWait() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let first = try await FileLock.acquire(at: path, command: "first")
        defer { try? first.release() }
        let error = await #expect(throws: LockError.self) {
            try await FileLock.acquire(at: path, command: "second", wait: .milliseconds(300), pollInterval: .milliseconds(50))
        }
        guard case .held(_, _, let waited) = error else { Issue.record("expected .held"); return }
        #expect(waited >= .milliseconds(300) && waited < .seconds(30))  // an upper bound only against hanging
        #expect(error?.description.contains("waited") == true)
    }

    /// Many concurrent takeovers of one stale lock: exactly one wins, the rest see the winner as holder.
    @Test func concurrentTakeoverHasOneWinner() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        try writeLock(holder(pid: try await deadPid()), at: path)
        let outcomes = await withTaskGroup(of: Result<FileLock, any Error>.self) { group in
            for i in 0..<16 {
                group.addTask {
                    do { return .success(try await FileLock.acquire(at: path, command: "racer \(i)")) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        for case .failure(let error) in outcomes {
            guard case LockError.held(let by, _, _)? = error as? LockError else { Issue.record("unexpected \(error)"); continue }
            #expect(by == winners.first?.holder)
        }
        let onDisk = try LockHolder.decode(Array(try #require(Files.read(path)).utf8))
        #expect(onDisk == winners.first?.holder)
        try winners.first?.release()
        #expect(Files.entries(dir.path).isEmpty)
    }

    @Test func releaseLeavesALockThatIsNoLongerOurs() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let path = dir.file("deploy.lock")
        let lock = try await FileLock.acquire(at: path, command: "mine")
        let other = holder(pid: 1, command: "someone else")
        try writeLock(other, at: path)
        #expect(throws: LockError.self) { try lock.release() }
        #expect(try LockHolder.decode(Array(try #require(Files.read(path)).utf8)) == other)
    }

    @Test func holderRoundTripsAndDescribesItself() throws {
        let h = holder(pid: 123)
        #expect(try LockHolder.decode(try h.encoded()) == h)
        #expect(h.description == "pid 123 (deploy production) on \(LockHolder.hostName()) by deploy since 2026-05-01T12:00:00Z")
        let current = LockHolder.current(command: "c")
        #expect(try LockHolder.decode(try current.encoded()) == current)
    }

    @Test func missingDirectoryIsAnIOError() async throws {
        let dir = try TempDirectory(prefix: "lock")
        defer { dir.remove() }
        let error = await #expect(throws: LockError.self) { try await FileLock.acquire(at: dir.file("no/such.lock"), command: "x") }
        guard case .io(let message) = error else { Issue.record("expected .io"); return }
        #expect(message.contains("does not exist"))
    }
}
