/// 8. `/opt/<app>/{data,config,backups,logs}` owned by the deploy user; `config` (secrets) 0700.
public struct AppDirectoriesStep: SetupStep {
    public var name: String { "app directories" }
    public init() {}

    public func run(_ context: SetupContext) async throws -> StepResult {
        guard let app = context.settings.app else {
            return StepResult(step: name, status: .skipped, notes: ["no --app (or app: in opskit.yml)"])
        }
        var log = StepLog(step: name)
        let user = context.settings.user
        let base = "/opt/\(app)"
        try await context.ensureDirectory(base, mode: 0o755, owner: user, group: user, log: &log)
        for (sub, mode) in [("data", 0o755), ("config", 0o700), ("backups", 0o750), ("logs", 0o755)] as [(String, UInt32)] {
            try await context.ensureDirectory("\(base)/\(sub)", mode: mode, owner: user, group: user, log: &log)
        }
        return log.finish()
    }
}
