import ArgumentParser
import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The multi-call entry point: `bin/health-check …` and `opskit health-check …` are the same program.
///
/// Every tool is its own `ParsableCommand`; this type only picks one by the name we were called by,
/// and maps argument errors to the tool's own usage exit code (3 for the Monitoring Plugins tools).
public enum OpsKitMain {
    /// Every tool this binary carries, by the name it is installed under in `bin/`.
    public static let toolNames = ["backup-db", "deploy", "health-check", "monitor", "restore", "rollback", "setup-vps", "version-tag"]

    /// The tool installed as `name`. A switch rather than a dictionary of types: building the dictionary
    /// touched every tool's type metadata on each start (~0.25 ms), for the one tool that runs.
    public static func tool(named name: String) -> (any OpsKitTool.Type)? {
        switch name {
        case "health-check": HealthCheckCommand.self
        case "deploy": DeployCommand.self
        case "rollback": RollbackCommand.self
        case "backup-db": BackupCommand.self
        case "restore": RestoreCommand.self
        case "monitor": MonitorCommand.self
        case "setup-vps": SetupCommand.self
        case "version-tag": VersionTagCommand.self
        default: nil
        }
    }

    public static func main(arguments: [String]) async {
        let called = arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "opskit"
        var rest = Array(arguments.dropFirst())
        var toolName = called
        if rest == ["--list-tools"] {
            // For scripts/install: the names to link in bin/.
            print(toolNames.joined(separator: "\n"))
            exit(0)
        }
        if rest == ["--version"] {
            print("opskit \(versionString)")
            exit(0)
        }
        if tool(named: called) == nil {
            // Called as `opskit` (or under an unknown name): the first argument names the tool.
            guard let first = rest.first, tool(named: first) != nil else {
                printOverview(unknown: rest.first.flatMap { $0.hasPrefix("-") ? nil : $0 })
                exit(rest.first == "--help" || rest.first == "-h" || rest.isEmpty ? 0 : 2)
            }
            toolName = first
            rest.removeFirst()
        }
        guard let tool = tool(named: toolName) else { exit(2) }
        let code = await tool.runTool(arguments: rest)
        HTTPClient.finishPreparing() // never exit while libcurl is being loaded on another thread
        exit(code)
    }

    static func printOverview(unknown: String?) {
        if let unknown {
            writeStderr("opskit: unknown tool '\(unknown)'. Run `opskit --help` to list the tools.\n")
            return
        }
        var text = "opskit \(versionString) — run an app on a VPS without losing sleep.\n\n"
        text += "USAGE: opskit <tool> [arguments]   (or call bin/<tool> directly)\n\nTOOLS:\n"
        for name in toolNames {
            let abstract = tool(named: name).map { $0.configuration.abstract } ?? ""
            text += "  \(name.padding(toLength: 14))\(abstract)\n"
        }
        text += "\nRun `opskit <tool> --help` for a tool's options and examples.\n"
        print(text, terminator: "")
    }

    static var versionString: String { OpsKit.version }
}

extension String {
    func padding(toLength n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }
}

func writeStderr(_ text: String) {
    StandardStreams.writeAll(text, to: 2)
}

/// One result line or document on stdout, written straight to the descriptor (`print` costs more at
/// start-up than the whole health check's own logic; callgrind).
func writeStdout(_ text: String) {
    StandardStreams.writeAll(text.hasSuffix("\n") ? text : text + "\n", to: 1)
}
