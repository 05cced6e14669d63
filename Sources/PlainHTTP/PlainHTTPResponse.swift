/// A complete HTTP response. Every status is a response (404, 503, a 302 that is not followed), never an error.
public struct PlainHTTPResponse: Sendable {
    /// The status code of the final response (interim 1xx responses are skipped).
    public var status: Int
    /// Response headers in the order received, names lowercased.
    public var headers: [(name: String, value: String)]
    /// Trailer fields after a chunked body, names lowercased; usually empty.
    public var trailers: [(name: String, value: String)]
    /// The body, after removing the chunked framing; empty for HEAD, 204 and 304.
    public var body: [UInt8]
    /// When each phase finished, measured from the start of `send`.
    public var timings: PlainHTTPTimings
    /// The HTTP version the server answered with: "1.1" or "1.0".
    public var httpVersion: String = "1.1"
    /// The peer's numeric address (`127.0.0.1`, `::1`), or the Unix socket's path.
    public var remoteAddress: String?

    public init(status: Int, headers: [(name: String, value: String)] = [],
                trailers: [(name: String, value: String)] = [], body: [UInt8] = [],
                timings: PlainHTTPTimings = PlainHTTPTimings()) {
        self.status = status
        self.headers = headers
        self.trailers = trailers
        self.body = body
        self.timings = timings
    }

    /// The first header with this name (any case), or nil.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    /// The body decoded as UTF-8 (invalid bytes become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// When each phase of a request finished, measured from its start; cumulative, as in `curl -w`.
public struct PlainHTTPTimings: Sendable, Equatable {
    /// Name lookup done (zero over a Unix socket).
    public var lookup: Duration = .zero
    /// Name lookup done and the TCP (or Unix socket) connection established.
    public var connect: Duration
    /// First response byte received.
    public var firstByte: Duration
    /// Response complete.
    public var total: Duration

    public init(connect: Duration = .zero, firstByte: Duration = .zero, total: Duration = .zero) {
        self.connect = connect
        self.firstByte = firstByte
        self.total = total
    }
}
