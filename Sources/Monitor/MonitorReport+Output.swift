import FoundationEssentials
import OpsCore
import Shell

extension MonitorReport {
    // MARK: - Monitoring Plugins

    /// `MONITOR CRITICAL - 1 critical, 1 warning of 14 checks: disk:/ 93 % used …; load … | disk_root=93%;80;90 …`
    ///
    /// The text names what is not OK (all of it, worst first); when everything is OK it says how many checks
    /// ran. Perfdata carries every measured value with its thresholds (`label=value[UOM];warn;crit`).
    public var pluginLine: String {
        let bad = results.filter { $0.state != .ok }.sorted { $0.state.severity > $1.state.severity }
        var text: String
        if bad.isEmpty {
            text = "\(results.count) checks OK"
        } else {
            var counts: [String] = []
            for state in [HealthStatus.critical, .unknown, .warning] {
                let n = bad.filter { $0.state == state }.count
                if n > 0 { counts.append("\(n) \(state.rawValue.lowercased())") }
            }
            text = counts.joined(separator: ", ") + " of \(results.count) checks: "
                + bad.map { "\($0.id) \(Self.shortSummary($0))" }.joined(separator: "; ")
        }
        let perf = perfdata
        return "MONITOR \(state) - \(text)" + (perf.isEmpty ? "" : " | " + perf)
    }

    /// The summary without the subject the id already names (`health:URL` with `URL 200 in 3 ms` → `200 in 3 ms`).
    static func shortSummary(_ result: CheckResult) -> String {
        guard let colon = result.id.firstIndex(of: ":") else { return result.summary }
        let subject = result.id[result.id.index(after: colon)...] + " "
        return result.summary.hasPrefix(subject) ? String(result.summary.dropFirst(subject.count)) : result.summary
    }

    var perfdata: String {
        results.compactMap { result -> String? in
            guard let value = result.value else { return nil }
            let uom = result.unit?.hasPrefix("%") == true ? "%" : ""
            let label = Self.perfLabel(result.id)
            let warn = result.warning.map(Self.number) ?? ""
            let crit = result.critical.map(Self.number) ?? ""
            return "\(label)=\(Self.number(value))\(uom);\(warn);\(crit)"
        }.joined(separator: " ")
    }

