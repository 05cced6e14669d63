#if canImport(Glibc)
import Glibc
#endif
import Subprocess

/// Runs ``Command``s: throws ``CommandError`` on a disallowed exit, a signal, a timeout, or a missing program.
///
/// Every process starts in its own process group, so a timeout (SIGTERM, then SIGKILL after
/// ``Command/killGrace``) reaches its descendants too. stdout and stderr are always drained concurrently.
public struct Runner: Sendable {
    /// How much stderr is kept for error messages by ``run(_:)`` and ``lines(_:_:)``.
    static let stderrTailBytes = 64 << 10

    public init() {}

    /// Runs with our stdin and stdout; stderr is passed through to ours as it arrives and its tail kept for errors.
    @discardableResult
    public func run(_ command: Command) async throws -> Termination {
        let watchdog = Watchdog(timeout: command.timeout, grace: command.killGrace)
        let launched = try await watchdog.supervise {
            try await Launcher.launch(
                command, input: .currentStandardInput, output: .currentStandardOutput, watchdog: watchdog,
                stderrCapacity: Self.stderrTailBytes, teeStderr: true
            ) { _ in () }
        }
        try Self.check(command, launched, timedOut: watchdog.fired)
        return launched.termination
    }

    /// Runs with stdin from `/dev/null` and collects stdout and stderr.
    ///
    /// - Parameter limit: the most stdout bytes accepted; past it the process is killed and the call throws
    ///   (stdout is never silently cut). stderr keeps its last `limit` bytes.
    public func capture(_ command: Command, limit: Int = 16 << 20) async throws -> CapturedOutput {
        let watchdog = Watchdog(timeout: command.timeout, grace: command.killGrace)
        let launched = try await watchdog.supervise {
            try await Launcher.launch(
                command, input: .none, output: .sequence, watchdog: watchdog, stderrCapacity: limit
            ) { execution in
                try await Self.collect(execution.standardOutput, limit: limit, pgid: execution.processIdentifier.value)
            }
        }
        guard let stdout = launched.value else {
            throw CommandError(limitExceeded: limit, command: command, launched.termination, launched.stderr)
        }
        try Self.check(command, launched, timedOut: watchdog.fired)
        return CapturedOutput(stdout: stdout, stderr: launched.stderr.bytes, termination: launched.termination)
    }

    /// Runs with stdin from `/dev/null`, calling `onLine` for each stdout line as soon as it is written.
    ///
    /// Lines lose their `\n` (and a `\r` before it); a last line without a newline is delivered too. If
    /// `onLine` throws, the process group is killed and the error is rethrown unchanged.
    @discardableResult
    public func lines(_ command: Command, _ onLine: @Sendable (String) async throws -> Void) async throws
        -> Termination
    {
        let watchdog = Watchdog(timeout: command.timeout, grace: command.killGrace)
        let launched = try await watchdog.supervise {
            try await Launcher.launch(
                command, input: .none, output: .sequence, watchdog: watchdog, stderrCapacity: Self.stderrTailBytes
            ) { execution in
                var splitter = LineSplitter()
                for try await chunk in execution.standardOutput {
                    for line in chunk.withUnsafeBytes({ splitter.feed($0) }) { try await onLine(line) }
                }
                if let last = splitter.finish() { try await onLine(last) }
            }
        }
        try Self.check(command, launched, timedOut: watchdog.fired)
        return launched.termination
    }

    /// Reads a stream to its end, or returns `nil` (after killing the group) once it passes `limit` bytes.
    static func collect(_ stream: SubprocessOutputSequence, limit: Int, pgid: pid_t) async throws -> [UInt8]? {
        var bytes: [UInt8] = []
        for try await chunk in stream {
            guard bytes.count + chunk.count <= limit else {
                // Killing rather than closing our end: a child that ignores SIGPIPE would otherwise run on.
                ProcessGroup.signal(pgid, SIGKILL)
                return nil
            }
            chunk.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Throws when the termination is not allowed for the command (or the deadline fired).
    static func check<Value>(_ command: Command, _ launched: Launched<Value>, timedOut: Bool) throws {
        guard timedOut || !command.allows(launched.termination) else { return }
        throw CommandError(
            command: command, termination: launched.termination, timedOut: timedOut,
            stderrTail: launched.stderr.lastLines())
    }
}

extension CommandError {
    /// The error for stdout outgrowing the capture limit.
    init(limitExceeded limit: Int, command: Command, _ termination: Termination, _ stderr: OutputTail) {
        self.init(
            command: command.description, termination: termination, stderrTail: stderr.lastLines(),
            outputLimitExceeded: true, reason: "wrote more than \(Self.byteCount(limit)) to stdout (the capture limit)")
    }

    static func byteCount(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
