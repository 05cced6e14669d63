import FoundationEssentials
import OpsCore

extension HealthReport {
    /// The Monitoring Plugins line: `HEALTH OK - http://… 200 in 3 ms (healthy) | time=0.003s;;;0 size=231B`.
    ///
    /// Several URLs: the worst status, then each URL's summary, `; `-separated, perfdata labelled per URL.
    public var pluginLine: String {
        let text: String
        if results.count == 1, let only = results.first {
            text = only.summary
        } else {
            let failing = results.filter { $0.status != .ok }.count
            let head = failing == 0 ? "\(results.count) URLs healthy" : "\(failing) of \(results.count) URLs not OK"
            text = head + ": " + results.map { "\($0.status) \($0.summary)" }.joined(separator: "; ")
        }
        let perf = perfdata
        return "HEALTH \(status) - \(text)" + (perf.isEmpty ? "" : " | " + perf)
    }

    /// `label=value[UOM];warn;crit;min` per URL (Nagios plugin guidelines). Thresholds in seconds.
    var perfdata: String {
        var items: [String] = []
        for (i, result) in results.enumerated() {
            let suffix = results.count == 1 ? "" : "_\(i + 1)"
            let e = i < targets.count ? targets[i].expectations : HealthExpectations()
            if let ms = result.latencyMs {
                let warn = e.warnLatencyMs.map { seconds($0) } ?? ""
                let crit = e.critLatencyMs.map { seconds($0) } ?? ""
                items.append("time\(suffix)=\(seconds(ms))s;\(warn);\(crit);0")
            }
            if let days = result.certificateDaysLeft {
                items.append("cert_days\(suffix)=\(days);\(e.minCertificateDays.map(String.init) ?? "");0")
            }
            items.append("attempts\(suffix)=\(result.attempts)")
        }
        return items.joined(separator: " ")
    }

    private func seconds(_ ms: Double) -> String {
        let micro = Int((ms * 1_000).rounded())
        let whole = micro / 1_000_000
        let frac = String(micro % 1_000_000)
        return "\(whole)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// The `--json` document: one URL's result as an object; several as `{"status", "results": [...]}`.
    public func jsonDocument() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data: Data?
        if results.count == 1, let only = results.first {
            data = try? encoder.encode(only)
        } else {
            data = try? encoder.encode(Multi(status: status, results: results))
        }
        return data.map { String(decoding: $0, as: UTF8.self) } ?? #"{"status":"UNKNOWN"}"#
    }

    private struct Multi: Encodable {
        let status: HealthStatus
        let results: [HealthResult]
    }
}
