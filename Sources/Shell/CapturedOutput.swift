/// What a finished process wrote, and how it ended.
public struct CapturedOutput: Sendable {
    /// Everything written to stdout (never truncated: over the limit the run throws instead).
    public var stdout: [UInt8]
    /// What was written to stderr; when stderr outgrows the limit only its last `limit` bytes are kept.
    public var stderr: [UInt8]
    /// How the process (for a pipeline: its last stage) ended.
    public var termination: Termination

    public init(stdout: [UInt8], stderr: [UInt8], termination: Termination) {
        self.stdout = stdout
        self.stderr = stderr
        self.termination = termination
    }

    /// stdout decoded as UTF-8 with one trailing newline removed, like `$(…)` in a shell.
    public var stdoutText: String {
        var text = String(decoding: stdout, as: UTF8.self)
        if text.hasSuffix("\r\n") {
            text.removeLast()  // "\r\n" is one Character in Swift; removing it drops both bytes.
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        return text
    }

    /// stderr decoded as UTF-8.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
