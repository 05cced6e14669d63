import Shell
#if canImport(Glibc)
import Glibc
#endif

/// Where a tool's commands run: this machine, or one host over a single multiplexed SSH connection.
///
/// Tools speak to a `Target` and never care which: the same `docker compose up` runs here or on the VPS.
/// Remote file access needs only POSIX `sh` there (nothing of ours is installed on the VPS).
public struct Target: Sendable, CustomStringConvertible {
    /// The SSH connection, or nil for this machine.
    public let connection: SSHConnection?
    private let runner = Runner()

    public static let local = Target(connection: nil)

    public static func ssh(_ connection: SSHConnection) -> Target { Target(connection: connection) }

    private init(connection: SSHConnection?) {
        self.connection = connection
    }

    public var isLocal: Bool { connection == nil }

    public var description: String { connection.map { "\($0.host)" } ?? "this machine" }

    /// The command as it must be started from here: unchanged, or wrapped in `ssh`.
    public func command(_ command: Command) -> Command {
        connection.map { $0.wrap(command) } ?? command
    }

    /// Runs a command on the target and collects its output (see ``Runner/capture(_:limit:)``).
    @discardableResult
    public func capture(_ command: Command, limit: Int = 16 << 20) async throws -> CapturedOutput {
        try await runner.capture(self.command(command), limit: limit)
    }

    /// Runs a command on the target, calling `onLine` for each line of its stdout.
    @discardableResult
    public func lines(_ command: Command, _ onLine: @Sendable (String) async throws -> Void) async throws
        -> Termination
    {
        try await runner.lines(self.command(command), onLine)
    }

    /// `sh -c SCRIPT sh ARGS…` on the target: the script is fixed text, the arguments arrive as "$1"….
    public static func shell(_ script: String, _ arguments: [String] = [], allowedExitCodes: Set<Int32> = [0])
        -> Command
    {
        Command(argv: ["sh", "-c", script, "sh"] + arguments, allowedExitCodes: allowedExitCodes)
    }

    /// The bytes of a file on the target, or nil when it does not exist.
    public func readFile(_ path: String) async throws -> [UInt8]? {
        if isLocal {
            guard access(path, F_OK) == 0 else { return nil }
            return try await capture(Command("cat", "--", path)).stdout
        }
        let out = try await capture(Self.shell(#"[ -e "$1" ] || exit 3; cat -- "$1""#, [path], allowedExitCodes: [0, 3]))
        return out.termination == .exited(3) ? nil : out.stdout
    }

    /// Replaces a file on the target atomically: a reader sees the old or the new bytes, never a mix.
    ///
    /// Locally through ``AtomicFile`` (fsync, rename, fsync dir). Remotely the bytes travel as one quoted
    /// argument (small files only: configuration, journals), are written beside the file, synced and renamed.
    public func writeFile(_ path: String, _ text: String, permissions: UInt32 = 0o644) async throws {
        if isLocal {
            try AtomicFile.write(text, to: path, permissions: permissions)
            return
        }
        let script = #"""
        set -e
        tmp="$1.opskit-tmp.$$"
        trap 'rm -f "$tmp"' EXIT
        umask 077
        printf '%s' "$2" > "$tmp"
        chmod "$3" "$tmp"
        sync "$tmp" 2>/dev/null || sync
        mv -f "$tmp" "$1"
        trap - EXIT
        sync "$(dirname "$1")" 2>/dev/null || true
        """#
        try await capture(Self.shell(script, [path, text, String(permissions, radix: 8)]))
    }

    /// A local port that reaches `port` on the target's loopback: the same port here, a forward through the
    /// SSH master for a remote host (a new release listens on the VPS's 127.0.0.1, out of reach otherwise).
    public func localPort(reaching port: Int) async throws -> Int {
        guard let connection else { return port }
        return try await connection.forward(remotePort: port)
    }

    /// Creates a directory (and its parents) on the target.
    public func makeDirectory(_ path: String) async throws {
        try await capture(Command("mkdir", "-p", "--", path))
    }
}
