#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One child process whose stdin and stdout the caller drives synchronously, chunk by chunk, from any thread.
///
/// ``Runner`` is async and collects output in memory; this is for streams too big for memory that run on
/// threads of their own (the backup pipeline): `pg_dump`'s stdout into a sink, a source into `pg_restore`'s stdin.
/// The child leads its own process group and starts with default signal handling; its stderr is drained on a
/// thread into a bounded tail, so a chatty child never blocks on it. ``wait()`` reaps it and throws
/// ``CommandError`` (with that tail, secrets masked) unless it exited with an allowed code. A process dropped
/// without ``wait()`` is killed (its whole group) and reaped. ``Command/timeout`` is not applied: call ``kill()``.
///
/// One thread at a time drives it; the exception is ``kill()``, which any thread may call.
public final class StreamingProcess: @unchecked Sendable {
    /// Where the child's stdin comes from.
    public enum Input: Sendable {
        /// `/dev/null`.
        case none
        /// A pipe fed by ``writeStdin(_:)`` and ended by ``closeStdin()``.
        case pipe
    }

    /// Where the child's stdout goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case discard
        /// A pipe read by ``readStdout(into:)``; what is unread at ``wait()`` is dropped (the child may get SIGPIPE).
        case pipe
        /// Drained on a thread into memory; ``capturedStdout`` after ``wait()``. Past `limit` bytes the child is
        /// killed and ``wait()`` throws. For output that must be read while the caller is busy writing stdin.
        case capture(limit: Int)
    }

    public let command: Command
    /// The child's pid, which is also its process group id.
    public let processID: Int32

    private var stdinPipe: OwnedDescriptor?
    private var stdoutPipe: OwnedDescriptor?
    private let stderrDrain: Drain
    /// With ``Output/capture(limit:)``: the drain and its limit.
    private let stdoutDrain: Drain?
    private var termination: Termination?
    /// Set once the child is reaped, for ``kill()`` on other threads.
    private let reaped = Atomic<Bool>(false)

    /// How much of stderr is kept for the error message.
    static let stderrTailBytes = 64 << 10

    private init(
        command: Command, pid: Int32, stdin: OwnedDescriptor?, stdout: OwnedDescriptor?, stderrDrain: Drain,
        stdoutDrain: Drain?
    ) {
        self.command = command
        processID = pid
        stdinPipe = stdin
        stdoutPipe = stdout
        self.stderrDrain = stderrDrain
        self.stdoutDrain = stdoutDrain
    }

    deinit {
        if termination == nil {
            ProcessGroup.signal(processID, SIGKILL)
            closeDescriptors()
            _ = reap()
            stdoutDrain?.join()
            stderrDrain.join()
        }
    }

    /// Starts `command`. Throws ``CommandError`` (no termination) when it cannot be started.
    public static func spawn(_ command: Command, stdin: Input = .none, stdout: Output = .pipe) throws
        -> StreamingProcess
    {
        guard let program = command.argv.first, !program.isEmpty else {
            throw CommandError(command: command.description, termination: nil, reason: "has an empty argv")
        }
        let stdinPipe = stdin == .pipe ? try OSPipe() : nil
        let stdoutPipe: OSPipe?
        if case .discard = stdout { stdoutPipe = nil } else { stdoutPipe = try OSPipe() }
        let stderrPipe = try OSPipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears FD_CLOEXEC on the target; every other descriptor of ours is close-on-exec.
        if let stdinPipe {
            posix_spawn_file_actions_adddup2(&actions, stdinPipe.read.rawValue, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let stdoutPipe {
            posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write.rawValue, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write.rawValue, 2)
        if let directory = command.workingDirectory {
            guard addChdir(&actions, directory) else {
                throw CommandError(
                    command: command.description, termination: nil,
                    reason: "could not be started: this C library cannot start a process in \(directory)")
            }
        }

        // The child leads a new group and starts with default signal handling, whatever we block or ignore.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = command.argv.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment(command.environment).map { strdup($0) } + [nil]
        defer {
            for s in argv { free(s) }
            for s in envp { free(s) }
        }
        var pid: pid_t = 0
        // posix_spawnp searches the PATH of our environment, as the shell would.
        let rc = program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        // The child has its own copies now: a reader sees EOF only once every writer is closed.
        stdinPipe?.read.close()
        stdoutPipe?.write.close()
        stderrPipe.write.close()
        guard rc == 0 else {
            let reason: String
            if rc == ENOENT {
                reason = program.contains("/") ? "could not be started: \(program) does not exist"
                    : "could not be started: \(program) not found in PATH"
            } else if rc == EACCES {
                reason = "could not be started: \(program) is not executable"
            } else {
                reason = "could not be started: \(errnoText(rc))"
            }
            throw CommandError(command: command.description, termination: nil, reason: reason)
        }

        var stdoutRead: OwnedDescriptor?
        var stdoutDrain: Drain?
        if let stdoutPipe {
            if case .capture(let limit) = stdout {
                stdoutDrain = Drain(stdoutPipe.read, capacity: limit, keepTail: false, pgid: pid)
            } else {
                stdoutRead = stdoutPipe.read
            }
        }
        let stderrDrain = Drain(stderrPipe.read, capacity: stderrTailBytes, keepTail: true, pgid: pid)
        return StreamingProcess(
            command: command, pid: pid, stdin: stdinPipe?.write, stdout: stdoutRead, stderrDrain: stderrDrain,
            stdoutDrain: stdoutDrain)
    }

    /// Reads what the child wrote to stdout (``Output/pipe``); blocks until some arrives; 0 at its end.
    public func readStdout(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let stdoutPipe else { return 0 }
        while true {
            let n = read(stdoutPipe.rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw CommandError(
                command: command.description, termination: nil, reason: "stdout could not be read: \(errnoText(errno))")
        }
    }

    /// Writes all of `bytes` to the child's stdin (``Input/pipe``), blocking while the pipe is full.
    ///
    /// Returns `false`, without raising SIGPIPE in this process, when the child no longer reads its stdin (it
    /// exited or closed it); ``wait()`` then tells whether that was a failure.
    @discardableResult
    public func writeStdin(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard let stdinPipe else { return false }
        // libpq's way: block SIGPIPE on this thread for the write, and take back one it raised.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        var pending = sigset_t()
        sigpending(&pending)
        let wasPending = sigismember(&pending, SIGPIPE) == 1
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        var offset = 0
        while offset < bytes.count {
            let n = write(stdinPipe.rawValue, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            let code = n < 0 ? errno : EIO
            if code == EPIPE {
                if !wasPending {
                    var now = timespec(tv_sec: 0, tv_nsec: 0)
                    while sigtimedwait(&pipeSignal, nil, &now) < 0 && errno == EINTR {}
                }
                closeStdin()
                return false
            }
            throw CommandError(
                command: command.description, termination: nil, reason: "stdin could not be written: \(errnoText(code))")
        }
        return true
    }

    /// Ends the child's stdin: it reads EOF once it has read what was written.
    public func closeStdin() {
        stdinPipe?.close()
        stdinPipe = nil
    }

    /// Kills the child's whole process group (SIGKILL); ``wait()`` still has to reap it. Safe from any thread.
    public func kill() {
        // Once reaped the pid may belong to someone else.
        guard !reaped.load(ordering: .acquiring) else { return }
        ProcessGroup.signal(processID, SIGKILL)
    }

    /// What ``Output/capture(limit:)`` collected; empty before ``wait()`` returned.
    public private(set) var capturedStdout: [UInt8] = []

    /// The last lines of stderr, secrets masked; complete only after ``wait()``.
    public func stderrLines(_ count: Int = 10) -> [String] { stderrDrain.tail.lastLines(count) }

    /// Closes stdin and unread stdout, reaps the child, and throws ``CommandError`` unless it exited with one
    /// of the command's allowed codes (or the capture limit was passed). Returns how it ended.
    @discardableResult
    public func wait() throws -> Termination {
        let termination: Termination
        if let known = self.termination {
            termination = known
        } else {
            closeDescriptors()
            termination = reap()
            self.termination = termination
            stdoutDrain?.join()
            stderrDrain.join()
            capturedStdout = stdoutDrain?.tail.bytes ?? []
        }
        if let stdoutDrain, stdoutDrain.overflowed {
            throw CommandError(limitExceeded: stdoutDrain.capacity, command: command, termination, stderrDrain.tail)
        }
        guard command.allows(termination) else {
            throw CommandError(
                command: command, termination: termination, timedOut: false, stderrTail: stderrDrain.tail.lastLines())
        }
        return termination
    }

    private func closeDescriptors() {
        closeStdin()
        stdoutPipe?.close()
        stdoutPipe = nil
    }

    private func reap() -> Termination {
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        reaped.store(true, ordering: .releasing)
        // WIFEXITED / WTERMSIG are macros Swift cannot import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// The inherited environment with `changes` applied (a nil value unsets), as `NAME=value` strings.
    static func environment(_ changes: [String: String?]) -> [String] {
        var entries: [String] = []
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if changes[name] == nil { entries.append(text) }
            p += 1
        }
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) {
            if let value = value { entries.append("\(name)=\(value)") }
        }
        return entries
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> CInt

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+); Glibc's module map hides it, so it is looked up.
    private static func addChdir(_ actions: inout posix_spawn_file_actions_t, _ directory: String) -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return false }
        let addchdir = unsafeBitCast(symbol, to: AddChdir.self)
        return addchdir(&actions, directory) == 0
    }
}

