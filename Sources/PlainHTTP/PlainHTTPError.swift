/// Why a request produced no response. HTTP statuses such as 404 or 503 are responses, never these.
public enum PlainHTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not an `http://` URL this client can use (or, with a Unix socket, not a path starting with `/`).
    case invalidURL(String)
    /// A method, header or socket path that cannot be sent (e.g. a line break inside a header value).
    case invalidRequest(String)
    /// A scheme other than `http`; `https` belongs to the TLS client.
    case unsupportedScheme(String)
    /// Name lookup found no address for the host.
    case couldNotResolve(host: String)
    /// Nothing listens at this address (`host:port`) or Unix socket path.
    case connectionRefused(String)
    /// No Unix socket exists at this path.
    case noSuchSocket(path: String)
    /// This process may not connect to the Unix socket at this path.
    case permissionDenied(path: String)
    /// The connect timeout or the whole-request timeout passed.
    case timedOut(after: Duration)
    /// The peer answered something that is not HTTP/1.x, or broke its framing.
    case malformedResponse(String)
    /// The response body is larger than `PlainHTTPRequest.maxResponseBytes`.
    case tooLarge(limit: Int)
    /// The connection failed otherwise: reset, closed early, unreachable network; what happened.
    case io(String)

    /// Whether trying again later may succeed: the service may be restarting, or the network blinked.
    public var isTransient: Bool {
        switch self {
        case .couldNotResolve, .connectionRefused, .noSuchSocket, .timedOut, .io: true
        case .invalidURL, .invalidRequest, .unsupportedScheme, .permissionDenied, .malformedResponse, .tooLarge: false
        }
    }

    /// One line saying what went wrong and what to do, with passwords in URLs hidden.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            "invalid URL '\(Self.hidingPassword(url))': expected http://host[:port]/path (or a path starting with / for a Unix socket)"
        case .invalidRequest(let why):
            "invalid HTTP request: \(why)"
        case .unsupportedScheme(let scheme) where scheme == "https":
            "https:// needs TLS, which the plain HTTP client does not speak: send this request with the TLS client (OpsCore's HTTPClient)"
        case .unsupportedScheme(let scheme):
            "unsupported URL scheme '\(scheme)://': only http:// is supported here"
        case .couldNotResolve(let host):
            "could not resolve host '\(host)': check the name and the DNS settings"
        case .connectionRefused(let address):
            "connection refused by \(address): is the service running and listening there?"
        case .noSuchSocket(let path):
            "no Unix socket at \(path): is the service running, and is the path right?"
        case .permissionDenied(let path):
            "permission denied on the Unix socket \(path): run as a user allowed to use it (for Docker, root or the docker group)"
        case .timedOut(let after):
            "no complete answer within \(after.shortSeconds): the service is slow or unreachable (raise the timeout if it is only slow)"
        case .malformedResponse(let why):
            "malformed HTTP response: \(why); is an HTTP/1.x server listening there?"
        case .tooLarge(let limit):
            "response body larger than \(limit) bytes: raise maxResponseBytes or ask for less"
        case .io(let what):
            "HTTP connection failed: \(what); try again, and check the service if it persists"
        }
    }

    /// `scheme://user:password@host` → `scheme://user:***@host`.
    static func hidingPassword(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        let authority = url[authorityStart..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}

extension Duration {
    /// "0.5 s", "10 s": short and exact enough for messages.
    var shortSeconds: String {
        let ms = wholeMilliseconds
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }

    /// Whole milliseconds, rounded up; zero or less for a non-positive duration.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let ms = seconds * 1000 + attoseconds / perMillisecond
        return attoseconds % perMillisecond > 0 ? ms + 1 : ms
    }
}
