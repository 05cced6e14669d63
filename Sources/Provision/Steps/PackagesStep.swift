/// 1. `apt-get update`, a non-interactive upgrade, and unattended security upgrades.
public struct PackagesStep: SetupStep {
    public var name: String { "packages" }
    public init() {}

    static let autoUpgrades = """
        // Managed by opskit setup-vps: refresh package lists and install security updates every day.
        APT::Periodic::Update-Package-Lists "1";
        APT::Periodic::Unattended-Upgrade "1";

        """

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        if context.check {
            log.note("package lists not refreshed (--check); upgrades counted from the lists the server has")
        } else {
            try await host.sh(ProvisionHost.aptEnvironment + "apt-get update -q >/dev/null", timeout: .seconds(600))
        }
        let simulated = try await host.sh(ProvisionHost.aptEnvironment + #"apt-get -s -o Debug::NoLocking=1 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= upgrade "$@""#)
        let upgradable = simulated.stdoutText.split(separator: "\n").filter { $0.hasPrefix("Inst ") }
        if !upgradable.isEmpty {
            log.changed("upgraded \(upgradable.count) package\(upgradable.count == 1 ? "" : "s")")
            if !context.check {
                try await host.sh(ProvisionHost.aptEnvironment + #"apt-get upgrade -y -q "$@" >/dev/null"#,
                                  timeout: .seconds(3600))
            }
        }
        try await context.ensurePackages(["unattended-upgrades"], log: &log)
        try await context.ensureFile("/etc/apt/apt.conf.d/20auto-upgrades", Self.autoUpgrades, log: &log)
        return log.finish()
    }
}
