#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A second, private Docker engine whose data root is a tmpfs of a few megabytes
/// (`scripts/services/small-dockerd`): a disk a test may fill for real. Call `stop()`.
///
/// Nothing it does reaches the default engine or the machine's disk; it has no bridge network, so its
/// containers use `network_mode: host`. If the test process dies, the engine stops and its directory goes.
public struct SmallDockerEngine: Sendable {
    public let directory: TempDirectory
    /// `unix:///tmp/…/docker.sock`, for `DOCKER_HOST` or `docker -H`.
    public let host: String

    public static func start(megabytes: Int) async throws -> SmallDockerEngine {
        let directory = try TempDirectory(prefix: "opskit-small-dockerd")
        do {
            let started = try await Runner().capture(Command(
                script, "start", directory.path, String(megabytes), "--owner", String(getpid()), timeout: .seconds(120)))
            guard let host = started.stdoutText.split(separator: "\n").last.map(String.init), host.hasPrefix("unix://") else {
                throw TestSupportError("small-dockerd printed no address: \(started.stdoutText)")
            }
            return SmallDockerEngine(directory: directory, host: host)
        } catch {
            _ = try? await Runner().capture(Command(script, "stop", directory.path))
            throw error
        }
    }

    /// `docker ARGS…` against this engine.
    public func docker(_ arguments: String...) -> Command {
        Command(argv: ["docker"] + arguments, environment: ["DOCKER_HOST": host])
    }

    /// Removes its containers, stops it, unmounts its disk and removes its directory.
    public func stop() async {
        _ = try? await Runner().capture(Command(Self.script, "stop", directory.path, timeout: .seconds(120)))
    }

    static var script: String { repositoryRoot() + "/scripts/services/small-dockerd" }
}
