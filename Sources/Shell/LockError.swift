/// Why a ``FileLock`` could not be taken.
public enum LockError: Error, CustomStringConvertible {
    /// Another run holds the lock and is alive, or on another host where we cannot check.
    case held(by: LockHolder, path: String, waited: Duration)
    /// A lock file exists but is not a lock we can read; we never delete what we cannot understand.
    case unreadable(path: String, reason: String, waited: Duration)
    /// The lock could not be created, read or removed.
    case io(String)

    public var description: String {
        switch self {
        case .held(let holder, let path, let waited):
            let waitedText = waited > .zero ? " (waited \(formatSeconds(waited)))" : ""
            let advice = holder.host == LockHolder.hostName()
                ? "wait for it to finish or stop it; the lock is taken over automatically once that process is gone"
                : "it runs on another host, so it cannot be checked from here: wait for it, or if it is surely gone, remove \(path)"
            return "\(path) is locked by \(holder)\(waitedText); \(advice)"
        case .unreadable(let path, let reason, let waited):
            let waitedText = waited > .zero ? " (waited \(formatSeconds(waited)))" : ""
            return "lock file \(path) exists but is not readable as a lock (\(reason))\(waitedText); if no opskit run is active, remove it by hand"
        case .io(let message):
            return message
        }
    }
}
