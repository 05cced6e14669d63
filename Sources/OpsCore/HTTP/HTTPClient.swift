/// Sends HTTP requests with libcurl; safe to share, each transfer runs on a thread of its own.
public final class HTTPClient: Sendable {
    public init() {}

    /// Starts libcurl's one-time set-up (OpenSSL's config and tables, ~0.7 ms) on a thread of its own, so a
    /// tool can do it while it parses its arguments instead of before its first request.
    public static func prepare() {
        _ = TransferThread.start { _ = CurlEasy.globalInitCode }
    }

    /// Sends `request` and buffers the body, up to `request.maxResponseBytes`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await transfer(request, onBody: nil)
    }

    /// Sends `request` and hands the body to `onBody` chunk by chunk, on the transfer's thread; the
    /// returned response's `body` is empty. An error thrown by `onBody` stops the transfer and is rethrown.
    public func send(
        _ request: HTTPRequest,
        onBody: @escaping @Sendable ([UInt8]) throws -> Void
    ) async throws -> HTTPResponse {
        try await transfer(request, onBody: onBody)
    }

    /// Sends `request` on the calling thread, which it blocks until the transfer ends, and buffers the body
    /// up to `request.maxResponseBytes`. For code that runs on threads of its own (the backup pipeline);
    /// never call it from a Swift concurrency task, whose few threads it would hold.
    public func sendBlocking(_ request: HTTPRequest) throws -> HTTPResponse {
        try CurlEasy.perform(request, onBody: nil, cancellation: CancellationFlag())
    }

    /// `sendBlocking(_:)` handing the body to `onBody` chunk by chunk, on the calling thread; the returned
    /// response's `body` is empty. An error thrown by `onBody` stops the transfer and is rethrown.
    public func sendBlocking(_ request: HTTPRequest, onBody: @escaping @Sendable ([UInt8]) throws -> Void) throws -> HTTPResponse {
        try CurlEasy.perform(request, onBody: onBody, cancellation: CancellationFlag())
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
