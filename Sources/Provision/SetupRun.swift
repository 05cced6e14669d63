import OpsCore
import Shell

/// One run of setup-vps against one server: gather facts, then each step in order; the first failure stops
/// the run (later steps depend on earlier ones: no firewall before SSH is known, no hardening without a user).
public struct SetupRun: Sendable {
    public static let steps: [any SetupStep] = [
        PackagesStep(), DeployUserStep(), DockerStep(), FirewallStep(), SSHHardeningStep(), Fail2banStep(),
        SystemStep(), AppDirectoriesStep(), SchedulesStep(),
    ]

    public let host: ProvisionHost
    public let settings: SetupSettings
    public let check: Bool
    public let loginProbe: (@Sendable (String) async -> String?)?

    public init(host: ProvisionHost, settings: SetupSettings, check: Bool,
                loginProbe: (@Sendable (String) async -> String?)?) {
        self.host = host
        self.settings = settings
        self.check = check
        self.loginProbe = loginProbe
    }

    /// Runs the steps, calling `onStep` as each one ends (for progress on a terminal).
    public func run(onStep: @Sendable (StepResult) -> Void = { _ in }) async -> SetupReport {
        var report = SetupReport(host: host.name, check: check)
        let facts: HostFacts
        do {
            facts = try await HostFacts.gather(on: host)
        } catch {
            report.error = Self.message(error)
            return report
        }
        report.facts = facts
        let context = SetupContext(host: host, facts: facts, settings: settings, check: check, loginProbe: loginProbe)
        for step in Self.steps {
            let result: StepResult
            do {
                result = try await step.run(context)
            } catch {
                result = StepResult(step: step.name, status: .failed, error: Self.message(error))
            }
            report.results.append(result)
            onStep(result)
            if result.status == .failed {
                report.notRun = Self.steps.drop { $0.name != step.name }.dropFirst().map(\.name)
                break
            }
        }
        return report
    }

    static func message(_ error: any Error) -> String {
        if let setup = error as? SetupError { return Redactor.redact(setup.description) }
        if let command = error as? CommandError {
            if command.isSSHConnectionFailure {
                return "lost the SSH connection: \(Redactor.redact(command.description))"
            }
            return Redactor.redact(command.description)
        }
        return Redactor.redact("\(error)")
    }
}

/// What a run did, step by step, with Ansible's recap.
public struct SetupReport: Sendable {
    public var host: String
    public var check: Bool
    public var facts: HostFacts?
    public var results: [StepResult] = []
    /// Steps after a failure, which did not run.
    public var notRun: [String] = []
    /// Why the run could not start (not root, not Debian, no connection).
    public var error: String?

    public init(host: String, check: Bool) {
        self.host = host
        self.check = check
    }

    public func count(_ status: StepResult.Status) -> Int { results.filter { $0.status == status }.count }

    public var failed: Bool { error != nil || count(.failed) > 0 }

    /// 0 done (or nothing to do), 1 a step failed or the run could not start.
    public var exitCode: Int32 { failed ? 1 : 0 }
}
