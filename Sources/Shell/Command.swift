/// One program invocation: an argv (never a shell string) plus how to run it and what counts as success.
public struct Command: Sendable, CustomStringConvertible {
    /// The program and its arguments; `argv[0]` is looked up in `PATH` unless it contains `/`.
    public var argv: [String]
    /// Changes to the inherited environment; a `nil` value unsets the variable.
    public var environment: [String: String?]
    /// The directory the program starts in; `nil` keeps ours.
    public var workingDirectory: String?
    /// Exit codes that count as success; anything else throws ``CommandError``.
    public var allowedExitCodes: Set<Int32>
    /// How long the program may run before its whole process group is terminated; `nil` means no limit.
    public var timeout: Duration?
    /// How long a timed-out program gets between SIGTERM and SIGKILL.
    public var killGrace: Duration

    /// Creates a command from its argv written out as separate arguments.
    public init(
        _ argv: String..., environment: [String: String?] = [:], workingDirectory: String? = nil,
        allowedExitCodes: Set<Int32> = [0], timeout: Duration? = nil
    ) {
        self.init(
            argv: argv, environment: environment, workingDirectory: workingDirectory,
            allowedExitCodes: allowedExitCodes, timeout: timeout)
    }

    /// Creates a command from an argv array.
    public init(
        argv: [String], environment: [String: String?] = [:], workingDirectory: String? = nil,
        allowedExitCodes: Set<Int32> = [0], timeout: Duration? = nil
    ) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.allowedExitCodes = allowedExitCodes
        self.timeout = timeout
        self.killGrace = .seconds(5)
    }

    /// The argv as one `sh`-quoted line with secrets masked: safe to print and to paste into a shell.
    public var description: String {
        Redactor.redact(ShellQuote.join(argv))
    }

    /// Whether `termination` counts as success for this command.
    func allows(_ termination: Termination) -> Bool {
        if case .exited(let code) = termination { return allowedExitCodes.contains(code) }
        return false
    }
}
