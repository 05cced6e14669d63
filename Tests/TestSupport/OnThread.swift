#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking code (`HTTPClient.sendBlocking`, the backup stores) on a thread of its own, as the backup
/// pipeline does, instead of holding one of the test pool's few threads; the result comes back by await.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let job = ThreadJob { continuation.resume(with: Result { try body() }) }
        let context = Unmanaged.passRetained(job).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            if let raw { Unmanaged<ThreadJob>.fromOpaque(raw).takeRetainedValue().run() }
            return nil
        }, context)
        if result != 0 {
            Unmanaged<ThreadJob>.fromOpaque(context).release()
            continuation.resume(throwing: TestSupportError("pthread_create failed: \(result)"))
        }
    }
}

private final class ThreadJob {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
