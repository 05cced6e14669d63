import FoundationEssentials
import Monitor
import OpsCore
import Shell
import Testing
import TestSupport

@Suite struct MonitorOutputTests {
    static let report = MonitorReport(
        results: [
            CheckResult(id: "disk:/", check: "disk", state: .critical, summary: "93 % used (46.1 of 49.6 GiB)",
                        value: 93, unit: "%", warning: 80, critical: 90, labels: ["mount": "/", "device": "/dev/vda1"]),
            CheckResult(id: "load", check: "load", state: .ok, summary: "load 0.42 0.50 0.61 on 2 cores", value: 0.25,
                        unit: "per core", warning: 1.5, critical: 2),
            CheckResult(id: "container:web", check: "container", state: .warning, summary: "restarted 2 times since the last run",
                        value: 5, unit: "restarts", labels: ["container": "web", "image": "app:\"v2\"\nx"]),
            .unknown(id: "containers", check: "container", "cannot reach the Docker engine at /var/run/docker.sock: permission denied"),
            CheckResult(id: "reboot", check: "reboot", state: .ok, summary: "no reboot required", value: 0),
        ],
        startedAt: Date(timeIntervalSince1970: 1_790_000_000), duration: .milliseconds(7), host: "vps1")

    @Test func pluginLineNamesWhatIsNotOKWorstFirstWithPerfdata() {
        let line = Self.report.pluginLine
        #expect(line.hasPrefix("MONITOR CRITICAL - 1 critical, 1 unknown, 1 warning of 5 checks: disk:/ 93 % used"))
        #expect(line.contains("; containers cannot reach the Docker engine"))
        let perf = line.split(separator: "|", maxSplits: 1).last.map(String.init) ?? ""
        #expect(perf == " disk=93%;80;90 load=0.25;1.5;2 container_web=5;; reboot=0;;")
        #expect(!line.contains("\n"))
        #expect(Self.report.exitCode == 2)

        let fine = MonitorReport(results: [Self.report.results[1]], startedAt: .now, duration: .zero, host: "h")
        #expect(fine.pluginLine.hasPrefix("MONITOR OK - 1 checks OK |"))
        #expect(fine.exitCode == 0)
    }

    @Test func thePluginLineDoesNotRepeatTheSubjectTheIDNames() {
        let health = CheckResult(id: "health:http://a/h", check: "health", state: .critical, summary: "http://a/h 503 in 2 ms")
        let line = MonitorReport(results: [health], startedAt: .now, duration: .zero, host: "h").pluginLine
        #expect(line == "MONITOR CRITICAL - 1 critical of 1 checks: health:http://a/h 503 in 2 ms")
    }

    @Test func worstStateRanksUnknownBetweenWarningAndCritical() {
        let unknownAndWarning = MonitorReport(results: [Self.report.results[2], Self.report.results[3]],
                                              startedAt: .now, duration: .zero, host: "h")
        #expect(unknownAndWarning.state == .unknown)
        #expect(unknownAndWarning.exitCode == 3)
    }

    @Test func jsonHasEveryCheckWithValueThresholdsAndState() throws {
        let json = try #require(JSONValue.parse(Array(Self.report.jsonDocument().utf8)))
        #expect(json.value(atPath: "status") == .string("CRITICAL"))
        #expect(json.value(atPath: "exitCode") == .number(2))
        #expect(json.value(atPath: "host") == .string("vps1"))
        guard case .array(let checks)? = json.value(atPath: "checks") else {
            Issue.record("no checks array")
            return
        }
        #expect(checks.count == 5)
        let disk = checks[0]
        #expect(disk.value(atPath: "id") == .string("disk:/"))
        #expect(disk.value(atPath: "value") == .number(93))
        #expect(disk.value(atPath: "warning") == .number(80))
        #expect(disk.value(atPath: "critical") == .number(90))
        #expect(disk.value(atPath: "labels.mount") == .string("/"))
        #expect(checks[3].value(atPath: "state") == .string("UNKNOWN"))
        #expect(checks[3].value(atPath: "value") == nil)
    }

    @Test func tableIsWorstFirstAndColoredOnlyWhenAsked() {
        let plain = Self.report.table(color: false)
        let lines = plain.split(separator: "\n")
        #expect(lines[0] == "vps1: CRITICAL — 5 checks in 7 ms")
        #expect(lines[1].contains("CRITICAL") && lines[1].contains("disk:/"))
        #expect(lines[2].contains("UNKNOWN"))
        #expect(lines[3].contains("WARNING"))
        #expect(!plain.contains("\u{1b}["))
        #expect(Self.report.table(color: true).contains("\u{1b}[31;1mCRITICAL"))
    }

