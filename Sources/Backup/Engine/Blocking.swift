#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (the archive pipeline, process I/O) on a thread of its own and awaits it, so Swift
/// concurrency's pool (two threads on a two-core VPS) is never held by a multi-minute backup.
enum Blocking {
    private final class Job: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job { continuation.resume(with: Result { try work() }) }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            pthread_attr_setstacksize(&attributes, 8 << 20)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let result = pthread_create(&thread, &attributes, { raw in
                if let raw { Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().run() }
                return nil
            }, context)
            if result != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                continuation.resume(throwing: ThreadStartFailure(code: result))
            }
        }
    }

    struct ThreadStartFailure: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "could not start a thread: \(String(cString: strerror(code)))" }
    }
}
