import FoundationEssentials
import Logging
import OpsCore
import Shell

/// Sends the monitor's alerts to webhooks (Slack, Discord, JSON, ntfy) and pings a dead-man URL.
///
/// Webhook and ping URLs hold their secret in the path or query, so they are never logged: log lines
/// name the webhook kind or the ping signal only.
public struct MonitorAlerter: Sendable {
    public var webhooks: [Webhook]
    public var policy: AlertPolicy
    let client: HTTPClient

    public init(webhooks: [Webhook], policy: AlertPolicy = AlertPolicy(), client: HTTPClient = HTTPClient()) {
        self.webhooks = webhooks
        self.policy = policy
        self.client = client
    }

    /// Sends `message` to every webhook at once; returns how many accepted it. A failing webhook is
    /// logged, never fatal.
    @discardableResult
    public func send(_ message: AlertMessage, logger: Logger?) async -> Int {
        for change in message.changes { logger?.info("monitor alert: \(change.line)") }
        guard !webhooks.isEmpty else { return 0 }
        return await Notifier(client: client).send(message.notification, to: webhooks, logger: logger)
    }

    /// Tells the dead-man service this run happened: GET `url` when everything is OK, `url/fail` when
    /// not (healthchecks.io's convention). Returns whether the service answered 2xx; failures are logged.
    @discardableResult
    public func ping(url: String, ok: Bool, logger: Logger?) async -> Bool {
        await DeadManPing(url: url, client: client).send(ok ? .success : .fail, logger: logger)
    }

    /// One run's alerting on an already loaded state: evaluates the report, sends what there is to say, and
    /// returns the state to save. When no webhook accepted a message, its checks keep their earlier alert
    /// state so the next run tries again (see ``AlertEngine/undelivered(_:previous:evaluated:)``).
    public func process(_ report: MonitorReport, state: AlertState, now: Date, logger: Logger?) async
        -> (messages: [AlertMessage], newState: AlertState)
    {
        let (messages, evaluated) = AlertEngine.evaluate(report: report, state: state, policy: policy, now: now)
        var next = evaluated
        for message in messages {
            let accepted = await send(message, logger: logger)
            if !webhooks.isEmpty && accepted == 0 {
                logger?.warning("no webhook accepted the monitor alert; it will be sent again on the next run")
                next = AlertEngine.undelivered(message, previous: state, evaluated: next)
            }
        }
        return (messages, next)
    }

    /// One run's alerting with the state file: load `store` (a corrupt file is moved aside), ``process``,
    /// then save. `restarts`, when given, replaces the container restart counts kept in the state.
    @discardableResult
    public func run(_ report: MonitorReport, store: AlertStateStore, now: Date, restarts: [String: Int]? = nil,
                    logger: Logger?) async throws -> [AlertMessage] {
        var state = store.load(now: now, logger: logger)
        if let restarts { state.restarts = restarts }
        let (messages, next) = await process(report, state: state, now: now, logger: logger)
        try store.save(next)
        return messages
    }
}
