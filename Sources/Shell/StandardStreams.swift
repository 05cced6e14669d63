#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Raw access to the process's standard streams through file descriptors.
///
/// Goes through `write(2)` rather than C `stderr`: that `FILE *` global is not concurrency-safe in Swift 6,
/// and one `write` per line keeps lines from concurrent tasks whole.
public enum StandardStreams {
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Writes all of `text` to `fd`, retrying short writes and EINTR; other errors drop the rest, because
    /// there is nowhere left to report a failure to write to stderr.
    public static func writeAll(_ text: String, to fd: Int32) {
        _ = writeFully(fd, Array(text.utf8))
    }

    /// The value of an environment variable, or nil when unset.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
