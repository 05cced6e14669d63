import FoundationEssentials
import OpsCore

/// What the container check reads from `GET /containers/{id}/json`.
struct ContainerState: Sendable, Equatable {
    var id: String
    /// Without the leading slash the engine puts in front.
    var name: String
    /// The image as the container was created from it (`Config.Image`), e.g. `nginx:1.27`.
    var image: String
    var labels: [String: String]
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    var status: String
    /// `starting`, `healthy` or `unhealthy`; nil when the container has no health check.
    var health: String?
    /// The last non-empty line the newest health probe printed.
    var healthOutput: String?
    var failingStreak: Int
    var exitCode: Int
    var oomKilled: Bool
    /// How often the engine restarted it under its restart policy (`docker restart` does not count).
    var restartCount: Int
    var startedAt: Date?
    var finishedAt: Date?

    init(id: String, name: String, image: String, labels: [String: String] = [:], status: String,
         health: String? = nil, healthOutput: String? = nil, failingStreak: Int = 0, exitCode: Int = 0,
         oomKilled: Bool = false, restartCount: Int = 0, startedAt: Date? = nil, finishedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.image = image
        self.labels = labels
        self.status = status
        self.health = health
        self.healthOutput = healthOutput
        self.failingStreak = failingStreak
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.restartCount = restartCount
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// The members of an inspect document `init(inspect:)` reads; the rest need not be parsed.
    static let inspectMembers: Set<String> = ["Id", "Name", "State", "Config", "Image", "RestartCount"]

    /// Reads an inspect document; nil when it lacks the ID, name or state.
    init?(inspect json: JSONValue) {
        guard let id = json["Id"]?.stringValue, let name = json["Name"]?.stringValue,
              let state = json["State"], let status = state["Status"]?.stringValue
        else { return nil }
        var labels: [String: String] = [:]
        if case .object(let members)? = json.value(atPath: "Config.Labels") {
            for (key, value) in members { if let text = value.stringValue { labels[key] = text } }
        }
        let health = state["Health"]
        // "none" is what an image's `HEALTHCHECK NONE` leaves behind on some engines: no health check.
        let healthStatus = health?["Status"]?.stringValue.flatMap { $0.isEmpty || $0 == "none" ? nil : $0 }
        var output: String?
        if case .array(let probes)? = health?["Log"], let newest = probes.last,
           let text = newest["Output"]?.stringValue {
            output = text.split(whereSeparator: \.isNewline).map(DockerSocketClient.trim).last { !$0.isEmpty }
        }
        self.init(
            id: id,
            name: name.hasPrefix("/") ? String(name.dropFirst()) : name,
            image: json.value(atPath: "Config.Image")?.stringValue ?? json["Image"]?.stringValue ?? "",
            labels: labels,
            status: status,
            health: healthStatus,
            healthOutput: output,
            failingStreak: Self.integer(health?["FailingStreak"]) ?? 0,
            exitCode: Self.integer(state["ExitCode"]) ?? 0,
            oomKilled: state["OOMKilled"] == .bool(true),
            restartCount: Self.integer(json["RestartCount"]) ?? 0,
            startedAt: state["StartedAt"]?.stringValue.flatMap(EngineTime.parse),
            finishedAt: state["FinishedAt"]?.stringValue.flatMap(EngineTime.parse))
    }

    private static func integer(_ value: JSONValue?) -> Int? {
        if case .number(let n)? = value, n.rounded() == n, abs(n) < 1e15 { return Int(n) }
        return nil
    }
}


/// Reads the engine's RFC 3339 times (`2026-11-22T07:25:16.123456789Z`) by hand, fraction ignored.
/// The engine writes `0001-01-01T00:00:00Z` for "never": that is nil.
enum EngineTime {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for byte in b[start..<start + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60, year > 1
        else { return nil }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        var offset = 0
        if i < b.count, b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"),
                  i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                  let hours = number(i + 1, 2), let minutes = number(i + 4, 2) {
            offset = (hours * 3600 + minutes * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = CertificateDate.daysFromCivil(year: year, month: month, day: day) * 86_400
            + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds))
    }


    /// "45 s", "12 min", "3 h", "4 days": how long ago or how long for, in a report line.
    static func span(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        if s < 172_800 { return "\(s / 3600) h" }
        return "\(s / 86400) days"
    }
}
