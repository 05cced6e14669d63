import FoundationEssentials
import Logging
import OpsCore
import Shell

/// How many backups in a row failed, kept in the state directory so a run knows about the ones before it.
public struct FailureRecord: Sendable, Equatable, Codable {
    public var consecutiveFailures: Int
    public var lastError: String?
    public var lastFailureAt: Date?
    public var lastSuccessAt: Date?

    public init(consecutiveFailures: Int = 0, lastError: String? = nil, lastFailureAt: Date? = nil, lastSuccessAt: Date? = nil) {
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
        self.lastFailureAt = lastFailureAt
        self.lastSuccessAt = lastSuccessAt
    }
}

/// The consecutive-failure counter: `<state dir>/backup-failures.json`, written atomically.
public struct FailureCounter: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/backup-failures.json"
    }

    /// The record; a missing or unreadable file counts as no failures (the counter must never stop a backup).
    public func load() -> FailureRecord {
        guard let bytes = FileManager.default.contents(atPath: path),
              let record = try? JSONCoding.decoder().decode(FailureRecord.self, from: bytes) else { return FailureRecord() }
        return record
    }

    @discardableResult
    public func recordFailure(_ error: String, at date: Date) -> FailureRecord {
        var record = load()
        record.consecutiveFailures += 1
        record.lastError = Redactor.redact(error)
        record.lastFailureAt = date
        save(record)
        return record
    }

    /// Resets the count; returns how many failures came before this success.
    @discardableResult
    public func recordSuccess(at date: Date) -> Int {
        var record = load()
        let before = record.consecutiveFailures
        record.consecutiveFailures = 0
        record.lastError = nil
        record.lastSuccessAt = date
        save(record)
        return before
    }

    private func save(_ record: FailureRecord) {
        guard let data = try? JSONCoding.encoder().encode(record) else { return }
        try? AtomicFile.write(Array(data) + [0x0A], to: path, permissions: 0o600)
    }
}

/// Tells people and monitors how a backup went: webhooks on failure (and on recovery), and
/// healthchecks.io-style pings (`URL/start`, `URL` on success, `URL/fail`) so a backup that stops
/// running at all is noticed by the monitor, not by us.
public struct BackupAlerts: Sendable {
    public var webhooks: [Webhook]
    public var deadManURL: String?
    public var app: String
    let client: HTTPClient

    public init(webhooks: [Webhook], deadManURL: String?, app: String, client: HTTPClient = HTTPClient()) {
        self.webhooks = webhooks
        self.deadManURL = deadManURL
        self.app = app
        self.client = client
    }

    public typealias Ping = DeadManPing.Signal

    /// Pings the dead-man URL (see ``DeadManPing``); a ping that fails is logged, never fatal. The URL holds
    /// a secret (its UUID), so it is never printed.
    public func ping(_ ping: Ping, message: String? = nil, logger: Logger?) async {
        guard let deadManURL else { return }
        await DeadManPing(url: deadManURL, client: client).send(ping, message: message, logger: logger)
    }

    /// A failed backup: every webhook hears what failed, how many times in a row, and what to do.
    public func backupFailed(_ error: String, record: FailureRecord, host: String, logger: Logger?) async {
        guard !webhooks.isEmpty else { return }
        let times = record.consecutiveFailures == 1 ? "" : " (\(record.consecutiveFailures) failures in a row)"
        let text = "❌ \(app) backup FAILED on \(host)\(times): \(Redactor.redact(error))"
        var fields: [String: JSONValue] = [
            "event": .string("backup.failed"), "app": .string(app), "host": .string(host),
            "error": .string(Redactor.redact(error)),
            "consecutiveFailures": .number(Double(record.consecutiveFailures)),
        ]
        if let last = record.lastSuccessAt { fields["lastSuccessAt"] = .number(last.timeIntervalSince1970) }
        await Notifier(client: client).send(Notification(text: text, fields: fields), to: webhooks, logger: logger)
    }

    /// The first success after failures.
    public func backupRecovered(id: String, failuresBefore: Int, host: String, logger: Logger?) async {
        guard !webhooks.isEmpty, failuresBefore > 0 else { return }
        let text = "✅ \(app) backup works again on \(host): \(id) (after \(failuresBefore) failed run\(failuresBefore == 1 ? "" : "s"))"
        let fields: [String: JSONValue] = ["event": .string("backup.recovered"), "app": .string(app), "host": .string(host),
                                           "id": .string(id), "failuresBefore": .number(Double(failuresBefore))]
        await Notifier(client: client).send(Notification(text: text, fields: fields), to: webhooks, logger: logger)
    }
}
