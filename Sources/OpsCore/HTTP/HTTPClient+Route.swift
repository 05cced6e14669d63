import PlainHTTP
#if canImport(Glibc)
import Glibc
#endif

extension HTTPClient {
    /// Which client sends a request.
    public enum Transport: Sendable, Equatable {
        /// `PlainHTTP` when it gives the same answer as libcurl (see ``HTTPClient/route(for:environment:)``),
        /// libcurl otherwise.
        case automatic
        /// Always libcurl.
        case libcurl
        /// Always `PlainHTTP`; a request it cannot send (https, a redirect to follow, a streamed body or
        /// response) is `HTTPError.invalidRequest`.
        case plain
    }

    /// The client a request goes to.
    public enum Route: Sendable, Equatable { case plain, libcurl }

    /// Where `.automatic` sends `request`. Loading libcurl and its ~30 libraries costs a process ~7 ms, more
    /// than a loopback health check or a Docker API call takes, so requests that need nothing of curl's go
    /// through `PlainHTTP` (POSIX sockets, HTTP/1.1):
    /// - over a Unix socket, or to an `http://` URL (https needs TLS);
    /// - not following redirects (a redirect may lead to https);
    /// - a body in memory or none, and the body buffered (`send(_:)`, `sendBlocking(_:)`; the streaming forms
    ///   stay on curl);
    /// - and no proxy that curl would use: any of `http_proxy`, `ALL_PROXY`, `all_proxy` set sends non-loopback
    ///   hosts to curl, which applies them with `NO_PROXY` (loopback never goes through a proxy on either path).
    /// `OPSKIT_HTTP=curl` in the environment sends everything to libcurl (an escape hatch).
    public static func route(for request: HTTPRequest, environment: [String: String]) -> Route {
        if environment["OPSKIT_HTTP"] == "curl" { return .libcurl }
        if case .stream = request.body { return .libcurl }
        if request.unixSocketPath != nil { return .plain }
        guard !request.followRedirects, request.url.lowercased().hasPrefix("http://") else { return .libcurl }
        let proxied = ["http_proxy", "ALL_PROXY", "all_proxy"].contains { !(environment[$0] ?? "").isEmpty }
        return !proxied || ["localhost", "127.0.0.1", "::1"].contains(request.host.lowercased()) ? .plain : .libcurl
    }

    /// The variables `route(for:environment:)` reads, from this process's environment, read once.
    static let routingEnvironment: [String: String] = {
        var found: [String: String] = [:]
        for name in ["OPSKIT_HTTP", "http_proxy", "ALL_PROXY", "all_proxy"] {
            if let value = getenv(name) { found[name] = String(cString: value) }
        }
        return found
    }()

    func route(for request: HTTPRequest, streaming: Bool = false) throws(HTTPError) -> Route {
        if streaming {
            guard transport != .plain else {
                throw .invalidRequest("the plain HTTP client buffers responses; stream \(request.url) with libcurl")
            }
            return .libcurl
        }
        switch transport {
        case .libcurl: return .libcurl
        case .automatic: return Self.route(for: request, environment: Self.routingEnvironment)
        case .plain:
            try request.validate() // an invalid URL is that, whichever client would have sent it
            guard Self.route(for: request, environment: [:]) == .plain else {
                throw .invalidRequest("the plain HTTP client sends only http:// or Unix-socket requests without "
                                      + "redirects or streamed bodies; use the automatic transport for \(request.url)")
            }
            return .plain
        }
    }
}

/// `HTTPRequest` → `PlainHTTPRequest` and back, so callers see what libcurl would have given them.
enum PlainRoute {
    static func request(_ request: HTTPRequest) throws(HTTPError) -> PlainHTTPRequest {
        try request.validate()
        var headers = request.headers
        let names = Set(headers.map { $0.name.lowercased() })
        // What curl sends unless told otherwise.
        if !names.contains("user-agent") { headers.append((name: "User-Agent", value: "opskit/\(OpsKit.version)")) }
        if !names.contains("accept") { headers.append((name: "Accept", value: "*/*")) }
        let body: [UInt8]? = switch request.body {
        case .bytes(let bytes): bytes
        case .stream, .none: nil
        }
        return PlainHTTPRequest(
            url: request.url, method: request.method, headers: headers, body: body,
            unixSocket: request.unixSocketPath, timeout: request.timeout,
            connectTimeout: request.connectTimeout, maxResponseBytes: request.maxResponseBytes)
    }

    static func response(_ response: PlainHTTPResponse) -> HTTPResponse {
        let t = response.timings
        return HTTPResponse(
            status: response.status, headers: response.headers, body: response.body,
            timings: HTTPTimings(dns: t.lookup, connect: t.connect, tls: .zero, firstByte: t.firstByte, total: t.total),
            certificateExpiry: nil, httpVersion: response.httpVersion, remoteAddress: response.remoteAddress)
    }

    /// The `HTTPError` libcurl's path throws for the same failure, with the same `isTransient`.
    static func error(_ error: PlainHTTPError, request: HTTPRequest) -> HTTPError {
        switch error {
        case .invalidURL, .unsupportedScheme: .invalidURL(request.url)
        case .invalidRequest(let why): .invalidRequest(why)
        case .couldNotResolve(let host): .couldNotResolve(host: host)
        case .connectionRefused(let address): .connectionRefused("connection to \(address) refused")
        case .noSuchSocket(let path): .connectionRefused("no Unix socket at \(path)")
        case .permissionDenied(let path): .connectionRefused("permission denied on the Unix socket \(path)")
        case .timedOut(let after): .timedOut(after: after)
        case .tooLarge(let limit): .responseTooLarge(limit: limit)
        // CURLE_WEIRD_SERVER_REPLY (8) and CURLE_RECV_ERROR (56), as curl reports these.
        case .malformedResponse(let why): .transport(code: 8, message: "malformed HTTP response: \(why)")
        case .io(let what): .transport(code: 56, message: what)
        }
    }

    static func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let plain = try Self.request(request)
        do {
            return Self.response(try await PlainHTTPClient().send(plain))
        } catch let error as PlainHTTPError {
            throw Self.error(error, request: request)
        }
    }

    static func sendBlocking(_ request: HTTPRequest) throws -> HTTPResponse {
        let plain = try Self.request(request)
        do {
            return Self.response(try PlainHTTPClient().sendBlocking(plain))
        } catch let error as PlainHTTPError {
            throw Self.error(error, request: request)
        }
    }
}
