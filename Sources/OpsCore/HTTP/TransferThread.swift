#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Runs blocking work on a thread of its own.
///
/// `curl_easy_perform` blocks for the whole transfer; on Swift's cooperative pool (one thread per core, two
/// here) a few slow health checks would stall every other task. A detached pthread per transfer costs
/// ~10 µs, nothing next to a network round trip.
enum TransferThread {
    private final class Work {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `work` on a new detached thread; false when the system refused to create one.
    static func start(_ work: @escaping @Sendable () -> Void) -> Bool {
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
        if result != 0 {
            Unmanaged<Work>.fromOpaque(context).release()
            return false
        }
        return true
    }
}

/// Set when the awaiting task is cancelled; the transfer thread polls it from curl's progress callback.
final class CancellationFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
}

/// Runs blocking work (curl transfers, the backup pipeline, process I/O) on a thread of its own and awaits
/// its result, so Swift concurrency's pool (two threads on a two-core VPS) is never held for minutes.
public enum OwnThread {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            if !TransferThread.start({ continuation.resume(with: Result { try work() }) }) {
                continuation.resume(throwing: ThreadStartError(code: EAGAIN))
            }
        }
    }
}
