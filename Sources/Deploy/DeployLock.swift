import FoundationEssentials
import Logging
import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// The per-app-per-environment lock, on the machine the app runs on.
///
/// Locally it is Shell's ``FileLock``. On an SSH target the VPS has only `sh`, so the lock file is created
/// with `set -C` (noclobber: O_EXCL) and holds the same holder JSON. Its holder is this machine's deploy
/// process, so staleness is proved here: same host name and a dead pid.
struct DeployLock: Sendable {
    private let local: FileLock?
    private let remote: (target: Target, path: String, content: String)?

    static func acquire(on target: Target, path: String, command: String, wait: Duration, logger: Logger?)
        async throws -> DeployLock
    {
        do {
            return try await take(on: target, path: path, command: command, wait: wait, logger: logger)
        } catch where Task.isCancelled || error is CancellationError {
            // Ctrl-C while waiting for another deploy: nothing was started, and the other run's lock is untouched.
            throw DeployError.precheck("interrupted while waiting for the deploy lock \(path)")
        }
    }

    private static func take(on target: Target, path: String, command: String, wait: Duration, logger: Logger?)
        async throws -> DeployLock
    {
        if target.isLocal {
            let lock: FileLock
            do {
                lock = try await FileLock.acquire(at: path, command: command)
            } catch LockError.held(let other, _, _) where wait > .zero {
                // Say why nothing happens for a while, and who is in the way.
                logger?.notice("waiting up to \(Int(wait.inMilliseconds / 1000)) s for the lock held by \(other)")
                lock = try await FileLock.acquire(at: path, command: command, wait: wait)
            }
            if let stale = lock.takenOverFrom {
                logger?.warning("took over the stale lock of \(stale) (that process is gone)")
            }
            return DeployLock(local: lock, remote: nil)
        }
        let holder = LockHolder.current(command: command)
        // No trailing newline: the release check compares with `$(cat …)`, which strips newlines.
        let content = String(decoding: try JSONCoding.encoder(pretty: false).encode(holder), as: UTF8.self)
        let clock = ContinuousClock()
        let start = clock.now
        var announced = false
        while true {
            let out = try await target.capture(Target.shell(
                #"set -C; { printf '%s' "$2" > "$1"; } 2>/dev/null && exit 0; cat -- "$1" 2>/dev/null; exit 3"#,
                [path, content], allowedExitCodes: [0, 3]))
            if out.termination == .exited(0) {
                return DeployLock(local: nil, remote: (target, path, content))
            }
            let existing = out.stdoutText
            guard let other = try? JSONCoding.decoder().decode(LockHolder.self, from: Data(existing.utf8)) else {
                throw LockError.unreadable(path: "\(target):\(path)", reason: "not a lock file opskit wrote",
                                           waited: clock.now - start)
            }
            if other.host == LockHolder.current(command: "").host, kill(other.pid, 0) != 0, errno == ESRCH {
                logger?.warning("taking over the stale lock of \(other) (that process is gone)")
                try await target.capture(Target.shell(#"[ "$(cat -- "$1" 2>/dev/null)" = "$2" ] && rm -f -- "$1"; exit 0"#,
                                                      [path, existing]))
                continue
            }
            let waited = clock.now - start
            guard waited < wait else { throw LockError.held(by: other, path: "\(target):\(path)", waited: waited) }
            if !announced {
                announced = true
                logger?.notice("waiting up to \(Int(wait.inMilliseconds / 1000)) s for the lock held by \(other)")
            }
            try await Task.sleep(for: min(.milliseconds(500), wait - waited))
        }
    }

    func release() async {
        if let local { try? local.release() }
        if let remote {
            _ = try? await remote.target.capture(Target.shell(
                #"[ "$(cat -- "$1" 2>/dev/null)" = "$2" ] && rm -f -- "$1"; exit 0"#, [remote.path, remote.content]))
        }
    }
}
