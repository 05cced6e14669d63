#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
@testable import Monitor
@testable import OpsCore
import Shell
import Synchronization
import Testing
import TestSupport

// MARK: - Helpers

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
private let minute: TimeInterval = 60
private let hour: TimeInterval = 3600

private func disk(_ state: HealthStatus, _ summary: String = "/ 93 % used (46 of 49.6 GiB)") -> CheckResult {
    CheckResult(id: "disk:/", check: "disk", state: state, summary: summary)
}

private func container(_ state: HealthStatus, _ summary: String = "exited (1) 2 min ago") -> CheckResult {
    CheckResult(id: "container:web", check: "container", state: state, summary: summary)
}

private func report(_ results: [CheckResult], at date: Date, host: String = "web1") -> MonitorReport {
    MonitorReport(results: results, startedAt: date, duration: .milliseconds(120), host: host)
}

/// Feeds runs to the engine one after another, keeping the state in between as the monitor would.
private final class Runs {
    var state = AlertState()
    let policy: AlertPolicy

    init(policy: AlertPolicy = AlertPolicy()) { self.policy = policy }

    func run(_ results: CheckResult..., at date: Date) -> AlertMessage? {
        let (messages, next) = AlertEngine.evaluate(report: report(results, at: date), state: state, policy: policy, now: date)
        #expect(messages.count <= 1, "one message per run at most")
        state = next
        return messages.first
    }
}

/// Collects log lines from `@Sendable` log sinks.
private final class Lines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: String { storage.withLock { $0.joined() } }

    var logger: Logger {
        var logger = Logger(label: "monitor-test") { _ in OpsLogHandler(tool: "monitor", format: .human, color: false, sink: self.append) }
        logger.logLevel = .debug
        return logger
    }
}

// MARK: - The engine

@Suite struct MonitorAlertEngineTests {
    @Test func alertsOnceAfterTheSecondFailureInARow() throws {
        let runs = Runs()
        #expect(runs.run(disk(.critical), at: t0) == nil, "one failure is not worth an alert")
        #expect(runs.state.checks["disk:/"]?.failures == 1)
        let message = try #require(runs.run(disk(.critical), at: t0 + minute))
        #expect(message.changes.map(\.kind) == [.alert])
        #expect(message.severity == .critical)
        #expect(message.text == "CRITICAL disk:/ 93 % used (46 of 49.6 GiB)")
        #expect(message.title == "opskit monitor on web1")
        let entry = try #require(runs.state.checks["disk:/"])
        #expect(entry.alerted == .critical && entry.failures == 2 && entry.lastNotified == t0 + minute)
        #expect(entry.failingSince == t0 && entry.since == t0)
    }

    @Test func thresholdIsConfigurable() {
        let runs = Runs(policy: AlertPolicy(failuresBeforeAlert: 3))
        #expect(runs.run(disk(.warning), at: t0) == nil)
        #expect(runs.run(disk(.warning), at: t0 + minute) == nil)
        #expect(runs.run(disk(.warning), at: t0 + 2 * minute)?.changes.first?.kind == .alert)

        let immediate = Runs(policy: AlertPolicy(failuresBeforeAlert: 1))
        #expect(immediate.run(disk(.critical), at: t0)?.changes.first?.kind == .alert)
    }

    @Test func staysQuietInsideTheReminderWindowAndRemindsAfterIt() throws {
        let runs = Runs()
        _ = runs.run(disk(.critical), at: t0)
        let alertedAt = t0 + minute
        #expect(runs.run(disk(.critical), at: alertedAt) != nil)
        for step in 1...47 {  // every 5 minutes up to 3 h 55 min after the alert
            let date = alertedAt + Double(step) * 5 * minute
            #expect(runs.run(disk(.critical), at: date) == nil, "no repeat \(step * 5) min after the alert")
        }
        #expect(runs.run(disk(.critical), at: alertedAt + 4 * hour - 1) == nil)
        let reminder = try #require(runs.run(disk(.critical), at: alertedAt + 4 * hour))
        #expect(reminder.changes.map(\.kind) == [.reminder])
        #expect(reminder.text == "CRITICAL disk:/ 93 % used (46 of 49.6 GiB) (still for 4 h 1 min)", "\(reminder.text)")
        #expect(runs.run(disk(.critical), at: alertedAt + 4 * hour + minute) == nil, "the reminder restarts the window")
        #expect(runs.run(disk(.critical), at: alertedAt + 8 * hour)?.changes.first?.kind == .reminder)
    }

