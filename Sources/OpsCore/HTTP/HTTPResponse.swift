import FoundationEssentials

/// What came back. Any HTTP status is a response, 404 and 503 included; only failed transfers throw.
public struct HTTPResponse: Sendable {
    /// The final status code (after redirects when followed).
    public var status: Int
    /// The final response's headers in order, as received.
    public var headers: [(name: String, value: String)]
    /// The body; empty when it was streamed to a callback.
    public var body: [UInt8]
    /// Phase timings of the transfer.
    public var timings: HTTPTimings
    /// When the server's (leaf) certificate expires; HTTPS only.
    public var certificateExpiry: Date?
    /// The HTTP version spoken: "1.0", "1.1", "2" or "3".
    public var httpVersion: String?
    /// The peer's IP address, or the socket path over a Unix socket.
    public var remoteAddress: String?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                timings: HTTPTimings = HTTPTimings(), certificateExpiry: Date? = nil,
                httpVersion: String? = nil, remoteAddress: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
        self.certificateExpiry = certificateExpiry
        self.httpVersion = httpVersion
        self.remoteAddress = remoteAddress
    }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
