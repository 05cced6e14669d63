import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The built `opskit` running in the background, so a test can wait for a step and then signal it
/// (SIGTERM, SIGINT, SIGKILL) the way a person or a CI runner would.
///
/// stdout and stderr go to files in `outputDirectory`: nothing to drain, and a test can read what was
/// printed so far while the process runs.
public final class OpsKitProcess: Sendable {
    public let pid: pid_t
    public let stdoutFile: String
    public let stderrFile: String
    private let status = Mutex<Int32?>(nil)

    private init(pid: pid_t, stdoutFile: String, stderrFile: String) {
        self.pid = pid
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
    }

    /// `opskit TOOL ARGS…` with the test's environment plus `environment` (nil values unset a variable).
    public static func start(_ tool: String, _ arguments: [String], environment: [String: String?],
                             outputDirectory: String) throws -> OpsKitProcess {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let stdoutFile = "\(outputDirectory)/\(tool)-\(tag).out"
        let stderrFile = "\(outputDirectory)/\(tool)-\(tag).err"

        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            p += 1
        }
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }

        let path = OpsKitBinary.path
        let argv: [UnsafeMutablePointer<CChar>?] = ([path, tool] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for s in argv { free(s) }
            for s in envp { free(s) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        // Whatever the test runner blocks or ignores, the tool starts with default signal handling.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw TestSupportError("posix_spawn \(path) failed: errno \(rc)") }
        return OpsKitProcess(pid: pid, stdoutFile: stdoutFile, stderrFile: stderrFile)
    }

    public var stderr: String { Self.read(stderrFile) }
    public var stdout: String { Self.read(stdoutFile) }

    /// Waits until stderr contains `text`; throws (with what it printed) if it exits first or time runs out.
    public func waitForStderr(containing text: String, timeout: Duration = .seconds(120)) async throws {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if stderr.contains(text) { return }
            if poll() != nil {
                if stderr.contains(text) { return }
                throw TestSupportError("opskit exited (\(exitCode ?? -1)) before printing “\(text)”: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("opskit did not print “\(text)” within \(timeout): \(stderr)")
    }

    public func signal(_ sig: Int32) {
        if status.withLock({ $0 }) == nil { kill(pid, sig) }
    }

    /// Reaps the process and returns its exit code (128+N when signal N ended it); kills it after `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(180)) async throws -> Int32 {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while poll() == nil {
            if clock.now >= end {
                kill(pid, SIGKILL)
                while poll() == nil { try await Task.sleep(for: .milliseconds(20)) }
                throw TestSupportError("opskit did not exit within \(timeout); killed it: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return exitCode ?? -1
    }

    /// The exit code once reaped (128+N for signal N).
    public var exitCode: Int32? {
        status.withLock { $0 }.map { s in s & 0x7f == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f) }
    }

    /// Reaps without blocking; the raw wait status once the process has ended.
    private func poll() -> Int32? {
        status.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { known = raw }
            return known
        }
    }

    /// A whole text file, or "" when it cannot be read.
    public static func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
