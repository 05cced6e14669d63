import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An exclusive lock file that names its holder, so concurrent runs are serialized and a blocked person
/// learns who is in the way.
///
/// Creation is atomic: the holder's JSON is written and fsynced to a temporary file which is then
/// `link(2)`ed to the lock path. `link` fails with EEXIST when the lock exists, and unlike
/// `O_CREAT|O_EXCL` followed by a write, nobody can ever see a half-written lock file.
///
/// A lock is taken over only when provably stale: recorded on this host and `kill(pid, 0)` reports ESRCH.
/// A live pid, a pid we are not allowed to signal, another host, or an unreadable file are respected.
///
/// Takeover is race-safe: it runs under an exclusive `flock(2)` on the lock's directory, re-reads the lock
/// file and replaces it (`rename` of our temporary file) only if it still holds the exact bytes judged
/// stale. Two processes taking over the same stale lock are thus serialized; the second one re-reads,
/// finds the first one's live lock, and backs off. Plain acquisition needs no flock because `link` cannot
/// overwrite; release uses the same flock so it never removes a lock that is no longer ours. The directory
/// is locked rather than a side file so no extra file is left behind.
public final class FileLock: Sendable {
    public let path: String
    public let holder: LockHolder
    /// The dead run whose stale lock this one replaced, so the caller can say so; nil for a free lock.
    public let takenOverFrom: LockHolder?
    private let content: [UInt8]
    private let released = Mutex(false)

    private init(path: String, holder: LockHolder, content: [UInt8], takenOverFrom: LockHolder?) {
        self.path = path
        self.holder = holder
        self.content = content
        self.takenOverFrom = takenOverFrom
    }

    /// Takes the lock at `path`, waiting up to `wait` for a live holder to release it.
    ///
    /// - Parameters:
    ///   - path: The lock file; its directory must exist.
    ///   - command: What this run does, shown to whoever finds the lock held (e.g. `"deploy production"`).
    ///   - wait: How long to keep polling a held lock; `.zero` fails at once.
    ///   - pollInterval: How often to look again while waiting.
    /// - Throws: ``LockError/held(by:path:waited:)`` naming the holder, ``LockError/unreadable(path:reason:waited:)``,
    ///   ``LockError/io(_:)``, or `CancellationError` when the task is cancelled while waiting.
    public static func acquire(
        at path: String,
        command: String,
        wait: Duration = .zero,
        pollInterval: Duration = .milliseconds(100)
    ) async throws -> FileLock {
        let holder = LockHolder.current(command: command)
        let content: [UInt8]
        do { content = try holder.encoded() } catch { throw LockError.io("cannot encode lock holder for \(path): \(error)") }
        let tempPath: String
        do {
            tempPath = try AtomicFile.writeTemporary(content, nextTo: path, permissions: 0o644)
        } catch {
            throw LockError.io("cannot create lock \(path): \(error)")
        }
        defer { unlink(tempPath) }

        let clock = ContinuousClock()
        let start = clock.now
        while true {
            let state = try attempt(path: path, tempPath: tempPath)
            let waited = clock.now - start
            switch state {
            case .acquired(let stale):
                return FileLock(path: path, holder: holder, content: content, takenOverFrom: stale)
            case .held(let other) where waited >= wait:
                throw LockError.held(by: other, path: path, waited: waited)
            case .unreadable(let reason) where waited >= wait:
                throw LockError.unreadable(path: path, reason: reason, waited: waited)
            case .held, .unreadable:
                try await Task.sleep(for: min(max(pollInterval, .milliseconds(1)), wait - waited))
            }
        }
    }

    /// Removes the lock file if it is still ours; calling it again does nothing.
    ///
    /// - Throws: ``LockError/io(_:)`` when the file cannot be removed, or now names another holder (it is
    ///   then left in place, because it is not ours to delete).
    public func release() throws {
        try released.withLock { done in
            guard !done else { return }
            try Self.withDirectoryLock(for: path) {
                switch Self.readLock(path) {
                case .missing:
                    break  // someone removed it by hand; the goal is reached
                case .bytes(let bytes) where bytes == content:
                    guard unlink(path) == 0 || errno == ENOENT else {
                        throw LockError.io("cannot remove lock \(path): \(errnoText(errno))")
                    }
                    AtomicFile.syncDirectoryQuietly(directoryName(of: path))
                case .bytes, .failed:
                    throw LockError.io("lock \(path) no longer names this run (\(holder)); left it in place")
                }
            }
            done = true
        }
    }

    // MARK: - One attempt

    enum AttemptState {
        /// Taken; the stale holder it replaced, if any.
        case acquired(replacing: LockHolder?)
        case held(LockHolder)
        case unreadable(String)
    }

    /// Tries once (a few times on races with a release) to take the lock; never sleeps.
    static func attempt(path: String, tempPath: String) throws -> AttemptState {
        for _ in 0..<10 {
            if link(tempPath, path) == 0 {
                AtomicFile.syncDirectoryQuietly(directoryName(of: path))
                return .acquired(replacing: nil)
            }
            guard errno == EEXIST else { throw LockError.io("cannot create lock \(path): \(errnoText(errno))") }

            let seen: [UInt8]
            switch readLock(path) {
            case .missing: continue  // released between our link and our read: try again at once
            case .failed(let reason): return .unreadable(reason)
            case .bytes(let bytes): seen = bytes
            }
            let other: LockHolder
            do { other = try LockHolder.decode(seen) } catch { return .unreadable(seen.isEmpty ? "the file is empty" : "not a lock holder record: \(error)") }
            guard isProvablyStale(other) else { return .held(other) }

            let replaced = try withDirectoryLock(for: path) { () throws -> Bool in
                // Re-check under the lock: another process may have taken over or released meanwhile.
                guard case .bytes(let now) = readLock(path), now == seen else { return false }
                guard rename(tempPath, path) == 0 else {
                    throw LockError.io("cannot take over stale lock \(path): \(errnoText(errno))")
                }
                AtomicFile.syncDirectoryQuietly(directoryName(of: path))
                return true
            }
            if replaced { return .acquired(replacing: other) }
        }
        throw LockError.io("lock \(path) keeps changing under us; is something creating and removing it in a loop?")
    }

    /// Same host and no such process. EPERM means the process exists (owned by someone else), so it is live.
    static func isProvablyStale(_ holder: LockHolder) -> Bool {
        guard holder.pid > 0, holder.host == LockHolder.hostName() else { return false }
        return kill(holder.pid, 0) == -1 && errno == ESRCH
    }

    // MARK: - Files

    enum ReadResult {
        case missing
        case bytes([UInt8])
        case failed(String)
    }

    /// Reads the whole lock file; lock files are tiny, so 64 KiB is plenty and bounds a corrupt one.
    static func readLock(_ path: String) -> ReadResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return errno == ENOENT ? .missing : .failed("cannot open it: \(errnoText(errno))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed("cannot read it: \(errnoText(errno))")
            }
            bytes += chunk[..<n]
        }
        return .bytes(bytes)
    }

    /// Runs `body` holding an exclusive flock on the lock's directory; see the type's documentation for why.
    static func withDirectoryLock<R>(for path: String, _ body: () throws -> R) throws -> R {
        let directory = directoryName(of: path)
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw LockError.io("cannot open \(directory) to lock it: \(errnoText(errno))") }
        defer { close(dfd) }  // closing releases the flock
        while flock(dfd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw LockError.io("cannot flock \(directory): \(errnoText(errno))") }
        }
        return try body()
    }
}
