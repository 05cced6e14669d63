import FoundationEssentials
import OpsCore
import Shell

/// When the monitor tells people about a check.
public struct AlertPolicy: Sendable, Equatable {
    /// Non-OK runs in a row before a check alerts; one bad sample is not worth waking anyone (1 = at once).
    public var failuresBeforeAlert: Int
    /// How often a check that stays broken is mentioned again.
    public var reminder: Duration

    public init(failuresBeforeAlert: Int = 2, reminder: Duration = .seconds(4 * 3600)) {
        self.failuresBeforeAlert = failuresBeforeAlert
        self.reminder = reminder
    }
}

/// One check's news in an ``AlertMessage``.
public struct AlertChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Non-OK for `failuresBeforeAlert` runs in a row, nothing said yet.
        case alert
        /// Worse than what people were told (WARNING → CRITICAL).
        case escalated
        /// Still broken, but less than what people were told (CRITICAL → WARNING).
        case deescalated
        /// Unchanged and broken for another `reminder`.
        case reminder
        /// OK again after an alert.
        case recovered
        /// Alerted, then gone from the report (a removed container): the alert is closed.
        case removed
    }

    public var kind: Kind
    public var id: String
    public var check: String
    /// The state now; OK for `recovered` and `removed`.
    public var state: HealthStatus
    /// The state people had been told about, for escalations, de-escalations, recoveries and removals.
    public var previous: HealthStatus?
    public var summary: String
    /// When the check started failing (for reminders and recoveries).
    public var failingSince: Date?
    /// The line people read: `CRITICAL disk:/ 93 % used (46 of 49.6 GiB)`.
    public var line: String

    public init(kind: Kind, id: String, check: String, state: HealthStatus, previous: HealthStatus?,
                summary: String, failingSince: Date?, line: String) {
        self.kind = kind
        self.id = id
        self.check = check
        self.state = state
        self.previous = previous
        self.summary = summary
        self.failingSince = failingSince
        self.line = line
    }
}

/// Everything one run has to say, sent as one notification: a line per change, worst first.
public struct AlertMessage: Sendable, Equatable {
    public var host: String
    /// The worst state among the changes; OK when every line is a recovery.
    public var severity: HealthStatus
    public var changes: [AlertChange]
    /// The run this message is about.
    public var date: Date

    public init(host: String, severity: HealthStatus, changes: [AlertChange], date: Date) {
        self.host = host
        self.severity = severity
        self.changes = changes
        self.date = date
    }

    public var title: String { "opskit monitor on \(host)" }
    public var text: String { changes.map(\.line).joined(separator: "\n") }

    /// The notification webhooks get: the lines as text, ntfy priority `high` for CRITICAL, and the
    /// changes as fields for JSON webhooks (`event: monitor.alert`).
    public var notification: Notification {
        let changes: [JSONValue] = changes.map { change in
            var object: [String: JSONValue] = [
                "id": .string(change.id), "check": .string(change.check), "kind": .string(change.kind.rawValue),
                "state": .string(change.state.rawValue), "summary": .string(change.summary),
            ]
            if let previous = change.previous { object["previous"] = .string(previous.rawValue) }
            if let since = change.failingSince { object["failingSince"] = .number(since.timeIntervalSince1970.rounded()) }
            return .object(object)
        }
        let fields: [String: JSONValue] = [
            "event": .string("monitor.alert"), "host": .string(host), "severity": .string(severity.rawValue),
            "at": .number(date.timeIntervalSince1970.rounded()), "changes": .array(changes),
        ]
        return Notification(text: text, fields: fields, title: title, priority: severity == .critical ? .high : .default)
    }
}

