import ArgumentParser

/// A tool this binary carries: an argument-parser command that knows its own exit codes.
public protocol OpsKitTool: AsyncParsableCommand {
    /// Exit code for bad arguments or configuration: 2 for most tools, 3 (UNKNOWN) for the monitoring ones.
    static var usageExitCode: Int32 { get }
    /// Runs the tool and returns its exit code; errors never escape as stack traces.
    mutating func execute() async -> Int32
    /// Says in one line what was wrong with the arguments (stderr by default).
    static func reportUsageError(_ message: String)
    /// Work that can run while the arguments are parsed (on another thread); nothing by default.
    static func prepare()
    /// Runs the tool when `arguments` are in a plain form it parses itself, nil otherwise (the default):
    /// for tools run every minute, whose whole job costs less than argument-parser's set-up.
    static func runQuickly(_ arguments: [String]) async -> Int32?
}

extension OpsKitTool {
    public static var usageExitCode: Int32 { 2 }

    public static func prepare() {}

    public static func runQuickly(_ arguments: [String]) async -> Int32? { nil }

    public static func reportUsageError(_ message: String) {
        writeStderr("\(configuration.commandName ?? "opskit"): \(message)\n")
    }

    /// Parses `arguments`, prints help/version/usage errors the argument-parser way, then executes.
    static func runTool(arguments: [String]) async -> Int32 {
        prepare()
        if let code = await runQuickly(arguments) { return code }
        do {
            var command = try parseAsRoot(arguments)
            guard var tool = command as? Self else {
                // A subcommand of a tool (none yet) runs the argument-parser way.
                if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
                return 0
            }
            return await tool.execute()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            // One line, not the usage block: cron mails and monitoring show the first line only.
            let name = configuration.commandName ?? "opskit"
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            reportUsageError("\(message) (see `\(name) --help`)")
            return usageExitCode
        }
    }
}
