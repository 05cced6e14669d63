import Shell

extension DockerError {
    /// What a failed docker or compose command means, read from its stderr: a full disk and an engine that
    /// does not answer are named whatever command met them; anything else stays a ``command(_:)`` error.
    static func classify(_ error: CommandError, target: Target) -> DockerError {
        let lines = error.stderrTail.map { $0.trimmed(of: " \t\r\n") }.filter { !$0.isEmpty }
        if let full = lines.last(where: { $0.lowercased().contains("no space left on device") }) {
            return .diskFull(full)
        }
        if let down = lines.last(where: { line in unreachableMarkers.contains { line.lowercased().contains($0) } }) {
            return .unreachable(target: target.description, reason: down)
        }
        // Locally docker is missing before it starts; over ssh the remote shell says so and exits 127.
        // Other missing programs (zstd, docker-compose) stay command errors that name themselves.
        let dockerMissingHere = error.termination == nil && error.reason.contains(" docker not found in PATH")
        let dockerMissingThere = error.termination == .exited(127)
            && lines.contains { $0.contains("docker: not found") || $0.contains("docker: command not found") }
        if dockerMissingHere || dockerMissingThere {
            return .unreachable(target: target.description, reason: "docker is not installed")
        }
        return .command(error)
    }

    /// What docker (`Cannot connect to the Docker daemon…`, `error during connect`) and Compose v1
    /// (`Couldn't connect to Docker daemon`) print when the engine is not there.
    private static let unreachableMarkers = [
        "cannot connect to the docker daemon", "is the docker daemon running", "error during connect",
        "couldn't connect to docker daemon", "permission denied while trying to connect to the docker daemon",
    ]

    /// Whether a failed `docker pull` says the image does not exist (so retrying cannot help).
    static func isImageNotFound(_ error: CommandError) -> Bool {
        let text = error.stderrTail.joined(separator: "\n").lowercased()
        return ["manifest unknown", "pull access denied", "repository does not exist", "name unknown", "not found"]
            .contains { text.contains($0) }
    }

    /// Whether a failed `docker pull` looks like the network or registry having a bad moment.
    static func isTransientPull(_ error: any Error) -> Bool {
        guard case .command(let failure) = error as? DockerError else { return false }
        if failure.timedOut { return true }
        let text = failure.stderrTail.joined(separator: "\n").lowercased()
        return transientMarkers.contains { text.contains($0) }
    }

    /// Registry and network trouble that often passes: timeouts, resets, DNS hiccups, 5xx, rate limits.
    private static let transientMarkers = [
        "timeout", "timed out", "connection reset", "connection refused", "broken pipe", "unexpected eof",
        "no such host", "temporary failure in name resolution", "network is unreachable", "request canceled",
        "500 internal server error", "502 bad gateway", "503 service unavailable", "504 gateway timeout",
        "too many requests", "toomanyrequests", "received unexpected http status: 5",
    ]
}
