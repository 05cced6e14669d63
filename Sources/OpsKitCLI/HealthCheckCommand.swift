import ArgumentParser

/// `health-check`: is this URL healthy? Monitoring Plugins exit codes.
struct HealthCheckCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "health-check",
        abstract: "Check that an app's health endpoint answers and says it is healthy."
    )
    static var usageExitCode: Int32 { 3 }

    @Argument(help: "URLs to check (default: health.url from opskit.yml, or HEALTH_URL).")
    var urls: [String] = []

    mutating func execute() async -> Int32 {
        writeStderr("health-check: the checking engine lands in the next commit of this series\n")
        return 3
    }
}
