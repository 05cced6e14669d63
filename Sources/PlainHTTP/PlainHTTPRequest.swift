/// One plain HTTP/1.1 request: where, how, and the limits that keep a check from hanging.
public struct PlainHTTPRequest: Sendable {
    /// An absolute `http://host[:port]/path?query` URL (IPv6 literals as `http://[::1]:8080/`). With
    /// `unixSocket`, a path such as `/containers/json` (the `Host` header is then `localhost`), or an
    /// `http://` URL whose host only names the `Host` header. `https://` is for the TLS client.
    public var url: String
    /// The request method, e.g. `GET`, `POST`, `HEAD`.
    public var method: String
    /// Extra request headers in order. A `Host`, `User-Agent` or `Authorization` header given here replaces
    /// the client's own; `Connection`, `Content-Length` and `Transfer-Encoding` are always the client's.
    public var headers: [(name: String, value: String)]
    /// The request body, sent with a `Content-Length`.
    public var body: [UInt8]?
    /// Talk HTTP over this Unix socket instead of TCP (the Docker Engine API lives on one).
    public var unixSocket: String?
    /// Longest time for the whole request: name lookup, connection, sending, and the complete response.
    public var timeout: Duration
    /// Longest time for name lookup and connection (never more than `timeout`).
    public var connectTimeout: Duration
    /// Largest response body accepted; a longer one is `PlainHTTPError.tooLarge`.
    public var maxResponseBytes: Int

    public init(
        url: String,
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        unixSocket: String? = nil,
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        maxResponseBytes: Int = 8 * 1024 * 1024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.unixSocket = unixSocket
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}
