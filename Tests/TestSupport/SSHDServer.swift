#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A throwaway sshd for one test, started by `scripts/services/sshd` in its own temp dir on a free port.
public struct SSHDServer: Sendable {
    public let directory: TempDirectory
    public let address: String
    public let port: Int
    public let user: String

    /// The client key the server accepts.
    public var keyFile: String { directory.file("client_key") }
    /// A known_hosts file holding the server's host key.
    public var knownHostsFile: String { directory.file("known_hosts") }
    public var host: SSHHost { SSHHost(user: user, host: address, port: port) }
    public var options: SSHOptions {
        SSHOptions(identityFile: keyFile, knownHostsFile: knownHostsFile, connectTimeout: .seconds(5))
    }

    /// Starts a server listening on `address` (a free port is picked); its sessions see `environment`.
    public static func start(address: String = "127.0.0.1", environment: [String: String] = [:]) async throws
        -> SSHDServer
    {
        let directory = try TempDirectory(prefix: "opskit-sshd")
        let script = try repositoryRoot() + "/scripts/services/sshd"
        do {
            var command = Command(script, "start", directory.path, "", address, timeout: .seconds(120))
            if !environment.isEmpty {
                command.environment["SSHD_SETENV"] = environment.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            let started = try await Runner().capture(command)
            guard let port = Int(started.stdoutText.split(separator: "\n").last ?? "") else {
                throw TestSupportError("sshd service printed no port: \(started.stdoutText)")
            }
            let user = try await Runner().capture(Command("id", "-un")).stdoutText
            return SSHDServer(directory: directory, address: address, port: port, user: user)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Stops the server and removes its directory.
    public func stop() async {
        let script = (try? Self.repositoryRoot()).map { $0 + "/scripts/services/sshd" }
        if let script { _ = try? await Runner().capture(Command(script, "stop", directory.path)) }
        directory.remove()
    }

    /// The directory holding Package.swift, found by walking up from this file.
    public static func repositoryRoot(from file: String = #filePath) throws -> String {
        var dir = file
        while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
            dir = String(dir[..<slash])
            if access(dir + "/Package.swift", F_OK) == 0 { return dir }
        }
        throw TestSupportError("no Package.swift above \(file)")
    }
}
