/// One HTTP request: where, how, and the limits that keep a health check from hanging a deploy.
public struct HTTPRequest: Sendable {
    /// An absolute `http://` or `https://` URL; with `unixSocketPath` the host part only names the `Host` header.
    public var url: String
    /// The request method, e.g. `GET`, `POST`, `HEAD`.
    public var method: String
    /// Request headers in order; a header named like one curl sets itself (`User-Agent`) replaces curl's.
    public var headers: [(name: String, value: String)]
    /// The request body, if any.
    public var body: HTTPBody?
    /// Longest wait for the TCP/TLS connection.
    public var connectTimeout: Duration
    /// Longest time for the whole transfer, connection included.
    public var timeout: Duration
    /// Whether to verify the peer certificate and host name. Turn off only on an explicit user flag.
    public var verifyTLS: Bool
    /// A PEM CA bundle trusted *instead of* the system bundle (as `curl --cacert`), for private CAs.
    public var caFile: String?
    /// Talk HTTP over this Unix socket instead of TCP (the Docker Engine API lives on one).
    public var unixSocketPath: String?
    /// Whether to follow 3xx redirects (at most 10, http and https only).
    public var followRedirects: Bool
    /// Largest body `HTTPClient.send(_:)` buffers; more is `HTTPError.responseTooLarge`. Streaming ignores it.
    public var maxResponseBytes: Int

    public init(
        url: String,
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        body: HTTPBody? = nil,
        connectTimeout: Duration = .seconds(10),
        timeout: Duration = .seconds(30),
        verifyTLS: Bool = true,
        caFile: String? = nil,
        unixSocketPath: String? = nil,
        followRedirects: Bool = false,
        maxResponseBytes: Int = 8 * 1024 * 1024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.unixSocketPath = unixSocketPath
        self.followRedirects = followRedirects
        self.maxResponseBytes = maxResponseBytes
    }
}
