#if canImport(Glibc)
import Glibc
#endif
import Subprocess
import SystemPackage

extension Runner {
    /// Runs `a | b | c` with real OS pipes, all stages at once, and collects the last stage's stdout.
    ///
    /// pipefail semantics: if any stage fails, ``CommandError/stage`` names the first failing stage.
    /// Exception, as in a shell: a stage killed by SIGPIPE is not a failure by itself, because a later
    /// stage chose to stop reading (`yes | head -1`). If that later stage failed, it is the one named.
    ///
    /// The first stage reads `/dev/null`. Each stage runs in its own process group; the smallest
    /// ``Command/timeout`` of any stage applies to the whole pipeline (every group is stopped), with the
    /// largest ``Command/killGrace``. ``CapturedOutput/stderr`` is every stage's stderr in stage order.
    public func pipeline(_ commands: [Command], limit: Int = 16 << 20) async throws -> CapturedOutput {
        guard let lastCommand = commands.last else {
            throw CommandError(command: "", termination: nil, reason: "is an empty pipeline")
        }
        let timeout = commands.compactMap(\.timeout).min()
        let grace = commands.map(\.killGrace).max() ?? lastCommand.killGrace
        let watchdog = Watchdog(timeout: timeout, grace: grace)
        let pipes = try (0..<(commands.count - 1)).map { _ in try OSPipe() }
        let firstInput = try OwnedDescriptor.devNull()
        defer {
            firstInput.close()
            for pipe in pipes {
                pipe.read.close()
                pipe.write.close()
            }
        }

        let outcomes = try await watchdog.supervise {
            try await withThrowingTaskGroup(of: (Int, StageOutcome).self) { group in
                for (index, command) in commands.enumerated() {
                    let input = index == 0 ? firstInput : pipes[index - 1].read
                    let output = index < pipes.count ? pipes[index].write : nil
                    group.addTask {
                        let outcome = try await Self.runStage(
                            command, input: input, output: output, watchdog: watchdog, limit: limit)
                        return (index, outcome)
                    }
                }
                var outcomes = [StageOutcome?](repeating: nil, count: commands.count)
                for try await (index, outcome) in group { outcomes[index] = outcome }
                return outcomes.compactMap { $0 }
            }
        }

        let pipeline = commands.map(\.description).joined(separator: " | ")
        let timedOut = watchdog.fired
        for (index, outcome) in outcomes.enumerated() {
            let command = commands[index]
            switch outcome {
            case .notStarted(var error):
                error.stage = index
                error.pipeline = pipeline
                throw error
            case .ran(let launched):
                if index == commands.count - 1, launched.value == nil {
                    var error = CommandError(limitExceeded: limit, command: command, launched.termination, launched.stderr)
                    error.stage = index
                    error.pipeline = pipeline
                    throw error
                }
                let brokenPipe = index < commands.count - 1 && launched.termination == .signaled(SIGPIPE)
                let failed = !command.allows(launched.termination) && !brokenPipe
                // After a timeout every stage was stopped: name the first one that did not end cleanly.
                guard failed || (timedOut && index == commands.count - 1) else { continue }
                var error = CommandError(
                    command: command, termination: launched.termination, timedOut: timedOut,
                    stderrTail: launched.stderr.lastLines(), timeout: timeout, grace: grace)
                error.stage = index
                error.pipeline = pipeline
                throw error
            }
        }
        guard case .ran(let last) = outcomes.last, let stdout = last.value else {
            throw CommandError(command: pipeline, termination: nil, reason: "lost its last stage")  // unreachable
        }
        let stderr = outcomes.flatMap { outcome -> [UInt8] in
            if case .ran(let launched) = outcome { return launched.stderr.bytes }
            return []
        }
        return CapturedOutput(stdout: stdout, stderr: stderr, termination: last.termination)
    }

    /// One stage: reads `input`, writes `output` (or, for the last stage, to us); parent copies closed at spawn.
    private static func runStage(
        _ command: Command, input: OwnedDescriptor, output: OwnedDescriptor?, watchdog: Watchdog, limit: Int
    ) async throws -> StageOutcome {
        // Our copies of the pipe ends must go as soon as the child has its own: a reader sees EOF only when
        // every writer is closed, and a writer gets SIGPIPE only when every reader is.
        let release: @Sendable () -> Void = {
            input.close()
            output?.close()
        }
        defer { release() }
        let stdin = FileDescriptorInput.fileDescriptor(
            FileDescriptor(rawValue: input.rawValue), closeAfterSpawningProcess: false)
        do {
            if let output {
                let launched = try await Launcher.launch(
                    command, input: stdin,
                    output: .fileDescriptor(FileDescriptor(rawValue: output.rawValue), closeAfterSpawningProcess: false),
                    watchdog: watchdog, stderrCapacity: limit, onSpawn: release
                ) { _ -> [UInt8]? in [] }
                return .ran(launched)
            }
            let launched = try await Launcher.launch(
                command, input: stdin, output: .sequence, watchdog: watchdog, stderrCapacity: limit,
                onSpawn: release
            ) { execution in
                try await collect(execution.standardOutput, limit: limit, pgid: execution.processIdentifier.value)
            }
            return .ran(launched)
        } catch let error as CommandError {
            return .notStarted(error)
        }
    }
}

/// What became of one pipeline stage.
private enum StageOutcome: Sendable {
    /// It ran; the value is the collected stdout of the last stage (`nil`: over the limit), `[]` for the others.
    case ran(Launched<[UInt8]?>)
    case notStarted(CommandError)
}