    @Test func prometheusTextfileFollowsTheExpositionFormatAndIsWrittenAtomically() throws {
        let text = Self.report.prometheusText()
        try PrometheusFormat.validate(text)
        #expect(text.contains(#"opskit_monitor_check_state{id="disk:/",check="disk",device="/dev/vda1",mount="/"} 2"#))
        #expect(text.contains(#"image="app:\"v2\"\nx""#))  // quotes and newlines escaped
        #expect(text.contains("opskit_monitor_status 2\n"))
        #expect(text.contains("opskit_monitor_last_run_timestamp_seconds 1790000000\n"))
        #expect(!text.contains(#"opskit_monitor_check_value{id="containers""#))  // no value, no sample

        let tmp = try TempDirectory(prefix: "opskit-prom")
        defer { tmp.remove() }
        let path = tmp.file("opskit.prom")
        try Self.report.writePrometheus(to: path)
        #expect(try String(decoding: FileSource(path: path).readAll(), as: UTF8.self) == text)
        #expect(throws: (any Error).self) { try Self.report.writePrometheus(to: tmp.file("missing/dir/x.prom")) }
    }

    @Test func theValidatorRejectsWhatPrometheusWould() {
        #expect(throws: PrometheusFormat.Invalid.self) { try PrometheusFormat.validate("metric{a=\"x} 1\n") }
        #expect(throws: PrometheusFormat.Invalid.self) { try PrometheusFormat.validate("9metric 1\n") }
        #expect(throws: PrometheusFormat.Invalid.self) { try PrometheusFormat.validate("metric one\n") }
        #expect(throws: PrometheusFormat.Invalid.self) { try PrometheusFormat.validate("# TYPE m gauge\nm 1\n# TYPE m gauge\n") }
        #expect(throws: PrometheusFormat.Invalid.self) { try PrometheusFormat.validate("m 1") }  // no final newline
    }
}

/// The text exposition format's grammar (prometheus.io/docs/instrumenting/exposition_formats), as
/// `promtool check metrics` applies it to a textfile: metric and label names, quoted and escaped label
/// values, a float value, optional timestamp, one TYPE per metric family, and a final newline.
enum PrometheusFormat {
    struct Invalid: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    static func validate(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Invalid(line: 0, reason: "no final newline") }
        var typed = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count >= 3, parts[1] == "TYPE" {
                    guard isMetricName(parts[2]) else { throw Invalid(line: number, reason: "bad metric name in TYPE") }
                    guard typed.insert(String(parts[2])).inserted else { throw Invalid(line: number, reason: "second TYPE for \(parts[2])") }
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw Invalid(line: number, reason: "bad type")
                    }
                }
                continue
            }
            try sample(Array(line.utf8), line: number)
        }
    }

    static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first.isLetterOrUnderscore || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isLetterOrUnderscore || $0 == ":" || ("0"..."9").contains($0) }
    }

    static func sample(_ bytes: [UInt8], line: Int) throws {
        var i = 0
        while i < bytes.count && bytes[i] != UInt8(ascii: "{") && bytes[i] != UInt8(ascii: " ") { i += 1 }
        guard isMetricName(Substring(decoding: bytes[0..<i], as: UTF8.self)) else { throw Invalid(line: line, reason: "bad metric name") }
        if i < bytes.count && bytes[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                let start = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "=") { i += 1 }
                let name = Substring(decoding: bytes[start..<i], as: UTF8.self)
                guard !name.contains(":"), isMetricName(name) else { throw Invalid(line: line, reason: "bad label name") }
                i += 1
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Invalid(line: line, reason: "unquoted label value") }
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count, [UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "n")].contains(bytes[i + 1]) else {
                            throw Invalid(line: line, reason: "bad escape")
                        }
                        i += 1
                    }
                    i += 1
                }
                guard i < bytes.count else { throw Invalid(line: line, reason: "unterminated label value") }
                i += 1
                if i < bytes.count && bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "}") else { throw Invalid(line: line, reason: "bad label list") }
                i += 1
                break
            }
        }
        let rest = String(decoding: bytes[i...], as: UTF8.self).split(separator: " ")
        guard (1...2).contains(rest.count), isFloat(rest[0]), rest.count == 1 || Int(rest[1]) != nil else {
            throw Invalid(line: line, reason: "bad value")
        }
    }

    static func isFloat(_ text: Substring) -> Bool {
        ["NaN", "+Inf", "-Inf"].contains(text) || Double(text) != nil
    }
}

extension Unicode.Scalar {
    var isLetterOrUnderscore: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
}
