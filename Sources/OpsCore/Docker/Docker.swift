import Shell

/// The Docker engine of one ``Target``, driven through its `docker` CLI (here or over SSH).
///
/// Every failure is a ``DockerError``: a full disk or an engine that does not answer is named as such,
/// whichever command met it.
public struct Docker: Sendable {
    public let target: Target
    /// Variables set for every docker command, e.g. `DOCKER_HOST`.
    public let environment: [String: String]

    public init(target: Target, environment: [String: String] = [:]) {
        self.target = target
        self.environment = environment
    }

    /// The engine's (server's) version, e.g. `20.10.24+dfsg1`.
    public func version() async throws -> String {
        // `docker version` asks the daemon; `--version` would only describe the client.
        try await capture(["version", "--format", "{{.Server.Version}}"], timeout: .seconds(30)).stdoutText
    }

    /// Free bytes on the filesystem where the engine keeps images and containers.
    public func freeBytes() async throws -> Int64 {
        let root = try await capture(["info", "--format", "{{.DockerRootDir}}"]).stdoutText
        let df = try await capture(Command("df", "-Pk", "--", root))
        // POSIX df -P: a header, then one line whose fourth field is the available 1024-byte blocks.
        let fields = df.stdoutText.split(separator: "\n").last?.split(separator: " ") ?? []
        guard fields.count >= 4, let kilobytes = Int64(fields[3]) else {
            throw DockerError.command(CommandError(
                command: "df -Pk \(root)", termination: df.termination,
                reason: "printed no free space figure: \(df.stdoutText)"))
        }
        return kilobytes * 1024
    }

    /// `docker ARGS…` as it runs on the target: with our environment, not yet wrapped in ssh.
    func command(_ arguments: [String], timeout: Duration? = nil) -> Command {
        Command(argv: ["docker"] + arguments, environment: environment.mapValues { $0 }, timeout: timeout)
    }

    /// Runs `docker ARGS…` on the target and collects its output.
    @discardableResult
    func capture(_ arguments: [String], timeout: Duration? = nil) async throws -> CapturedOutput {
        try await capture(command(arguments, timeout: timeout))
    }

    /// Runs a command on the target, turning its ``CommandError`` into a ``DockerError``.
    @discardableResult
    func capture(_ command: Command) async throws -> CapturedOutput {
        do {
            return try await target.capture(command)
        } catch let error as CommandError {
            throw DockerError.classify(error, target: target)
        }
    }
}