    @Test func recoveryIsSentOnceForACheckThatAlerted() throws {
        let runs = Runs()
        _ = runs.run(container(.critical), at: t0)
        _ = runs.run(container(.critical), at: t0 + minute)
        let recovery = try #require(runs.run(container(.ok, "running, healthy"), at: t0 + 13 * minute))
        #expect(recovery.changes.map(\.kind) == [.recovered])
        #expect(recovery.severity == .ok)
        #expect(recovery.text == "RECOVERED container:web running, healthy (was CRITICAL, 13 min)", "\(recovery.text)")
        #expect(recovery.notification.priority == .default)
        #expect(runs.run(container(.ok, "running, healthy"), at: t0 + 14 * minute) == nil)
        let entry = try #require(runs.state.checks["container:web"])
        #expect(entry.alerted == nil && entry.failures == 0 && entry.failingSince == nil && entry.state == .ok)
    }

    @Test func flappingBelowTheThresholdSendsNothing() {
        let runs = Runs()
        for i in 0..<10 {
            let state: HealthStatus = i.isMultiple(of: 2) ? .critical : .ok
            #expect(runs.run(disk(state), at: t0 + Double(i) * minute) == nil, "run \(i)")
        }
        let three = Runs(policy: AlertPolicy(failuresBeforeAlert: 3))
        #expect(three.run(disk(.warning), at: t0) == nil)
        #expect(three.run(disk(.critical), at: t0 + minute) == nil)
        #expect(three.run(disk(.ok), at: t0 + 2 * minute) == nil, "failed fewer than N times, then recovered: nothing")
        #expect(three.state.checks["disk:/"]?.alerted == nil)
    }