/// Decides what to tell people after a run, from the run's report and what earlier runs left in the state.
///
/// Per check id:
/// - A check alerts once it has been non-OK (WARNING, CRITICAL or UNKNOWN) `failuresBeforeAlert` runs in a
///   row; a check that fails fewer times and then recovers sends nothing.
/// - Only changes are sent: once alerted, a move to another non-OK state (escalation or de-escalation)
///   is sent at once; the same state again is not, except as a reminder every `policy.reminder`.
/// - A check that alerted and is OK again always sends a recovery.
/// - A check that was in the state but is missing from the report (a removed container, a check
///   taken out of the config) is dropped from the state; if it had alerted, a recovery line saying it is no
///   longer checked closes the alert first (`kind == .removed`), so no alert stays open forever. One that
///   had not alerted is dropped silently.
/// - An empty report (nothing could be checked at all, or nothing is configured) changes nothing: it would
///   otherwise close every open alert.
/// - An id that appears twice in one report counts once, as its first result.
///
/// All changes of one run form one ``AlertMessage``, worst state first; a quiet run gives none.
/// The function is pure: `now` is the only clock, and `restarts` passes through untouched.
public enum AlertEngine {
    public static func evaluate(report: MonitorReport, state: AlertState, policy: AlertPolicy = AlertPolicy(),
                                now: Date) -> (messages: [AlertMessage], newState: AlertState) {
        guard !report.results.isEmpty else { return ([], state) }
        let threshold = max(1, policy.failuresBeforeAlert)
        let reminder = seconds(policy.reminder)
        var next = state
        var changes: [(order: Int, change: AlertChange)] = []
        var seen: Set<String> = []

        for (order, result) in report.results.enumerated() {
            guard seen.insert(result.id).inserted else { continue }
            let previous = state.checks[result.id]
            let summary = Redactor.redact(result.summary)
            let wasFailing = previous.map { $0.state != .ok } ?? false
            var entry = CheckAlertState(
                state: result.state,
                failures: result.state == .ok ? 0 : (wasFailing ? previous?.failures ?? 0 : 0) + 1,
                since: previous.flatMap { $0.state == result.state ? $0.since : nil } ?? now,
                failingSince: result.state == .ok ? nil : (wasFailing ? previous?.failingSince : nil) ?? now,
                alerted: previous?.alerted, lastNotified: previous?.lastNotified, summary: summary)

            var change: AlertChange?
            func note(_ kind: AlertChange.Kind, _ line: String, previous told: HealthStatus?, failingSince: Date?) {
                change = AlertChange(kind: kind, id: result.id, check: result.check, state: result.state, previous: told,
                                     summary: summary, failingSince: failingSince, line: line)
            }
            let name = subject(result.id, summary)
            if result.state == .ok {
                if let told = entry.alerted {
                    let since = previous?.failingSince
                    let lasted = since.map { ", \(span(now.timeIntervalSince($0)))" } ?? ""
                    note(.recovered, "RECOVERED \(name) (was \(told)\(lasted))", previous: told, failingSince: since)
                    entry.alerted = nil
                }
            } else if let told = entry.alerted {
                if result.state != told {
                    let kind: AlertChange.Kind = result.state.severity > told.severity ? .escalated : .deescalated
                    note(kind, "\(result.state) \(name) (was \(told))", previous: told, failingSince: entry.failingSince)
                    entry.alerted = result.state
                } else if entry.lastNotified.map({ now.timeIntervalSince($0) >= reminder }) ?? true {
                    let lasted = entry.failingSince.map { " for \(span(now.timeIntervalSince($0)))" } ?? ""
                    note(.reminder, "\(result.state) \(name) (still\(lasted))", previous: told, failingSince: entry.failingSince)
                }
            } else if entry.failures >= threshold {
                note(.alert, "\(result.state) \(name)", previous: nil, failingSince: entry.failingSince)
                entry.alerted = result.state
            }
            if let change {
                entry.lastNotified = now
                changes.append((order, change))
            }
            next.checks[result.id] = entry
        }

        for id in state.checks.keys.sorted() where !seen.contains(id) {
            let gone = state.checks[id]!
            next.checks[id] = nil
            guard let told = gone.alerted else { continue }
            let change = AlertChange(
                kind: .removed, id: id, check: String(id.prefix { $0 != ":" }), state: .ok, previous: told,
                summary: gone.summary, failingSince: gone.failingSince,
                line: "RECOVERED \(id) no longer checked (was \(told): \(unrepeated(id, gone.summary)))")
            changes.append((report.results.count + changes.count, change))
        }

        guard !changes.isEmpty else { return ([], next) }
        let ordered = changes.sorted {
            ($0.change.state.severity, -$0.order) > ($1.change.state.severity, -$1.order)
        }.map(\.change)
        let message = AlertMessage(host: report.host, severity: HealthStatus.worst(ordered.map(\.state)),
                                   changes: ordered, date: now)
        return ([message], next)
    }

    /// The state to keep when `message` reached nobody: its checks keep what people had been told before,
    /// so the next run sends the news again instead of losing it. Counters and states stay as evaluated.
    public static func undelivered(_ message: AlertMessage, previous: AlertState, evaluated: AlertState) -> AlertState {
        var state = evaluated
        for change in message.changes {
            guard let before = previous.checks[change.id] else {
                state.checks[change.id]?.alerted = nil
                state.checks[change.id]?.lastNotified = nil
                continue
            }
            if state.checks[change.id] == nil {
                state.checks[change.id] = before
            } else {
                state.checks[change.id]?.alerted = before.alerted
                state.checks[change.id]?.lastNotified = before.lastNotified
            }
        }
        return state
    }

    /// `disk:/ 93 % used`: the id, then the summary without the name it repeats.
    static func subject(_ id: String, _ summary: String) -> String {
        let rest = unrepeated(id, summary)
        return rest.isEmpty ? id : "\(id) \(rest)"
    }

    /// The summary without a leading repeat of the thing the id names: `/ 93 % used` for `disk:/` is
    /// `93 % used`, `web exited` for `container:web` is `exited`.
    static func unrepeated(_ id: String, _ summary: String) -> String {
        guard let colon = id.firstIndex(of: ":") else { return summary }
        let thing = id[id.index(after: colon)...]
        guard !thing.isEmpty, summary.hasPrefix(thing + " ") else { return summary }
        return String(summary.dropFirst(thing.count + 1))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `40 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
    static func span(_ interval: Double) -> String {
        let total = max(0, Int(interval))
        if total < 60 { return "\(total) s" }
        let minutes = total / 60
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 24 { return minutes % 60 == 0 ? "\(hours) h" : "\(hours) h \(minutes % 60) min" }
        return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
    }
}
