import Shell

/// Why a transfer produced no response. HTTP statuses such as 404 or 503 are responses, never these.
public enum HTTPError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Not an absolute http(s) URL curl can use.
    case invalidURL(String)
    /// A method or header that cannot be sent (e.g. a line break inside a header value).
    case invalidRequest(String)
    /// DNS had no answer for the host.
    case couldNotResolve(host: String)
    /// The TCP or Unix socket connection failed: refused, unreachable, or no such socket; curl's message.
    case connectionRefused(String)
    /// The connect or total timeout passed.
    case timedOut(after: Duration)
    /// The peer's certificate was rejected: expired, unknown issuer, self-signed, wrong host; curl's message.
    case tlsCertificate(String)
    /// Another TLS failure, e.g. no common protocol version or cipher.
    case tls(String)
    /// A buffered body passed `HTTPRequest.maxResponseBytes`.
    case responseTooLarge(limit: Int)
    /// Any other libcurl failure; `code` is the `CURLcode`.
    case transport(code: Int, message: String)

    /// Whether trying again later may succeed: the service may be restarting, or the network blinked.
    ///
    /// TLS failures count as permanent: they come from configuration far more often than from a flaky network.
    public var isTransient: Bool {
        switch self {
        case .couldNotResolve, .connectionRefused, .timedOut: true
        case .transport(let code, _): Self.transientCurlCodes.contains(code)
        case .invalidURL, .invalidRequest, .tlsCertificate, .tls, .responseTooLarge: false
        }
    }

    // CURLE_HTTP2, _PARTIAL_FILE, _GOT_NOTHING, _SEND_ERROR, _RECV_ERROR, _HTTP2_STREAM, _HTTP3:
    // the connection broke mid-transfer, as it does while a service restarts.
    static let transientCurlCodes: Set<Int> = [16, 18, 52, 55, 56, 92, 95]

    /// One line a person can act on, with passwords in URLs hidden.
    public var description: String {
        Redactor.redact(rawDescription)
    }

    private var rawDescription: String {
        switch self {
        case .invalidURL(let url):
            "invalid URL '\(url)': expected an absolute http:// or https:// URL"
        case .invalidRequest(let why):
            "invalid HTTP request: \(why)"
        case .couldNotResolve(let host):
            "could not resolve host '\(host)': check the name and the DNS settings"
        case .connectionRefused(let message):
            "could not connect: \(message) (is the service running and listening there?)"
        case .timedOut(let after):
            "no complete answer within \(after.formattedSeconds): the service is slow or unreachable"
        case .tlsCertificate(let message):
            "TLS certificate rejected: \(message) (renew the certificate, or trust its CA with a CA file)"
        case .tls(let message):
            "TLS handshake failed: \(message)"
        case .responseTooLarge(let limit):
            "response body larger than \(limit) bytes: raise the limit or stream the body"
        case .transport(let code, let message):
            "HTTP transfer failed (curl error \(code)): \(message)"
        }
    }
}

extension Duration {
    /// "0.5 s", "30 s": short and exact enough for messages.
    var formattedSeconds: String {
        let ms = milliseconds
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