    @Test func severalChangesInOneRunGoOutAsOneMessageWorstFirst() throws {
        let runs = Runs()
        let load = CheckResult(id: "load", check: "load", state: .ok, summary: "0.4 per core")
        _ = runs.run(load, container(.warning, "restarted 3 times"), disk(.critical), at: t0)
        let both = try #require(runs.run(load, container(.warning, "restarted 3 times"), disk(.critical), at: t0 + minute))
        #expect(both.severity == .critical)
        #expect(both.text == "CRITICAL disk:/ 93 % used (46 of 49.6 GiB)\nWARNING container:web restarted 3 times")
        #expect(both.notification.priority == .high)

        // One recovery and one new alert in the same run: still one message, the worst state sets its severity.
        _ = runs.run(load, container(.warning, "restarted 3 times"), disk(.ok, "/ 60 % used"),
                     CheckResult(id: "tls:example.com", check: "tls", state: .warning, summary: "expires in 9 days"),
                     at: t0 + 2 * minute)
        let mixed = try #require(runs.run(
            load, container(.ok, "running, healthy"), disk(.ok, "/ 60 % used"),
            CheckResult(id: "tls:example.com", check: "tls", state: .warning, summary: "expires in 9 days"),
            at: t0 + 3 * minute))
        #expect(mixed.changes.map(\.kind) == [.alert, .recovered])
        #expect(mixed.severity == .warning)
        let lines = mixed.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "WARNING tls:example.com expires in 9 days")
        #expect(lines.last?.hasPrefix("RECOVERED container:web running, healthy") == true)
        #expect(mixed.changes.last?.previous == .warning)
    }

    @Test func escalationIsSentAtOnceAndDeEscalationToo() throws {
        let runs = Runs()
        _ = runs.run(disk(.warning, "/ 85 %"), at: t0)
        #expect(runs.run(disk(.warning, "/ 85 %"), at: t0 + minute)?.text == "WARNING disk:/ 85 %")
        let up = try #require(runs.run(disk(.critical, "/ 96 %"), at: t0 + 2 * minute))
        #expect(up.changes.map(\.kind) == [.escalated])
        #expect(up.text == "CRITICAL disk:/ 96 % (was WARNING)")
        #expect(up.severity == .critical && up.notification.priority == .high)
        #expect(runs.run(disk(.critical, "/ 97 %"), at: t0 + 3 * minute) == nil, "same state: nothing new")
        let down = try #require(runs.run(disk(.warning, "/ 88 %"), at: t0 + 4 * minute))
        #expect(down.changes.map(\.kind) == [.deescalated])
        #expect(down.text == "WARNING disk:/ 88 % (was CRITICAL)")
        #expect(runs.state.checks["disk:/"]?.alerted == .warning)
        #expect(runs.state.checks["disk:/"]?.failures == 5)

        // Getting worse before the threshold is reached is just one alert, in the latest state.
        let early = Runs()
        _ = early.run(disk(.warning), at: t0)
        let first = try #require(early.run(disk(.critical), at: t0 + minute))
        #expect(first.changes.map(\.kind) == [.alert] && first.severity == .critical)
    }

    @Test func unknownCountsAsNotOK() throws {
        let runs = Runs()
        let unknown = CheckResult.unknown(id: "health:api", check: "health", "could not connect: connection refused")
        #expect(runs.run(unknown, at: t0) == nil)
        let message = try #require(runs.run(unknown, at: t0 + minute))
        #expect(message.severity == .unknown)
        #expect(message.text == "UNKNOWN health:api could not connect: connection refused")
        #expect(message.notification.priority == .default)
    }

    @Test func aCheckThatDisappearsIsDroppedAndItsOpenAlertClosed() throws {
        let runs = Runs()
        _ = runs.run(disk(.ok, "/ 50 %"), container(.critical), CheckResult(id: "container:db", check: "container", state: .warning, summary: "restarted"), at: t0)
        _ = runs.run(disk(.ok, "/ 50 %"), container(.critical), at: t0 + minute)
        #expect(runs.state.checks["container:db"] == nil, "gone before it alerted: dropped silently")
        #expect(runs.state.checks["container:web"]?.alerted == .critical)

        let closed = try #require(runs.run(disk(.ok, "/ 50 %"), at: t0 + 2 * minute))
        #expect(closed.changes.map(\.kind) == [.removed])
        #expect(closed.severity == .ok)
        #expect(closed.text == "RECOVERED container:web no longer checked (was CRITICAL: exited (1) 2 min ago)")
        #expect(runs.state.checks["container:web"] == nil)
        #expect(runs.run(disk(.ok, "/ 50 %"), at: t0 + 3 * minute) == nil)
    }

    @Test func anEmptyReportChangesNothing() {
        let runs = Runs()
        _ = runs.run(disk(.critical), at: t0)
        _ = runs.run(disk(.critical), at: t0 + minute)
        let before = runs.state
        #expect(runs.run(at: t0 + 2 * minute) == nil)
        #expect(runs.state == before)
    }

    @Test func restartCountsPassThroughUntouched() {
        var state = AlertState(restarts: ["web": 3, "db": 0])
        state.checks["gone"] = CheckAlertState(state: .ok, since: t0)
        let (_, next) = AlertEngine.evaluate(report: report([disk(.ok)], at: t0), state: state, now: t0)
        #expect(next.restarts == ["web": 3, "db": 0])
        #expect(next.checks["gone"] == nil)
    }

    @Test func anUndeliveredMessageIsSentAgainNextRun() throws {
        let runs = Runs()
        _ = runs.run(disk(.critical), at: t0)
        let before = runs.state
        let (messages, evaluated) = AlertEngine.evaluate(report: report([disk(.critical)], at: t0 + minute), state: before, now: t0 + minute)
        let message = try #require(messages.first)
        runs.state = AlertEngine.undelivered(message, previous: before, evaluated: evaluated)
        #expect(runs.state.checks["disk:/"]?.alerted == nil && runs.state.checks["disk:/"]?.failures == 2)
        #expect(runs.run(disk(.critical), at: t0 + 2 * minute)?.changes.map(\.kind) == [.alert])

        // A recovery that reached nobody is sent again too.
        let open = runs.state
        let (recovered, afterRecovery) = AlertEngine.evaluate(report: report([disk(.ok)], at: t0 + 3 * minute), state: open, now: t0 + 3 * minute)
        runs.state = AlertEngine.undelivered(try #require(recovered.first), previous: open, evaluated: afterRecovery)
        #expect(runs.run(disk(.ok), at: t0 + 4 * minute)?.changes.map(\.kind) == [.recovered])
        #expect(runs.run(disk(.ok), at: t0 + 5 * minute) == nil)
    }

    @Test func summariesAreRedacted() throws {
        let runs = Runs(policy: AlertPolicy(failuresBeforeAlert: 1))
        let result = CheckResult(id: "health:api", check: "health", state: .critical,
                                 summary: "https://admin:hunter2@api.example.com/health answered 503")
        let message = try #require(runs.run(result, at: t0))
        #expect(!message.text.contains("hunter2"), "\(message.text)")
    }

    @Test func theNotificationCarriesFieldsForJSONWebhooks() throws {
        let runs = Runs()
        _ = runs.run(disk(.critical), at: t0)
        let notification = try #require(runs.run(disk(.critical), at: t0 + minute)).notification
        #expect(notification.title == "opskit monitor on web1")
        #expect(notification.fields["event"] == .string("monitor.alert"))
        #expect(notification.fields["severity"] == .string("CRITICAL"))
        #expect(notification.fields["host"] == .string("web1"))
        let change = notification.fields["changes"]?.value(atPath: "0")
        #expect(change?["id"] == .string("disk:/") && change?["kind"] == .string("alert") && change?["state"] == .string("CRITICAL"))
    }
}