/// Reads one descriptor to its end on a thread of its own, keeping a bounded tail (stderr) or a bounded head
/// (captured stdout, where going past the limit kills the process group).
private final class Drain: @unchecked Sendable {
    let capacity: Int
    private let descriptor: OwnedDescriptor
    private let keepTail: Bool
    private let pgid: pid_t
    private let state: Mutex<(tail: OutputTail, overflowed: Bool)>
    private var thread: pthread_t?

    init(_ descriptor: OwnedDescriptor, capacity: Int, keepTail: Bool, pgid: pid_t) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.keepTail = keepTail
        self.pgid = pgid
        state = Mutex((OutputTail(capacity: capacity), false))
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&handle, nil, { raw in
            if let raw { Unmanaged<Drain>.fromOpaque(raw).takeRetainedValue().run() }
            return nil
        }, context)
        if rc == 0 {
            thread = handle
        } else {
            // No thread: drain nothing and let the child see EPIPE rather than block on a full pipe.
            Unmanaged<Drain>.fromOpaque(context).release()
            descriptor.close()
        }
    }

    var tail: OutputTail { state.withLock { $0.tail } }
    var overflowed: Bool { state.withLock { $0.overflowed } }

    func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    private func run() {
        defer { descriptor.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = read(descriptor.rawValue, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if keepTail {
                state.withLock { $0.tail.append(chunk) }
                continue
            }
            total += n
            if total > capacity {
                state.withLock { $0.overflowed = true }
                ProcessGroup.signal(pgid, SIGKILL)
                return
            }
            state.withLock { $0.tail.append(chunk) }
        }
    }
}
