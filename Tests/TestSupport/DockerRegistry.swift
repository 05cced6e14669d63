#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A private Docker registry on 127.0.0.1 for one test (`scripts/services/registry`); call `stop()`.
public struct DockerRegistry: Sendable {
    public let directory: TempDirectory
    public let port: Int

    /// `127.0.0.1:PORT`, the prefix of every reference in this registry.
    public var host: String { "127.0.0.1:\(port)" }

    public static func start() async throws -> DockerRegistry {
        let directory = try TempDirectory(prefix: "opskit-registry")
        do {
            let started = try await Runner().capture(
                Command(Self.script, "start", directory.path, "--owner", String(getpid()), timeout: .seconds(300)))
            guard let port = Int(started.stdoutText.split(separator: "\n").last ?? "") else {
                throw TestSupportError("registry service printed no port: \(started.stdoutText)")
            }
            return DockerRegistry(directory: directory, port: port)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Stops the registry and removes its storage.
    public func stop() async {
        _ = try? await Runner().capture(Command(Self.script, "stop", directory.path))
        directory.remove()
    }

    static var script: String { repositoryRoot() + "/scripts/services/registry" }
}
