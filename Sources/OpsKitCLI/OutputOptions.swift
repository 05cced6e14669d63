import ArgumentParser
import Logging
import Shell

/// The flags every tool shares for where its words go: `--config`, `--json`, `--quiet`, `--verbose`, `--log-format`.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read this opskit.yml instead of ./opskit.yml (or $OPSKIT_CONFIG).",
                                            valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout instead of text.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing when all is well (for cron).")
    var quiet = false

    @Flag(name: [.short, .long], help: "Log every step on stderr.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("How to write log lines on stderr: human or json.", valueName: "format"))
    var logFormat: LogFormat = .human

    var logLevel: Logger.Level { verbose ? .debug : (quiet ? .error : .notice) }
}

extension LogFormat: ExpressibleByArgument {}
