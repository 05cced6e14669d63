#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore
import Shell
import Testing
import TestSupport

/// `monitor` end to end: the built binary, this machine's /proc and disks, a real nginx for health URLs,
/// the real Docker engine, and the webhook receiver of scripts/services/webhook-sink for alerts and pings.
@Suite(.serialized) struct MonitorCLITests {
    /// Thresholds nothing on a test machine crosses, and no Docker: every check is OK.
    static let calm = """
          docker_socket: none
          docker_root: none
          thresholds:
            disk: {warning: 99.9, critical: 100}
            inodes: {warning: 99.9, critical: 100}
            memory_available: {warning: 0.01, critical: 0}
            swap: {warning: 100, critical: 100}
            load_per_core: {warning: 1000, critical: 1000}
        """

    struct Setup {
        let tmp: TempDirectory
        var config: String { tmp.file("opskit.yml") }
        var environment: [String: String?] { ["OPSKIT_STATE_DIR": tmp.file("state"), "HEALTH_URL": nil, "DOCKER_HOST": nil] }

        init(_ yaml: String) throws {
            tmp = try TempDirectory(prefix: "opskit-monitor-cli")
            try write(yaml)
        }

        func write(_ yaml: String) throws { try AtomicFile.write(yaml, to: config) }

        func run(_ args: String...) async throws -> OpsKitBinary.Output {
            try await OpsKitBinary.run("monitor", ["--config", config] + args, environment: environment)
        }
    }

