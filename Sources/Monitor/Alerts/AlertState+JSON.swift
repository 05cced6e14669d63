import FoundationEssentials
import OpsCore
import Shell

// monitor-state.json read and written through JSONValue instead of Codable: the same document (JSONCoding's
// style, ISO 8601 dates to the second), without Codable's ~1 ms of first-use type lookups on every cron run.
// The Codable conformances stay, and the tests check both agree.

extension AlertState {
    /// The state in `document`; nil when it is not monitor state (then the file counts as corrupt).
    /// Missing top-level members default as the Codable form does.
    init?(json document: JSONValue) {
        guard case .object(let members) = document else { return nil }
        self.init()
        if let version = members["version"] {
            guard let number = version.integer else { return nil }
            self.version = number
        }
        if let checks = members["checks"] {
            guard case .object(let entries) = checks else { return nil }
            for (id, entry) in entries {
                guard let check = CheckAlertState(json: entry) else { return nil }
                self.checks[id] = check
            }
        }
        if let restarts = members["restarts"] {
            guard case .object(let entries) = restarts else { return nil }
            for (name, count) in entries {
                guard let number = count.integer else { return nil }
                self.restarts[name] = number
            }
        }
    }

    var json: JSONValue {
        .object([
            "version": .number(Double(version)),
            "checks": .object(checks.mapValues(\.json)),
            "restarts": .object(restarts.mapValues { .number(Double($0)) }),
        ])
    }
}

extension CheckAlertState {
    init?(json document: JSONValue) {
        guard case .object(let m) = document,
              let state = m["state"]?.stringValue.flatMap(HealthStatus.init(rawValue:)),
              let failures = m["failures"]?.integer,
              let since = m["since"].flatMap(ISO8601Seconds.date),
              let summary = m["summary"]?.stringValue
        else { return nil }
        self.init(state: state, failures: failures, since: since, summary: summary)
        // Optional members: absent or null is nil; anything else must have the right type.
        func optional<T>(_ key: String, _ read: (JSONValue) -> T?) -> T?? {
            guard let value = m[key], value != .null else { return .some(nil) }
            return read(value).map { .some($0) } ?? nil
        }
        guard let failingSince = optional("failingSince", ISO8601Seconds.date),
              let alerted = optional("alerted", { $0.stringValue.flatMap(HealthStatus.init(rawValue:)) }),
              let lastNotified = optional("lastNotified", ISO8601Seconds.date)
        else { return nil }
        self.failingSince = failingSince
        self.alerted = alerted
        self.lastNotified = lastNotified
    }

    var json: JSONValue {
        var m: [String: JSONValue] = [
            "state": .string(state.rawValue), "failures": .number(Double(failures)),
            "since": .string(ISO8601Seconds.text(since)), "summary": .string(summary),
        ]
        if let failingSince { m["failingSince"] = .string(ISO8601Seconds.text(failingSince)) }
        if let alerted { m["alerted"] = .string(alerted.rawValue) }
        if let lastNotified { m["lastNotified"] = .string(ISO8601Seconds.text(lastNotified)) }
        return .object(m)
    }
}

extension JSONValue {
    /// A whole number that fits an Int.
    fileprivate var integer: Int? {
        guard case .number(let n) = self, n == n.rounded(), abs(n) < 9e15 else { return nil }
        return Int(n)
    }
}

/// `2027-01-15T08:01:00Z`, what JSONEncoder's `.iso8601` strategy writes and reads (whole seconds, UTC).
enum ISO8601Seconds {
    static func text(_ date: Date) -> String {
        Timestamp.iso8601(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    static func date(_ value: JSONValue) -> Date? {
        value.stringValue.flatMap(Timestamp.seconds(fromISO8601:)).map { Date(timeIntervalSince1970: Double($0)) }
    }
}
