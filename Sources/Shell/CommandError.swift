#if canImport(Glibc)
import Glibc
#endif

/// A command that did not succeed: it exited with a code not allowed, was killed, timed out, or never started.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    /// The failing command, `sh`-quoted with secrets masked.
    public var command: String
    /// How it ended; `nil` when it could not be started.
    public var termination: Termination?
    /// Whether it was stopped because its timeout passed.
    public var timedOut: Bool
    /// The last (at most 10) lines it wrote to stderr, secrets masked.
    public var stderrTail: [String]
    /// For a pipeline, the 0-based index of the first stage that failed; `nil` otherwise.
    public var stage: Int?
    /// For a pipeline, the whole pipeline (`a | b | c`), quoted and masked; `nil` otherwise.
    public var pipeline: String?
    /// Whether stdout grew past the capture limit (the process was then killed).
    public var outputLimitExceeded: Bool
    /// What went wrong, in a few words: `exited with 2`, `not found in PATH`, `timed out after 5s; killed by SIGTERM`.
    public var reason: String

    public init(
        command: String, termination: Termination?, timedOut: Bool = false, stderrTail: [String] = [],
        stage: Int? = nil, pipeline: String? = nil, outputLimitExceeded: Bool = false, reason: String
    ) {
        self.command = command
        self.termination = termination
        self.timedOut = timedOut
        self.stderrTail = stderrTail
        self.stage = stage
        self.pipeline = pipeline
        self.outputLimitExceeded = outputLimitExceeded
        self.reason = reason
    }

    /// One line: "`cmd` exited with 2: <last stderr line>"; a pipeline stage is named by index.
    public var description: String {
        var line = "`\(command)` \(reason)"
        if let stage { line = "pipeline stage \(stage) " + line }
        if let last = stderrTail.last(where: { !$0.isEmpty }) {
            line += ": " + last
        }
        // A one-line contract: stderr lines can carry stray carriage returns.
        return line.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" }
    }
}

extension CommandError {
    /// Builds the error for a command that ran and ended in a way it does not allow.
    ///
    /// `timeout` and `grace` default to the command's own; a pipeline passes the ones it enforced.
    init(
        command: Command, termination: Termination, timedOut: Bool, stderrTail: [String],
        timeout: Duration? = nil, grace: Duration? = nil
    ) {
        var reason = termination.description
        if timedOut, let timeout = timeout ?? command.timeout {
            reason = "timed out after \(timeout.shortDescription); " + termination.description
            if termination == .signaled(SIGKILL) {
                reason += " after \((grace ?? command.killGrace).shortDescription) grace"
            }
        }
        self.init(
            command: command.description, termination: termination, timedOut: timedOut, stderrTail: stderrTail,
            reason: reason)
    }
}
