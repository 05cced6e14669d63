import Shell

/// Docker Compose on one ``Target``, in whichever flavor it has (v2 preferred).
///
/// Failures are ``DockerError``s; a full disk or an engine that does not answer is named as such.
public struct Compose: Sendable {
    public let target: Target
    public let flavor: ComposeFlavor
    /// What `version --short` printed, e.g. `1.29.2` or `2.24.0`.
    public let version: String

    public init(target: Target, flavor: ComposeFlavor, version: String) {
        self.target = target
        self.flavor = flavor
        self.version = version
    }

    /// Finds Compose on the target: v2 (`docker compose`) when it works, else v1 (`docker-compose`).
    ///
    /// - Parameter readVersion: with `false`, v1 is found by `command -v` and `version` is empty: asking
    ///   v1 its version costs ~0.5 s of Python start-up, which a deploy pays for nothing.
    public static func detect(on target: Target, readVersion: Bool = true) async throws -> Compose {
        if !readVersion {
            let v2 = try? await target.capture(Command(argv: ComposeFlavor.v2.argv + ["version", "--short"], timeout: .seconds(30)))
            if let v2, !v2.stdoutText.trimmed(of: " \t\r\n").isEmpty {
                return Compose(target: target, flavor: .v2, version: v2.stdoutText.trimmed(of: " \t\r\n"))
            }
            let v1 = try? await target.capture(Target.shell("command -v docker-compose"))
            if let v1, !v1.stdoutText.isEmpty { return Compose(target: target, flavor: .v1, version: "") }
            throw DockerError.composeMissing(target: target.description)
        }
        for flavor in [ComposeFlavor.v2, .v1] {
            let probe = Command(argv: flavor.argv + ["version", "--short"], timeout: .seconds(30))
            // Any failure (no plugin, no program, an old docker that knows no `compose`) means "not this one".
            guard let output = try? await target.capture(probe) else { continue }
            let version = output.stdoutText.trimmed(of: " \t\r\n")
            if !version.isEmpty {
                return Compose(target: target, flavor: flavor, version: version)
            }
        }
        throw DockerError.composeMissing(target: target.description)
    }

    /// The command `compose -p PROJECT -f FILE ARGS…` for this flavor, with `environment` set for it.
    ///
    /// It is not wrapped for the target: run it with `target.capture(_:)` (on a remote target the
    /// environment then travels as `env K=V`, see `SSHConnection.wrap(_:)`).
    public func command(project: String, file: String, environment: [String: String], _ arguments: [String])
        -> Command
    {
        Command(
            argv: flavor.argv + ["-p", project, "-f", file] + arguments, environment: environment.mapValues { $0 })
    }

    /// Checks a compose file (`config -q`); a file Compose rejects throws ``DockerError/composeFile(file:reason:)``.
    public func validate(file: String, environment: [String: String]) async throws {
        // No -p: `config` only reads the file, so the project name does not matter.
        let check = Command(
            argv: flavor.argv + ["-f", file, "config", "-q"], environment: environment.mapValues { $0 })
        do {
            try await target.capture(check)
        } catch let error as CommandError {
            let classified = DockerError.classify(error, target: target)
            guard case .command = classified else { throw classified }
            throw DockerError.composeFile(file: file, reason: Self.firstErrorLine(error))
        }
    }

    /// Starts the project's containers in the background from images already present (no builds), and
    /// removes containers of services no longer in the file.
    public func up(project: String, file: String, environment: [String: String], services: [String] = [])
        async throws
    {
        var arguments = ["up", "-d", "--no-build", "--remove-orphans"]
        // v1 colors its log prefixes even when not on a terminal.
        if flavor == .v1 { arguments.append("--no-color") }
        try await run(command(project: project, file: file, environment: environment, arguments + services))
    }

    /// Stops the project's containers, giving each `timeout` seconds before SIGKILL.
    public func stop(project: String, file: String, environment: [String: String], timeout: Int) async throws {
        try await run(command(project: project, file: file, environment: environment, ["stop", "-t", String(timeout)]))
    }

    /// Removes the project's containers and networks; volumes are kept (they hold the data).
    /// - Parameter timeout: seconds the containers get between SIGTERM and SIGKILL (Compose's default is 10).
    public func down(project: String, file: String, environment: [String: String], timeout: Int? = nil) async throws {
        var arguments = ["down", "--remove-orphans"]
        if let timeout { arguments += ["--timeout", String(timeout)] }
        try await run(command(project: project, file: file, environment: environment, arguments))
    }

    /// Runs a one-off command in a new container of `service` (no dependencies started), removed after.
    ///
    /// For hooks such as migrations, run in the image about to be deployed. A non-zero exit throws.
    public func run(
        project: String, file: String, environment: [String: String], service: String, command arguments: [String]
    ) async throws -> CapturedOutput {
        // -T: no pseudo-terminal, since nobody types into it and v1 would otherwise try to allocate one.
        try await run(
            command(project: project, file: file, environment: environment,
                    ["run", "--rm", "--no-deps", "-T", service] + arguments))
    }

    /// Runs a compose command on the target, turning its ``CommandError`` into a ``DockerError``.
    @discardableResult
    private func run(_ command: Command) async throws -> CapturedOutput {
        do {
            return try await target.capture(command)
        } catch let error as CommandError {
            throw DockerError.classify(error, target: target)
        }
    }

    /// The first line of a Compose complaint, with the next one when it holds the detail or the position:
    /// `The Compose file … is invalid because: services.app.ports contains an invalid type…`,
    /// `yaml.parser.ParserError: while parsing a flow sequence in "f.yml", line 3, column 12`.
    static func firstErrorLine(_ error: CommandError) -> String {
        let lines = error.stderrTail.map { $0.trimmed(of: " \t\r\n") }.filter { !$0.isEmpty }
        guard let first = lines.first else { return error.reason }
        if lines.count > 1, first.hasSuffix(":") || lines[1].hasPrefix("in ") { return first + " " + lines[1] }
        return first
    }
}
