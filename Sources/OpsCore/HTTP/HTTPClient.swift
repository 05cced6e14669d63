#if canImport(Glibc)
import Glibc
#endif

/// Sends HTTP requests; safe to share, each transfer runs on a thread of its own. Plain `http://` and
/// Unix-socket requests go through `PlainHTTP` and the rest through libcurl, which is loaded only then
/// (see ``route(for:environment:)``); callers see the same responses and errors either way.
public final class HTTPClient: Sendable {
    /// Which client sends requests; `.automatic` unless a test or an escape hatch says otherwise.
    public let transport: Transport

    public init(transport: Transport = .automatic) {
        self.transport = transport
    }

    /// Loads libcurl and runs its one-time set-up (OpenSSL's config and tables) on a thread of its own, so a
    /// tool can do it while it parses its arguments instead of before its first request. Only worth it when
    /// an https request will follow: `prepare(for:)` decides that from the URLs.
    public static func prepare() {
        Preparation.shared.start { _ = CurlEasy.globalInitCode }
    }

    /// `prepare()` when one of `urls` goes to libcurl (https, or a proxy applies); nothing otherwise.
    public static func prepare(for urls: [String]) {
        if urls.contains(where: { route(for: HTTPRequest(url: $0), environment: routingEnvironment) == .libcurl }) {
            prepare()
        }
    }

    /// Waits until `prepare()`'s thread is done. Call before the process exits: exiting while that thread
    /// is inside dlopen or libcurl's set-up crashes the process.
    public static func finishPreparing() {
        Preparation.shared.wait()
    }

    /// Sends `request` and buffers the body, up to `request.maxResponseBytes`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if try route(for: request) == .plain { return try await PlainRoute.send(request) }
        return try await transfer(request, onBody: nil)
    }

    /// Sends `request` and hands the body to `onBody` chunk by chunk, on the transfer's thread; the
    /// returned response's `body` is empty. An error thrown by `onBody` stops the transfer and is rethrown.
    public func send(
        _ request: HTTPRequest,
        onBody: @escaping @Sendable ([UInt8]) throws -> Void
    ) async throws -> HTTPResponse {
        _ = try route(for: request, streaming: true)
        return try await transfer(request, onBody: onBody)
    }

    /// Sends `request` on the calling thread, which it blocks until the transfer ends, and buffers the body
    /// up to `request.maxResponseBytes`. For code that runs on threads of its own (the backup pipeline);
    /// never call it from a Swift concurrency task, whose few threads it would hold.
    public func sendBlocking(_ request: HTTPRequest) throws -> HTTPResponse {
        if try route(for: request) == .plain { return try PlainRoute.sendBlocking(request) }
        return try CurlEasy.perform(request, onBody: nil, cancellation: CancellationFlag())
    }

    /// `sendBlocking(_:)` handing the body to `onBody` chunk by chunk, on the calling thread; the returned
    /// response's `body` is empty. An error thrown by `onBody` stops the transfer and is rethrown.
    public func sendBlocking(_ request: HTTPRequest, onBody: @escaping @Sendable ([UInt8]) throws -> Void) throws -> HTTPResponse {
        _ = try route(for: request, streaming: true)
        return try CurlEasy.perform(request, onBody: onBody, cancellation: CancellationFlag())
    }

    private func transfer(
        _ request: HTTPRequest,
        onBody: (@Sendable ([UInt8]) throws -> Void)?
    ) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let cancellation = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let started = TransferThread.start {
                    continuation.resume(with: Result {
                        try CurlEasy.perform(request, onBody: onBody, cancellation: cancellation)
                    })
                }
                if !started {
                    continuation.resume(throwing: HTTPError.transport(code: -1, message: "could not start a thread"))
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// The one `HTTPClient.prepare()` thread, and a semaphore that says it is done. The mutex and semaphore live
/// at fixed addresses (allocated, not stored properties, which Swift may move); the object lives as long as
/// the process.
private final class Preparation: @unchecked Sendable {
    static let shared = Preparation()
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    private let done: UnsafeMutablePointer<sem_t> = .allocate(capacity: 1)
    private var started = false  // guarded by lock
    private var waited = false   // guarded by lock

    private init() {
        pthread_mutex_init(lock, nil)
        sem_init(done, 0, 0)
    }

    func start(_ work: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !started else { return }
        started = TransferThread.start { [self] in
            work()
            sem_post(done)
        }
    }

    func wait() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard started, !waited else { return }
        waited = true
        while sem_wait(done) != 0 && errno == EINTR {}
    }
}
