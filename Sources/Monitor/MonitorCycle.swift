import FoundationEssentials
import Logging
import OpsCore

/// One run as cron or `--watch` does it: the checks, then what the flags ask for — the state file (container
/// restart counts, and alert state with `alert`), notifications, the Prometheus textfile, the dead-man ping.
///
/// A failure of one of those extras is logged in one line and never hides the report; a textfile or state
/// file that cannot be written makes the run UNKNOWN at least, so cron's exit code shows it.
public struct MonitorCycle: Sendable {
    public var settings: MonitorSettings
    public var environment: [String: String]
    public var stateDirectory: String
    public var alert: Bool
    public var prometheus: String?
    public var logger: Logger
    /// Prefix for /proc and /var/run (tests).
    public var root: String

    public init(settings: MonitorSettings, environment: [String: String], stateDirectory: String, alert: Bool,
                prometheus: String?, logger: Logger, root: String = "") {
        self.settings = settings
        self.environment = environment
        self.stateDirectory = stateDirectory
        self.alert = alert
        self.prometheus = prometheus
        self.logger = logger
        self.root = root
    }

    public func run(now: @Sendable () -> Date = { Date() }) async -> MonitorReport {
        let store = AlertStateStore(stateDirectory: stateDirectory)
        var state = store.load(now: now(), logger: logger)
        let runner = MonitorRunner(settings: settings, environment: environment, root: root)
        var (report, restarts) = await runner.run(previousRestarts: state.restarts)
        state.restarts = restarts
        if alert {
            let alerter = MonitorAlerter(webhooks: settings.webhooks,
                                         policy: AlertPolicy(failuresBeforeAlert: settings.alertAfter, reminder: settings.reminder))
            state = await alerter.process(report, state: state, now: now(), logger: logger).newState
        }
        do {
            try store.save(state)
        } catch {
            logger.error("monitor: \(error); alert state and restart counts were not kept — fix the state directory's permissions")
            report.results.append(.unknown(id: "monitor:state", check: "monitor", "cannot save \(store.path): \(error)"))
        }
        if let prometheus {
            do {
                try report.writePrometheus(to: prometheus)
            } catch {
                logger.error("monitor: \(error); the previous textfile (if any) is unchanged")
                report.results.append(.unknown(id: "monitor:prometheus", check: "monitor", "cannot write \(prometheus): \(error)"))
            }
        }
        if let ping = settings.ping {
            await DeadManPing(url: ping).send(report.state == .ok ? .success : .fail, logger: logger)
        }
        return report
    }
}
