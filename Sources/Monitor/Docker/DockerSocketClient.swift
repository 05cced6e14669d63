import OpsCore
#if canImport(Glibc)
import Glibc
#endif

/// Why the Docker engine gave no usable answer, in one line that says what to do.
struct DockerEngineError: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// GETs of the Docker Engine API over its Unix socket, answers parsed with `JSONValue`.
///
/// Paths are unversioned: the engine then serves its own API version, and every field the check reads
/// (`State`, `RestartCount`, `Config.Labels`, …) is the same from API 1.25 on. A versioned path would
/// break on engines that no longer accept it (Docker 29 refuses anything below 1.44).
struct DockerSocketClient: Sendable {
    let socketPath: String
    let client: HTTPClient
    let timeout: Duration

    /// Why the socket cannot be used at all (missing, not a socket, no permission), checked before curl
    /// connects: curl reports all of these as "Couldn't connect to server".
    func socketProblem() -> String? {
        var info = stat()
        guard stat(socketPath, &info) == 0 else {
            let code = errno
            if code == EACCES { return unreachable("permission denied" + Self.permissionHint) }
            if code == ENOENT || code == ENOTDIR {
                return unreachable("no such socket — is Docker installed and running? "
                    + "Otherwise give the socket path or set DOCKER_HOST=unix://PATH")
            }
            return unreachable(String(cString: strerror(code)))
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            return unreachable("not a socket — give the path of the engine's socket or set DOCKER_HOST=unix://PATH")
        }
        // Connecting to a Unix socket needs write permission on it.
        if access(socketPath, R_OK | W_OK) != 0, errno == EACCES {
            return unreachable("permission denied" + Self.permissionHint)
        }
        return nil
    }

    /// The parsed answer to GET `path`, or nil when the engine says 404 (a container removed meanwhile).
    /// With `keeping`, only those members of a top-level object are built (see `JSONValue.parse(_:keepingTopLevel:)`).
    func get(_ path: String, keeping: Set<String>? = nil) async throws(DockerEngineError) -> JSONValue? {
        let request = HTTPRequest(
            url: "http://localhost" + path, headers: [("Accept", "application/json")],
            connectTimeout: timeout, timeout: timeout, unixSocketPath: socketPath)
        let response: HTTPResponse
        do {
            response = try await client.send(request)
        } catch let error as HTTPError {
            switch error {
            case .connectionRefused:
                throw DockerEngineError(description: unreachable(
                    "connection refused — the engine is not running; start it (systemctl start docker)"))
            case .timedOut:
                throw DockerEngineError(description: unreachable(
                    "no answer within \(Self.seconds(timeout)) — the engine is hung or overloaded; "
                        + "check systemctl status docker"))
            case .couldNotResolve, .tlsCertificate, .tls, .transport:
                throw DockerEngineError(description: unreachable(error.description))
            case .invalidURL, .invalidRequest, .responseTooLarge:
                throw DockerEngineError(description: "no usable answer from the Docker engine at \(socketPath) "
                    + "to GET \(path): \(error)")
            }
        } catch {
            throw DockerEngineError(description: unreachable("\(error)"))
        }
        if response.status == 404 { return nil }
        let body = keeping.map { JSONValue.parse(response.body, keepingTopLevel: $0) } ?? JSONValue.parse(response.body)
        guard (200..<300).contains(response.status) else {
            let message = body?["message"]?.stringValue ?? String(response.bodyText.prefix(200))
            throw DockerEngineError(description: "the Docker engine at \(socketPath) answered GET \(path) with HTTP "
                + "\(response.status): \(Self.oneLine(message)) — check the engine's log (journalctl -u docker)")
        }
        guard let body else {
            throw DockerEngineError(description: "the answer of \(socketPath) to GET \(path) is not JSON — "
                + "is it really the Docker engine's socket?")
        }
        return body
    }

    private func unreachable(_ reason: String) -> String {
        "cannot reach the Docker engine at \(socketPath): \(reason)"
    }

    private static let permissionHint = " — run the monitor as root or add its user to the docker group"

    private static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map(trim).filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `text` without leading and trailing white space.
    static func trim(_ text: Substring) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
