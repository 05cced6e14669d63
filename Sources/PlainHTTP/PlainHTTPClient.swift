/// A small HTTP/1.1 client for `http://` URLs and Unix sockets (the Docker Engine API), built on POSIX
/// sockets alone so a tool that uses it starts without loading libcurl and its ~30 shared libraries.
///
/// One connection per request (`Connection: close`), no redirects (a 3xx is returned as it is), no TLS:
/// `https://` URLs throw `PlainHTTPError.unsupportedScheme` and belong to the TLS client.
public struct PlainHTTPClient: Sendable {
    public init() {}

    /// Sends `request` on a thread of its own and returns the complete response. Never blocks Swift's
    /// cooperative pool; cancelling the task stops the request at its next wait (`CancellationError`).
    public func send(_ request: PlainHTTPRequest) async throws -> PlainHTTPResponse {
        try Task.checkCancellation()
        let cancel = try Wakeup()
        return try await DetachedThread.run({ try Transfer(request, cancel: cancel).run() },
                                            onCancel: { cancel.signal() })
    }

    /// Sends `request` on the calling thread, blocking it until the response is complete or `timeout` passes.
    /// For code already on a thread of its own; from async code, use `send(_:)`.
    public func sendBlocking(_ request: PlainHTTPRequest) throws -> PlainHTTPResponse {
        try Transfer(request, cancel: nil).run()
    }
}