// MARK: - Notifier (ntfy, titles)

@Suite struct MonitorAlertNotifierTests {
    private func body(_ request: HTTPRequest) -> String {
        guard case .bytes(let bytes)? = request.body else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func header(_ request: HTTPRequest, _ name: String) -> String? {
        request.headers.first { $0.name == name }?.value
    }

    @Test func ntfyGetsPlainTextWithTitleAndPriorityHeaders() throws {
        let note = Notification(text: "CRITICAL disk:/ 93 %\nRECOVERED load", fields: ["event": .string("x")],
                                title: "opskit monitor on web1", priority: .high)
        let request = try Notifier.request(note, for: Webhook(kind: .ntfy, url: "https://ntfy.sh/topic"))
        #expect(request.method == "POST")
        #expect(body(request) == "CRITICAL disk:/ 93 %\nRECOVERED load")
        #expect(header(request, "Title") == "opskit monitor on web1")
        #expect(header(request, "Priority") == "high")
        #expect(header(request, "Content-Type") == "text/plain; charset=utf-8")
    }

    @Test func headerValuesCannotBreakTheRequest() {
        #expect(Notifier.headerValue("a\r\nX-Evil: 1") == "a  X-Evil: 1")
        #expect(Notifier.headerValue("Überwachung") == "=?UTF-8?B?w5xiZXJ3YWNodW5n?=")
    }

    @Test func otherKindsAreUnchangedWithoutTitleOrPriority() throws {
        let note = Notification(text: "Deploy ok", fields: ["status": .string("success")])
        let slack = try Notifier.request(note, for: Webhook(kind: .slack, url: "https://hooks.example/s"))
        #expect(JSONValue.parse(Array(body(slack).utf8)) == .object(["text": .string("Deploy ok")]))
        let discord = try Notifier.request(note, for: Webhook(kind: .discord, url: "https://hooks.example/d"))
        #expect(JSONValue.parse(Array(body(discord).utf8)) == .object(["content": .string("Deploy ok")]))
        let json = try Notifier.request(note, for: Webhook(kind: .json, url: "https://hooks.example/j"))
        #expect(JSONValue.parse(Array(body(json).utf8)) == .object(["status": .string("success"), "text": .string("Deploy ok")]))
        #expect(header(json, "Content-Type") == "application/json")
        let ntfy = try Notifier.request(note, for: Webhook(kind: .ntfy, url: "https://ntfy.sh/t"))
        #expect(header(ntfy, "Title") == nil && header(ntfy, "Priority") == nil)
    }

    @Test func aTitleLeadsChatMessagesAndJoinsJSONFields() throws {
        let note = Notification(text: "CRITICAL disk:/", fields: [:], title: "opskit monitor on web1", priority: .high)
        let slack = try Notifier.request(note, for: Webhook(kind: .slack, url: "https://hooks.example/s"))
        #expect(JSONValue.parse(Array(body(slack).utf8))?["text"] == .string("opskit monitor on web1\nCRITICAL disk:/"))
        let json = try Notifier.request(note, for: Webhook(kind: .json, url: "https://hooks.example/j"))
        let fields = JSONValue.parse(Array(body(json).utf8))
        #expect(fields?["title"] == .string("opskit monitor on web1") && fields?["priority"] == .string("high"))
        #expect(fields?["text"] == .string("CRITICAL disk:/"))
    }
}

// MARK: - The state file

@Suite struct MonitorAlertStateTests {
    @Test func stateSurvivesARoundTripThroughTheFile() throws {
        let dir = try TempDirectory(prefix: "opskit-monitor-state")
        defer { dir.remove() }
        let store = AlertStateStore(stateDirectory: dir.path)
        #expect(store.path == dir.path + "/monitor-state.json")
        let lines = Lines()
        #expect(store.load(now: t0, logger: lines.logger) == AlertState(), "no file yet: empty state")
        #expect(lines.all.isEmpty, "a missing file is normal, not worth a warning: \(lines.all)")

        var state = AlertState(restarts: ["web": 4])
        state.checks["disk:/"] = CheckAlertState(state: .critical, failures: 3, since: t0, failingSince: t0 - hour,
                                                 alerted: .warning, lastNotified: t0 + minute, summary: "/ 93 % used")
        state.checks["load"] = CheckAlertState(state: .ok, since: t0 - 2 * hour)
        try store.save(state)
        #expect(store.load(now: t0, logger: lines.logger) == state)
        var info = stat()
        #expect(stat(store.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let text = OpsKitProcess.read(store.path)
        #expect(text.contains("\"restarts\"") && text.contains("2027-01-15T08:01:00Z"), "\(text)")
        let leftovers = try #require(try? listDirectory(dir.path))
        #expect(leftovers == ["monitor-state.json"], "no temporary files left: \(leftovers)")

        // Saving what is already there writes nothing (the same inode stays); a change is written (a new one).
        try store.save(state)
        var again = stat()
        #expect(stat(store.path, &again) == 0 && again.st_ino == info.st_ino)
        state.restarts["web"] = 5
        try store.save(state)
        var changed = stat()
        #expect(stat(store.path, &changed) == 0 && changed.st_ino != info.st_ino)
        #expect(store.load(now: t0, logger: lines.logger).restarts["web"] == 5)
    }