    @Test func allOKIsExitZeroAndQuietPrintsNothing() async throws {
        let f = try await HTTPFixture.shared
        let setup = try Setup("app: montest\nmonitor:\n  health: [\(f.http)/api/health]\n" + Self.calm)
        defer { setup.tmp.remove() }
        let out = try await setup.run()
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdoutLines.last?.hasPrefix("MONITOR OK - ") == true)
        #expect(out.stdout.contains("\(f.http)/api/health 200 in "))
        #expect(out.stdout.contains("disk:/"))
        #expect(!out.stdout.contains("\u{1b}["))  // not a terminal: no color
        let quiet = try await setup.run("--quiet")
        #expect(quiet.exitCode == 0)
        #expect(quiet.stdout.isEmpty && quiet.stderr.isEmpty)
    }

    @Test func statesMapToTheMonitoringPluginsExitCodes() async throws {
        let f = try await HTTPFixture.shared
        let setup = try Setup("monitor:\n  health: [\(f.http)/degraded]\n" + Self.calm)
        defer { setup.tmp.remove() }
        let warning = try await setup.run("--quiet")
        #expect(warning.exitCode == 1)
        #expect(warning.stdoutLines.count == 1)
        #expect(warning.stdout.hasPrefix("MONITOR WARNING - 1 warning of "))

        try setup.write("monitor:\n  health: [\(f.http)/unhealthy]\n" + Self.calm)
        let critical = try await setup.run("--json")
        #expect(critical.exitCode == 2)
        let doc = try #require(JSONValue.parse(Array(critical.stdout.utf8)))
        #expect(doc["status"] == .string("CRITICAL"))
        #expect(doc["exitCode"] == .number(2))

        // Thresholds driven low enough to trip on this machine.
        try setup.write("monitor:\n  docker_socket: none\n  thresholds:\n    disk: {warning: 0, critical: 100.1}\n")
        let disk = try await setup.run("--json")
        let checks = try #require(JSONValue.parse(Array(disk.stdout.utf8))?["checks"])
        guard case .array(let items) = checks else { Issue.record("no checks"); return }
        let root = try #require(items.first { $0["id"] == .string("disk:/") })
        #expect(root["state"] == .string("WARNING"))
        #expect(root["warning"] == .number(0))
        #expect(disk.exitCode >= 1)
    }

    @Test func badConfigurationIsUnknownWithTheReasonOnStdout() async throws {
        let setup = try Setup("monitor:\n  disks: [/]\n")
        defer { setup.tmp.remove() }
        let out = try await setup.run()
        #expect(out.exitCode == 3)
        #expect(out.stdoutLines.count == 1)
        #expect(out.stdout.hasPrefix("MONITOR UNKNOWN - monitor.disks is set; expected one of:"))
        let alertWithoutTarget = try Setup("monitor:\n  docker_socket: none\n")
        defer { alertWithoutTarget.tmp.remove() }
        let noTarget = try await alertWithoutTarget.run("--alert")
        #expect(noTarget.exitCode == 3)
        #expect(noTarget.stdout.contains("--alert needs somewhere to send"))
        #expect(try await alertWithoutTarget.run("--watch", "0").exitCode == 3)
    }

    @Test func prometheusTextfileIsWrittenAndAFailedWriteIsUnknown() async throws {
        let setup = try Setup("monitor:\n" + Self.calm)
        defer { setup.tmp.remove() }
        let path = setup.tmp.file("node/opskit.prom")
        _ = try await Runner().capture(Command("mkdir", "-p", setup.tmp.file("node")))
        let out = try await setup.run("--quiet", "--prometheus", path)
        #expect(out.exitCode == 0)
        let text = OpsKitProcess.read(path)
        #expect(text.contains("# TYPE opskit_monitor_check_state gauge\n"))
        #expect(text.contains(#"opskit_monitor_check_state{id="disk:/",check="disk""#))
        #expect(text.contains("opskit_monitor_status 0\n"))
        #expect(text.hasSuffix("\n"))

        let failed = try await setup.run("--quiet", "--prometheus", setup.tmp.file("missing/x.prom"))
        #expect(failed.exitCode == 3)
        #expect(failed.stdout.contains("monitor:prometheus cannot write"))
        #expect(failed.stderr.contains("missing/x.prom"))
    }

    @Test func anExpectedContainerThatIsMissingIsCriticalThroughTheEngineAPI() async throws {
        try await DockerFixture.ensure()
        let setup = try Setup("monitor:\n  containers: [opskit-mon-never-started-\(getpid())]\n  docker_root: none\n")
        defer { setup.tmp.remove() }
        let out = try await setup.run("--json")
        let doc = try #require(JSONValue.parse(Array(out.stdout.utf8)))
        guard case .array(let items)? = doc["checks"] else { Issue.record("no checks"); return }
        let missing = try #require(items.first { $0["id"] == .string("container:opskit-mon-never-started-\(getpid())") })
        #expect(missing["state"] == .string("CRITICAL"))
        #expect(items.contains { $0["id"] == .string("containers") && $0["state"] == .string("OK") })
        #expect(out.exitCode == 2)
    }

    @Test func alertsOnceAfterTwoFailuresThenRecoversOnceAndPingsEveryRun() async throws {
        let f = try await HTTPFixture.shared
        let sinkDir = try TempDirectory(prefix: "opskit-monitor-sink")
        let sink = try await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "start", sinkDir.path)).stdoutText
        do {
            try await alerting(f: f, sink: sink, sinkDir: sinkDir)
        } catch {
            await Self.stopSink(sinkDir)
            throw error
        }
        await Self.stopSink(sinkDir)
    }

    static func stopSink(_ dir: TempDirectory) async {
        _ = try? await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "stop", dir.path))
        dir.remove()
    }

    func alerting(f: HTTPFixture, sink: String, sinkDir: TempDirectory) async throws {
        func received() -> [String] {
            OpsKitProcess.read(sinkDir.file("received")).split(separator: "\n").map(String.init)
        }
        func config(_ path: String) -> String {
            "app: montest\nmonitor:\n  health: [\(f.http)\(path)]\n  alert:\n    webhook: \(sink)/hook\n    after: 2\n"
                + "  ping: \(sink)/ping\n" + Self.calm
        }
        let setup = try Setup(config("/unhealthy"))
        defer { setup.tmp.remove() }

        #expect(try await setup.run("--quiet", "--alert").exitCode == 2)
        #expect(received() == ["/ping/fail "], "one failure: no alert yet, but the dead-man ping")
        #expect(try await setup.run("--quiet", "--alert").exitCode == 2)
        var posts = received().filter { $0.hasPrefix("/hook ") }
        #expect(posts.count == 1, "\(received())")
        let alert = try #require(JSONValue.parse(Array((posts.first ?? "").dropFirst("/hook ".count).utf8)))
        #expect(alert["text"]?.stringValue?.contains("CRITICAL health:\(f.http)/unhealthy") == true, "\(alert)")
        #expect(try await setup.run("--quiet", "--alert").exitCode == 2)
        #expect(received().filter { $0.hasPrefix("/hook ") }.count == 1, "still broken inside the reminder: no repeat")

        try setup.write(config("/api/health"))
        #expect(try await setup.run("--quiet", "--alert").exitCode == 0)
        posts = received().filter { $0.hasPrefix("/hook ") }
        #expect(posts.count == 2)
        #expect(posts.last?.contains("RECOVERED health:") == true, "\(posts)")
        #expect(try await setup.run("--quiet", "--alert").exitCode == 0)
        #expect(received().filter { $0.hasPrefix("/hook ") }.count == 2, "one recovery message")
        #expect(received().filter { $0.hasPrefix("/ping") } == ["/ping/fail ", "/ping/fail ", "/ping/fail ", "/ping ", "/ping "])
        // The state survived between processes, and the secret URL is in no output.
        #expect(OpsKitProcess.read(setup.tmp.file("state/montest/monitor-state.json")).contains("health:"))
    }

    @Test func watchRunsEveryNSecondsAndStopsCleanlyOnSIGTERM() async throws {
        let setup = try Setup("monitor:\n" + Self.calm)
        defer { setup.tmp.remove() }
        let script = "OPSKIT_STATE_DIR=\(setup.tmp.file("state")) timeout --preserve-status -s TERM 2.5 "
            + "\(OpsKitBinary.path) monitor --config \(setup.config) --watch 1 --json; echo \"exit=$?\""
        let out = try await Runner().capture(Command("bash", "-c", script), limit: 1 << 20)
        let lines = out.stdoutText.split(separator: "\n")
        let documents = lines.filter { $0.hasPrefix("{") }
        #expect((2...4).contains(documents.count), "\(out.stdoutText)")
        #expect(documents.allSatisfy { JSONValue.parse(Array($0.utf8))?["status"] == .string("OK") })
        #expect(lines.last == "exit=0")
    }
}
