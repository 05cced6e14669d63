import Shell

extension Docker {
    /// Where a named volume keeps its files on the engine's host (`/var/lib/docker/volumes/NAME/_data`);
    /// nil when no such volume exists.
    public func volumeMountpoint(_ name: String) async throws -> String? {
        do {
            let output = try await capture(["volume", "inspect", "--format", "{{.Mountpoint}}", "--", name])
            let path = output.stdoutText
            return path.isEmpty ? nil : path
        } catch let DockerError.command(error)
            where error.stderrTail.contains(where: { $0.lowercased().contains("no such volume") }) {
            return nil
        }
    }

    /// Which of `names` are running now (unknown names are not).
    public func runningContainers(_ names: [String]) async throws -> [String] {
        guard !names.isEmpty else { return [] }
        let output = try await capture(["ps", "--format", "{{.Names}}"])
        let running = Set(output.stdoutText.split(separator: "\n").map(String.init))
        return names.filter { running.contains($0) }
    }

    /// Stops containers (SIGTERM, then SIGKILL after `timeout` seconds).
    public func stop(containers names: [String], timeout: Int = 30) async throws {
        guard !names.isEmpty else { return }
        try await capture(["stop", "--time", String(timeout)] + names, timeout: .seconds(Int64(timeout) + 60))
    }

    /// Starts containers that exist and are stopped.
    public func start(containers names: [String]) async throws {
        guard !names.isEmpty else { return }
        try await capture(["start"] + names, timeout: .seconds(120))
    }
}