    @Test func aCorruptFileIsMovedAsideWithAWarningAndTreatedAsEmpty() throws {
        let dir = try TempDirectory(prefix: "opskit-monitor-state")
        defer { dir.remove() }
        let store = AlertStateStore(stateDirectory: dir.path)
        try "{\"checks\": {\"disk:/\": {\"state\": \"CRIT".write(toFile: store.path)
        let lines = Lines()
        let state = store.load(now: t0, logger: lines.logger)
        #expect(state == AlertState())
        #expect(lines.all.contains("monitor-state.json was unusable"), "\(lines.all)")
        #expect(lines.all.contains("monitor-state.json.corrupt-20270115T080000Z"), "\(lines.all)")
        #expect(try listDirectory(dir.path) == ["monitor-state.json.corrupt-20270115T080000Z"])
        #expect(OpsKitProcess.read(dir.file("monitor-state.json.corrupt-20270115T080000Z")).hasPrefix("{\"checks\""))

        // The next save starts a fresh file; the corrupt one stays for a person to look at.
        try store.save(state)
        #expect(try listDirectory(dir.path).count == 2)
        #expect(store.load(now: t0 + minute, logger: lines.logger) == AlertState())

        // Valid JSON of the wrong shape is just as unusable.
        try "[1, 2, 3]".write(toFile: store.path)
        #expect(store.load(now: t0 + hour, logger: lines.logger) == AlertState())
        #expect(try listDirectory(dir.path).contains("monitor-state.json.corrupt-20270115T090000Z"))
    }

