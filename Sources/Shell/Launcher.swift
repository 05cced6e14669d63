#if canImport(Glibc)
import Glibc
#endif
import Subprocess
import SystemPackage

/// How one launched process ended, what its stderr ended with, and what the caller's body produced.
struct Launched<Value: Sendable>: Sendable {
    var termination: Termination
    var stderr: OutputTail
    var value: Value
}

/// Starts one process through swift-subprocess in its own process group, drains its stderr into a bounded tail,
/// and hands its stdout to a body; every entry point of ``Runner`` goes through here.
enum Launcher {
    static func launch<Input: InputProtocol, Output: OutputProtocol, Value: Sendable>(
        _ command: Command,
        input: Input,
        output: Output,
        watchdog: Watchdog,
        stderrCapacity: Int,
        teeStderr: Bool = false,
        onSpawn: @Sendable () -> Void = {},
        body: (Execution<Input, Output, SequenceOutput>) async throws -> Value
    ) async throws -> Launched<Value> {
        guard let program = command.argv.first, !program.isEmpty else {
            throw CommandError(command: command.description, termination: nil, reason: "has an empty argv")
        }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        var environment = Environment.inherit
        if !command.environment.isEmpty {
            var changes: [Environment.Key: String?] = [:]
            for (name, value) in command.environment { changes[Environment.Key(stringLiteral: name)] = value }
            environment = environment.updating(changes)
        }
        var options = PlatformOptions()
        // 0: the child leads a new group (pgid = its pid), so a timeout can reach everything it starts.
        options.processGroupID = 0
        // When our task is cancelled swift-subprocess tears down; make that reach the group too.
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: command.killGrace)]

        let result: ExecutionResult<(value: Value, stderr: OutputTail), Output, SequenceOutput>
        do {
            result = try await Subprocess.run(
                executable,
                arguments: Arguments(Array(command.argv.dropFirst())),
                environment: environment,
                workingDirectory: command.workingDirectory.map { FilePath($0) },
                platformOptions: options,
                input: input,
                output: output,
                error: .sequence
            ) { execution in
                let pgid = execution.processIdentifier.value
                watchdog.register(pgid)
                onSpawn()
                async let stderr = drain(execution.standardError, capacity: stderrCapacity, tee: teeStderr)
                let value: Value
                do {
                    value = try await body(execution)
                } catch {
                    // The body gave up (a callback threw, the caller was cancelled): stop the whole group now,
                    // or the stderr drain would wait for a process nobody is listening to.
                    ProcessGroup.signal(pgid, SIGKILL)
                    throw error
                }
                return (value, try await stderr)
            }
        } catch let error as SubprocessError {
            throw CommandError(notStarted: command, error)
        }
        let termination: Termination =
            switch result.terminationStatus {
            case .exited(let code): .exited(code)
            case .signaled(let signal): .signaled(signal)
            }
        return Launched(termination: termination, stderr: result.closureResult.stderr, value: result.closureResult.value)
    }

    /// Reads stderr to the end, keeping only a tail; with `tee`, also passes it through to our own stderr.
    private static func drain(_ sequence: SubprocessOutputSequence, capacity: Int, tee: Bool) async throws
        -> OutputTail
    {
        var tail = OutputTail(capacity: capacity)
        for try await chunk in sequence {
            chunk.withUnsafeBytes { bytes in
                tail.append(bytes)
                if tee { writeAll(STDERR_FILENO, bytes) }
            }
        }
        return tail
    }

    private static func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            // Our own stderr is gone or broken: keep draining the child anyway, so it is never blocked.
            guard written > 0 else { return }
            offset += written
        }
    }
}

extension CommandError {
    /// The error for a command swift-subprocess could not start.
    init(notStarted command: Command, _ error: SubprocessError) {
        let program = command.argv.first ?? ""
        let reason: String
        if error.code == .executableNotFound {
            reason = program.contains("/") ? "could not be started: \(program) does not exist or is not executable"
                : "could not be started: \(program) not found in PATH"
        } else if error.code == .failedToChangeWorkingDirectory {
            reason = "could not be started: cannot change to directory \(command.workingDirectory ?? "")"
        } else {
            reason = "could not be started: \(error)"
        }
        self.init(command: command.description, termination: nil, reason: reason)
    }
}
