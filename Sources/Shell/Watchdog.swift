#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Enforces a timeout on one run: SIGTERM to every registered process group, SIGKILL to what survives the grace.
///
/// Groups rather than pids, so `sh -c`, `ssh` and their descendants go down together.
final class Watchdog: Sendable {
    let timeout: Duration?
    let grace: Duration

    private struct State {
        var groups: [pid_t] = []
        var fired = false
        var killed = false
        var finished = false
    }
    private let state = Mutex(State())

    init(timeout: Duration?, grace: Duration) {
        self.timeout = timeout
        self.grace = grace
    }

    /// Whether the timeout passed and the groups were told to stop.
    var fired: Bool { state.withLock { $0.fired } }

    /// Starts watching a process group (its leader's pid); one that starts after the deadline is stopped at once.
    func register(_ pgid: pid_t) {
        let (fired, killed) = state.withLock { state in
            state.groups.append(pgid)
            return (state.fired, state.killed)
        }
        if killed {
            ProcessGroup.signal(pgid, SIGKILL)
        } else if fired {
            ProcessGroup.signal(pgid, SIGTERM)
        }
    }

    /// Runs `work` under the deadline; when the deadline fired, returns only once the groups are gone.
    func supervise<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        guard let timeout else { return try await work() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.watch(timeout) }
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            // Not fired: the timer is moot. Fired: let it finish killing stragglers (grandchildren that
            // ignore SIGTERM outlive the leader we already reaped).
            if !finish() { group.cancelAll() }
            try await group.waitForAll()
            return try result.get()
        }
    }

    private func finish() -> Bool {
        state.withLock { state in
            state.finished = true
            return state.fired
        }
    }

    private func watch(_ timeout: Duration) async {
        do { try await Task.sleep(for: timeout) } catch { return }
        let groups = state.withLock { state -> [pid_t]? in
            if state.finished { return nil }
            state.fired = true
            return state.groups
        }
        guard let groups else { return }
        for pgid in groups { ProcessGroup.signal(pgid, SIGTERM) }

        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            // Until the run is finished a slow spawn may still register a group (it gets SIGTERM then), so an
            // empty list is no reason to stop waiting.
            let (current, finished) = state.withLock { ($0.groups, $0.finished) }
            if finished && !current.contains(where: ProcessGroup.hasLiveMembers) { return }
            // Cancelled (our caller gave up): stop waiting and kill now.
            do { try await Task.sleep(for: .milliseconds(25)) } catch { break }
        }
        let survivors = state.withLock { state in
            state.killed = true
            return state.groups
        }
        for pgid in survivors { ProcessGroup.signal(pgid, SIGKILL) }
        // SIGKILL is delivered asynchronously: wait (briefly, a process stuck in the kernel may never go) so
        // that when the run returns, nothing it started is still running.
        for _ in 0..<100 where survivors.contains(where: ProcessGroup.hasLiveMembers) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