    @Test func aFileWrittenWithFieldsMissingStillLoads() throws {
        let dir = try TempDirectory(prefix: "opskit-monitor-state")
        defer { dir.remove() }
        let store = AlertStateStore(stateDirectory: dir.path)
        try "{\"restarts\": {\"web\": 2}}".write(toFile: store.path)
        #expect(store.load(now: t0, logger: nil) == AlertState(restarts: ["web": 2]))
    }

    private func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw TestSupportError("cannot open \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

// MARK: - End to end, against scripts/services/webhook-sink

@Suite(.serialized) struct MonitorAlertDeliveryTests {
    /// scripts/services/webhook-sink: records every request's path and body in DIR/received, and POST headers in DIR/headers.
    struct Sink {
        let dir: TempDirectory
        let url: String

        static func start() async throws -> Sink {
            let dir = try TempDirectory(prefix: "opskit-sink")
            let out = try await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "start", dir.path))
            return Sink(dir: dir, url: out.stdoutText)
        }

        /// `PATH BODY` per request, in arrival order (a body's newlines became spaces).
        func received() -> [String] {
            OpsKitProcess.read(dir.file("received")).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }

        /// The recorded headers of each POST, in arrival order.
        func headers() -> [(path: String, headers: JSONValue)] {
            OpsKitProcess.read(dir.file("headers")).split(separator: "\n").compactMap { line in
                guard let value = JSONValue.parse(Array(line.utf8)), let path = value["path"]?.stringValue,
                      let headers = value["headers"] else { return nil }
                return (path, headers)
            }
        }

        func stop() async {
            _ = try? await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "stop", dir.path))
            dir.remove()
        }

