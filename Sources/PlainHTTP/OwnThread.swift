#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work on a detached pthread of its own and awaits its result, so a slow request never holds
/// one of the cooperative pool's threads (two on a two-core VPS). A thread costs ~10 µs, nothing next to a
/// network round trip. (The same idea as OpsCore's `OwnThread`, which this module must not import.)
enum DetachedThread {
    private final class Work {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `work` on a new detached thread; the pthread_create error code when the system refused.
    static func start(_ work: @escaping @Sendable () -> Void) -> Int32 {
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            if let raw { Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().run() }
            return nil
        }, context)
        if result != 0 { Unmanaged<Work>.fromOpaque(context).release() }
        return result
    }

    /// Runs `work` on its own thread; `onCancel` runs (on any thread) if the awaiting task is cancelled.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T,
                                 onCancel: @escaping @Sendable () -> Void) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let code = start { continuation.resume(with: Result { try work() }) }
                if code != 0 {
                    continuation.resume(throwing: PlainHTTPError.io(
                        "could not start a thread for the request (\(errorText(code))): the system is out of threads or memory"))
                }
            }
        } onCancel: {
            onCancel()
        }
    }
}

/// A socket pair that one thread polls and another writes to: to wake a waiting request when its task is cancelled,
/// or when a name lookup running on another thread is done. The pair lives until every holder let go, so a
/// late `signal()` never writes to a closed (or reused) descriptor. (A socket pair rather than a pipe: Glibc's
/// Swift module has no pipe2, and the descriptors must be non-blocking and close-on-exec from the start.)
final class Wakeup: Sendable {
    let readFD: Int32
    private let writeFD: Int32

    init() throws(PlainHTTPError) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw .io("could not create a socket pair (\(errorText(errno))): the process is out of file descriptors")
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Makes `readFD` readable from now on.
    func signal() {
        var byte: UInt8 = 1
        _ = send(writeFD, &byte, 1, Int32(MSG_NOSIGNAL))
    }

    var isSignalled: Bool {
        var fd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}

/// `strerror` text for an errno value.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
