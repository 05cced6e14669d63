#if canImport(Glibc)
import Glibc
#endif

/// Where the container check finds the Docker engine: a Unix socket, or why it cannot.
enum DockerEndpoint: Sendable, Equatable {
    case socket(String)
    /// `DOCKER_HOST` names an engine this check cannot speak to (TCP, SSH); the reason says what to do.
    case unsupported(String)

    static let defaultSocket = "/var/run/docker.sock"

    /// An explicit path wins; then `DOCKER_HOST=unix://PATH`; then `/var/run/docker.sock`.
    static func resolve(socketPath: String?, dockerHost: String?) -> DockerEndpoint {
        if let socketPath, !socketPath.isEmpty { return .socket(socketPath) }
        guard let host = dockerHost, !host.isEmpty else { return .socket(defaultSocket) }
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            if !path.isEmpty { return .socket(path) }
        }
        return .unsupported(
            "DOCKER_HOST=\(host) is not a Unix socket — the container check only talks to a local engine; "
                + "set DOCKER_HOST=unix:///var/run/docker.sock or give the socket path")
    }

    static var environmentDockerHost: String? {
        getenv("DOCKER_HOST").map { String(cString: $0) }
    }
}