    /// A perfdata label without quotes: `disk:/var/lib` → `disk_var_lib`.
    static func perfLabel(_ id: String) -> String {
        var out = ""
        var lastUnderscore = false
        for scalar in id.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "-" || scalar == "."
            if ok {
                out.unicodeScalars.append(scalar)
                lastUnderscore = false
            } else if !lastUnderscore {
                out += "_"
                lastUnderscore = true
            }
        }
        while out.hasSuffix("_") && out.count > 1 { out.removeLast() }
        return out
    }

    /// A number without exponent or trailing zeros: `93`, `0.42`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        // Four decimals: a latency of 0.4 ms is 0.0004, not 0.
        let scaled = Int((value * 10_000).rounded())
        let fraction = String(abs(scaled % 10_000))
        var text = (scaled < 0 && scaled / 10_000 == 0 ? "-" : "") + "\(scaled / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    // MARK: - The table

    /// The readable report: one row per check, worst first, state colored when `color`.
    public func table(color: Bool) -> String {
        let rows = results.enumerated().sorted {
            ($0.element.state.severity, -$0.offset) > ($1.element.state.severity, -$1.offset)
        }.map(\.element)
        let idWidth = min(32, rows.map(\.id.count).max() ?? 5)
        var lines = ["\(host): \(colored(state, color)) — \(results.count) checks in \(milliseconds) ms"]
        for row in rows {
            let stateText = row.state.rawValue.padding(8)
            let id = row.id.count > idWidth ? String(row.id.prefix(idWidth - 1)) + "…" : row.id.padding(idWidth)
            lines.append("  " + (color ? paint(row.state, stateText) : stateText) + " " + id + "  " + row.summary)  // full: the id may be cut
        }
        return lines.joined(separator: "\n")
    }

    var milliseconds: Int { Int(exactMilliseconds.rounded()) }

    /// The run's duration in milliseconds, to the hundredth.
    var exactMilliseconds: Double {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return (ms * 100).rounded() / 100
    }

    private func colored(_ state: HealthStatus, _ color: Bool) -> String {
        color ? paint(state, state.rawValue) : state.rawValue
    }

    private func paint(_ state: HealthStatus, _ text: String) -> String {
        let code = switch state {
        case .ok: "32"
        case .warning: "33"
        case .critical: "31;1"
        case .unknown: "35"
        }
        return "\u{1b}[\(code)m\(text)\u{1b}[0m"
    }

    // MARK: - JSON

    /// The `--json` document: status, exit code, host, when, how long, and every check with its value,
    /// unit, thresholds, state and labels.
    /// `pretty` false: one line (what `--watch --json` prints per run).
    public func jsonDocument(pretty: Bool = true) -> String {
        var checks: [JSONValue] = []
        for result in results {
            var object: [String: JSONValue] = [
                "id": .string(result.id), "check": .string(result.check), "state": .string(result.state.rawValue),
                "summary": .string(result.summary),
            ]
            if let value = result.value { object["value"] = .number(value) }
            if let unit = result.unit { object["unit"] = .string(unit) }
            if let warning = result.warning { object["warning"] = .number(warning) }
            if let critical = result.critical { object["critical"] = .number(critical) }
            if !result.labels.isEmpty { object["labels"] = .object(result.labels.mapValues { .string($0) }) }
            checks.append(.object(object))
        }
        let document: JSONValue = .object([
            "status": .string(state.rawValue), "exitCode": .number(Double(exitCode)), "host": .string(host),
            "startedAt": .string(ISO8601Seconds.text(startedAt)), "durationMs": .number(exactMilliseconds),
            "checks": .array(checks),
        ])
        return document.serialized(pretty: pretty)
    }

    // MARK: - Prometheus

    /// The node_exporter textfile format: per check its state (0 OK … 3 UNKNOWN) and its value, plus the
    /// overall state, when this run happened and how long it took.
    public func prometheusText() -> String {
        var lines: [String] = [
            "# HELP opskit_monitor_check_state State of a monitor check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            "# TYPE opskit_monitor_check_state gauge",
        ]
        for result in results {
            lines.append("opskit_monitor_check_state\(Self.labels(result, unit: false)) \(result.state.exitCode)")
        }
        lines += [
            "# HELP opskit_monitor_check_value The value a monitor check measured, in the unit its label names.",
            "# TYPE opskit_monitor_check_value gauge",
        ]
        for result in results {
            guard let value = result.value, value.isFinite else { continue }
            lines.append("opskit_monitor_check_value\(Self.labels(result, unit: true)) \(Self.number(value))")
        }
        lines += [
            "# HELP opskit_monitor_status The worst state of this run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
            "# TYPE opskit_monitor_status gauge",
            "opskit_monitor_status \(exitCode)",
            "# HELP opskit_monitor_last_run_timestamp_seconds When the last monitor run started.",
            "# TYPE opskit_monitor_last_run_timestamp_seconds gauge",
            "opskit_monitor_last_run_timestamp_seconds \(Int(startedAt.timeIntervalSince1970))",
            "# HELP opskit_monitor_duration_seconds How long the last monitor run took.",
            "# TYPE opskit_monitor_duration_seconds gauge",
            "opskit_monitor_duration_seconds \(exactMilliseconds / 1000)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the textfile atomically (node_exporter must never read half a file).
    public func writePrometheus(to path: String) throws {
        try AtomicFile.write(prometheusText(), to: path, permissions: 0o644)
    }

    static func labels(_ result: CheckResult, unit: Bool) -> String {
        var pairs: [(String, String)] = [("id", result.id), ("check", result.check)]
        if unit, let text = result.unit { pairs.append(("unit", text)) }
        for key in result.labels.keys.sorted() where !["id", "check", "unit"].contains(key) {
            pairs.append((labelName(key), result.labels[key]!))
        }
        return "{" + pairs.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// A valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func labelName(_ key: String) -> String {
        var out = String(key.unicodeScalars.map { scalar -> Character in
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
            return ok ? Character(scalar) : "_"
        })
        if out.first.map({ $0.isNumber }) ?? true { out = "_" + out }
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