        /// Runs `body` with a started sink and stops the sink afterwards, also when `body` throws.
        static func with(_ body: (Sink) async throws -> Void) async throws {
            let sink = try await start()
            do {
                try await body(sink)
            } catch {
                await sink.stop()
                throw error
            }
            await sink.stop()
        }
    }

    @Test func aFailingCheckAlertsOnceIsNotRepeatedAndRecoversOnce() async throws {
        try await Sink.with { sink in
            let state = try TempDirectory(prefix: "opskit-monitor-e2e")
            defer { state.remove() }
            let topic = sink.url + "/opskit-alerts-5f2c"
            let alerter = MonitorAlerter(webhooks: [Webhook(kind: .ntfy, url: topic)])
            let store = AlertStateStore(stateDirectory: state.path)
            let lines = Lines()
            let log = lines.logger

            let failing = report([disk(.critical), container(.ok, "running, healthy")], at: t0)
            #expect(try await alerter.run(failing, store: store, now: t0, logger: log).isEmpty)
            #expect(sink.received().isEmpty, "one failure: nothing sent")

            let sent = try await alerter.run(failing, store: store, now: t0 + minute, logger: log)
            #expect(sent.count == 1)
            #expect(sink.received() == ["/opskit-alerts-5f2c CRITICAL disk:/ 93 % used (46 of 49.6 GiB)"], "\(sink.received())")
            let firstHeaders = try #require(sink.headers().first)
            #expect(firstHeaders.path == "/opskit-alerts-5f2c")
            #expect(firstHeaders.headers["Title"] == .string("opskit monitor on web1"))
            #expect(firstHeaders.headers["Priority"] == .string("high"))
            #expect(firstHeaders.headers["Content-Type"]?.stringValue?.hasPrefix("text/plain") == true)
            let saved = OpsKitProcess.read(store.path).replacing(" ", with: "")
            #expect(saved.contains("\"alerted\":\"CRITICAL\""), "the alert is on disk: \(saved)")

            #expect(try await alerter.run(failing, store: store, now: t0 + 2 * minute, logger: log).isEmpty)
            #expect(sink.received().count == 1, "still failing inside the reminder window: no POST")

            let fine = report([disk(.ok, "/ 60 % used (29.8 of 49.6 GiB)"), container(.ok, "running, healthy")], at: t0 + 3 * minute)
            #expect(try await alerter.run(fine, store: store, now: t0 + 3 * minute, logger: log).count == 1)
            let received = sink.received()
            #expect(received.count == 2, "\(received)")
            #expect(received.last == "/opskit-alerts-5f2c RECOVERED disk:/ 60 % used (29.8 of 49.6 GiB) (was CRITICAL, 3 min)")
            #expect(sink.headers().last?.headers["Priority"] == .string("default"))

            #expect(try await alerter.run(fine, store: store, now: t0 + 4 * minute, logger: log).isEmpty)
            #expect(sink.received().count == 2, "a recovery is sent once")
            #expect(lines.all.contains("monitor alert: CRITICAL disk:/"), "\(lines.all)")
            #expect(!lines.all.contains(sink.url) && !lines.all.contains("5f2c"), "webhook URLs are never logged: \(lines.all)")

        }
    }

    @Test func everyKindOfWebhookGetsItsFormat() async throws {
        try await Sink.with { sink in
            let alerter = MonitorAlerter(webhooks: [
                Webhook(kind: .slack, url: sink.url + "/slack"), Webhook(kind: .discord, url: sink.url + "/discord"),
                Webhook(kind: .json, url: sink.url + "/json"), Webhook(kind: .ntfy, url: sink.url + "/ntfy"),
            ])
            let runs = Runs()
            _ = runs.run(disk(.warning, "/ 85 %"), container(.critical), at: t0)
            let message = try #require(runs.run(disk(.warning, "/ 85 %"), container(.critical), at: t0 + minute))
            #expect(await alerter.send(message, logger: nil) == 4)

            let received = sink.received()
            #expect(received.count == 4, "\(received)")
            func body(_ path: String) -> JSONValue? {
                received.first { $0.hasPrefix(path + " ") }.flatMap { JSONValue.parse(Array($0.dropFirst(path.count + 1).utf8)) }
            }
            #expect(body("/slack")?["text"] == .string("opskit monitor on web1\nCRITICAL container:web exited (1) 2 min ago\nWARNING disk:/ 85 %"))
            #expect(body("/discord")?["content"]?.stringValue?.hasPrefix("opskit monitor on web1\nCRITICAL") == true)
            let json = try #require(body("/json"))
            #expect(json["event"] == .string("monitor.alert") && json["severity"] == .string("CRITICAL"))
            #expect(json.value(atPath: "changes.1.id") == .string("disk:/") && json.value(atPath: "changes.2") == nil)
            #expect(received.contains("/ntfy CRITICAL container:web exited (1) 2 min ago WARNING disk:/ 85 %"))
        }
    }

    @Test func aWebhookThatRefusesGetsTheAlertAgainNextRun() async throws {
        try await Sink.with { sink in
            let state = try TempDirectory(prefix: "opskit-monitor-e2e")
            defer { state.remove() }
            let alerter = MonitorAlerter(webhooks: [Webhook(kind: .slack, url: sink.url + "/fail/T000/B000/XXXX")])
            let store = AlertStateStore(stateDirectory: state.path)
            let lines = Lines()
            let failing = report([disk(.critical)], at: t0)
            for i in 0..<3 { _ = try await alerter.run(failing, store: store, now: t0 + Double(i) * minute, logger: lines.logger) }
            #expect(sink.received().count == 2, "runs 2 and 3 both try: the first attempt got HTTP 500: \(sink.received())")
            #expect(lines.all.contains("slack webhook answered HTTP 500"), "\(lines.all)")
            #expect(!lines.all.contains("XXXX"), "\(lines.all)")
        }
    }

    @Test func deadManPingsGetTheURLWhenOKAndFailOtherwise() async throws {
        try await Sink.with { sink in
            let alerter = MonitorAlerter(webhooks: [])
            let lines = Lines()
            #expect(await alerter.ping(url: sink.url + "/ping", ok: true, logger: lines.logger))
            #expect(await alerter.ping(url: sink.url + "/ping/", ok: false, logger: lines.logger))
            #expect(sink.received() == ["/ping ", "/ping/fail "])
            #expect(await alerter.ping(url: sink.url + "/fail-uuid", ok: true, logger: lines.logger) == false)
            #expect(lines.all.contains("dead-man success ping got HTTP 500") && !lines.all.contains("fail-uuid"), "\(lines.all)")
        }
    }
}

