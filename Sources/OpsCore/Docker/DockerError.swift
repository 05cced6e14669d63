import Shell

/// Why a Docker or Compose operation failed, in one line that says what to do next.
public enum DockerError: Error, Sendable, CustomStringConvertible {
    /// The engine did not answer (daemon stopped, wrong `DOCKER_HOST`, no permission) or `docker` is missing.
    case unreachable(target: String, reason: String)
    /// Neither `docker compose` nor `docker-compose` works on the target.
    case composeMissing(target: String)
    /// The registry has no such image, or refuses to say (private repository without login).
    case imageNotFound(String)
    /// Compose rejected the file; `reason` is its first error line.
    case composeFile(file: String, reason: String)
    /// Docker ran out of disk space; the value is the line that said so.
    case diskFull(String)
    /// Any other failure of a docker command.
    case command(CommandError)

    public var description: String {
        let line: String
        switch self {
        case .unreachable(let target, let reason):
            line = "the Docker engine on \(target) does not answer (\(reason)); start it (`systemctl start docker`) "
                + "or check DOCKER_HOST and that this user may use docker"
        case .composeMissing(let target):
            line = "neither `docker compose` nor `docker-compose` works on \(target); install one "
                + "(Debian: apt-get install docker-compose)"
        case .imageNotFound(let reference):
            line = "image \(reference) was not found; check its name and tag, and `docker login` if it is private"
        case .composeFile(let file, let reason):
            line = "compose file \(file) is invalid: \(reason); fix it (`docker compose -f \(file) config`, or docker-compose, lists every error)"
        case .diskFull(let detail):
            line = "Docker ran out of disk space (\(detail)); free some, e.g. `docker image prune`, and try again"
        case .command(let error):
            line = error.description
        }
        return Redactor.redact(line.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" })
    }
}