/// monitor-state.json is read and written through JSONValue; it must stay what the Codable form reads and writes.
@Suite struct AlertStateFileFormatTests {
    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    static var sample: AlertState {
        var state = AlertState(restarts: ["web": 4, "db": 0])
        state.checks["disk:/"] = CheckAlertState(state: .critical, failures: 3, since: base, failingSince: base - 3600,
                                                 alerted: .warning, lastNotified: base + 60, summary: "/ 93 % \"used\"")
        state.checks["load"] = CheckAlertState(state: .ok, since: base - 7200)
        return state
    }

    @Test func writesWhatJSONEncoderWrites() throws {
        let state = Self.sample
        let codable = String(decoding: try JSONCoding.encoder().encode(state), as: UTF8.self)
        #expect(state.json.serialized() == codable)
        #expect(AlertState().json.serialized() == String(decoding: try JSONCoding.encoder().encode(AlertState()), as: UTF8.self))
    }

    @Test func readsWhatJSONEncoderWrote() throws {
        let bytes = try JSONCoding.encoder().encode(Self.sample)
        let document = try #require(JSONValue.parse(Array(bytes)))
        #expect(AlertState(json: document) == Self.sample)
        #expect(try JSONCoding.decoder().decode(AlertState.self, from: Data(Array(state: Self.sample))) == Self.sample)
    }

    @Test func refusesWhatCodableRefuses() throws {
        let broken = [
            #"{"checks": {"x": {"state": "BAD", "failures": 1, "since": "2027-01-15T08:00:00Z", "summary": ""}}}"#,
            #"{"checks": {"x": {"state": "OK", "since": "2027-01-15T08:00:00Z", "summary": ""}}}"#,
            #"{"checks": {"x": {"state": "OK", "failures": 1.5, "since": "2027-01-15T08:00:00Z", "summary": ""}}}"#,
            #"{"checks": {"x": {"state": "OK", "failures": 1, "since": "yesterday", "summary": ""}}}"#,
            #"{"checks": {"x": {"state": "OK", "failures": 1, "since": "2027-01-15T08:00:00Z", "summary": "", "alerted": 3}}}"#,
            #"{"restarts": {"web": "two"}}"#, #"{"version": "1"}"#, "[1, 2, 3]",
        ]
        for text in broken {
            let document = try #require(JSONValue.parse(Array(text.utf8)), "\(text)")
            #expect(AlertState(json: document) == nil, "\(text)")
            #expect(throws: (any Error).self, "\(text)") { try JSONCoding.decoder().decode(AlertState.self, from: Data(text.utf8)) }
        }
        let minimal = #"{"checks": {"x": {"state": "OK", "failures": 0, "since": "2027-01-15T08:00:00Z", "summary": "", "alerted": null}}}"#
        let document = try #require(JSONValue.parse(Array(minimal.utf8)))
        let decoded = try JSONCoding.decoder().decode(AlertState.self, from: Data(minimal.utf8))
        #expect(AlertState(json: document) == decoded)
    }
}

private extension Array where Element == UInt8 {
    init(state: AlertState) { self = Array(state.json.serialized().utf8) }
}
