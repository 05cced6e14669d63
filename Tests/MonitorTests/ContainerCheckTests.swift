import FoundationEssentials
import OpsCore
import Shell
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import Monitor

/// `ContainerCheck` against the real engine (`scripts/services/dockerd`), with containers of the test image
/// `opskit-test/app:v1` (busybox, no HEALTHCHECK of its own) named `opskit-mon-<random>-…`.
@Suite struct ContainerCheckEngineTests {
    @Test func eachContainerStateGetsItsVerdict() async throws {
        try await withContainers { c in
            try await c.run("plain")
            try await c.run("healthy", "--health-cmd", "true", "--health-interval", "1s")
            try await c.run("starting", "--health-cmd", "true", "--health-interval", "1h")
            try await c.run("unhealthy", "--health-cmd", "echo checking; echo database down; exit 1",
                            "--health-interval", "1s", "--health-retries", "1")
            try await c.run("exited", "--entrypoint", "sh", entrypointArguments: ["-c", "exit 3"])
            try await c.docker("create", "--name", c.name("created"), "--label", "opskit.test=monitor", Self.image)
            try await c.run("paused")
            try await c.docker("pause", c.name("paused"))
            try await c.wait(for: "healthy", "{{.State.Health.Status}}", "healthy")
            try await c.wait(for: "unhealthy", "{{.State.Health.Status}}", "unhealthy")
            try await c.wait(for: "exited", "{{.State.Status}}", "exited")

            let (all, restarts) = await ContainerCheck().run(previousRestarts: [:])
            let results = c.ours(all)
            #expect(results.count == 7, "\(results)")
            let plain = try #require(results[c.name("plain")])
            #expect(plain.state == .ok)
            #expect(plain.summary.hasPrefix("running, up "), "\(plain.summary)")
            #expect(plain.id == "container:" + c.name("plain"))
            #expect(plain.check == "container")
            #expect(plain.labels == ["container": c.name("plain"), "image": Self.image])
            #expect(plain.value == 0)
            #expect(plain.unit == "restarts")

            #expect(results[c.name("healthy")]?.state == .ok)
            #expect(results[c.name("healthy")]?.summary.hasPrefix("running and healthy") == true)
            #expect(results[c.name("starting")]?.state == .ok)
            #expect(results[c.name("starting")]?.summary.contains("starting") == true)

            let unhealthy = try #require(results[c.name("unhealthy")])
            #expect(unhealthy.state == .critical)
            #expect(unhealthy.summary.hasPrefix("running but unhealthy"), "\(unhealthy.summary)")
            #expect(unhealthy.summary.hasSuffix(": database down"), "\(unhealthy.summary)")

            let exited = try #require(results[c.name("exited")])
            #expect(exited.state == .warning, "not expected: a finished job, not an outage")
            #expect(exited.summary.hasPrefix("exited (code 3) "), "\(exited.summary)")
            #expect(exited.summary.hasSuffix(" ago"), "\(exited.summary)")

            #expect(results[c.name("created")]?.state == .warning)
            #expect(results[c.name("created")]?.summary == "created but never started")
            #expect(results[c.name("paused")]?.state == .warning)
            #expect(results[c.name("paused")]?.summary.hasPrefix("paused") == true)

            for name in ["plain", "healthy", "starting", "unhealthy", "exited", "created", "paused"] {
                #expect(restarts[c.name(name)] == 0, "\(name)")
            }
            let engine = try #require(all.first { $0.id == "containers" })
            #expect(engine.state == .ok)
            #expect(engine.summary.hasPrefix("Docker engine at /var/run/docker.sock answers: "), "\(engine.summary)")

            // The same exited container, now expected to run.
            let expecting = await ContainerCheck(expected: [c.name("exited")]).run(previousRestarts: [:])
            let expectedExited = try #require(c.ours(expecting.results)[c.name("exited")])
            #expect(expectedExited.state == .critical)
            #expect(expectedExited.summary.hasSuffix("ago; expected to be running"), "\(expectedExited.summary)")
        }
    }

    @Test func aContainerInARestartLoopIsCritical() async throws {
        try await withContainers { c in
            try await c.run("loop", "--restart", "always", "--entrypoint", "sh", entrypointArguments: ["-c", "exit 1"])
            // Between restarts the engine shows it `running` for an instant; its back-off soon keeps it
            // `restarting` most of the time.
            var seen: CheckResult?
            for _ in 0..<60 {
                let result = c.ours(await ContainerCheck().run(previousRestarts: [:]).results)[c.name("loop")]
                if result?.summary.hasPrefix("restarting") == true {
                    seen = result
                    break
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            let result = try #require(seen, "never seen restarting")
            #expect(result.state == .critical)
            #expect(result.summary.hasPrefix("restarting: exited (code 1), restarted "), "\(result.summary)")
        }
    }

    @Test func aGrownRestartCountWarnsOnce() async throws {
        try await withContainers { c in
            // Runs until /tmp/fail appears, then fails once; the engine restarts it (same file system).
            try await c.run("flaky", "--restart", "on-failure", "--entrypoint", "sh", entrypointArguments: [
                "-c", "until [ -f /tmp/fail ]; do sleep 1; done; rm /tmp/fail; exit 1",
            ])
            let check = ContainerCheck()
            let first = await check.run(previousRestarts: [:])
            #expect(c.ours(first.results)[c.name("flaky")]?.state == .ok)
            #expect(first.restarts[c.name("flaky")] == 0)

            try await c.docker("exec", c.name("flaky"), "touch", "/tmp/fail")
            try await c.wait(for: "flaky", "{{.RestartCount}} {{.State.Status}}", "1 running")

            let second = await check.run(previousRestarts: first.restarts)
            let warned = try #require(c.ours(second.results)[c.name("flaky")])
            #expect(warned.state == .warning)
            #expect(warned.summary.hasPrefix("restarted 1 time since the last run; running, up "), "\(warned.summary)")
            #expect(warned.value == 1)
            #expect(warned.unit == "restarts")
            #expect(second.restarts[c.name("flaky")] == 1)

            let third = await check.run(previousRestarts: second.restarts)
            #expect(c.ours(third.results)[c.name("flaky")]?.state == .ok)
        }
    }

    @Test func expectedServicesMatchNamesOrComposeServices() async throws {
        try await withContainers { c in
            try await c.run("svc-1", "--label", "com.docker.compose.service=" + c.name("svc"))
            let check = ContainerCheck(expected: [c.name("svc"), c.name("nothere")])
            let results = c.ours(await check.run(previousRestarts: [:]).results)
            #expect(results.count == 2, "\(results)")
            #expect(results[c.name("svc-1")]?.state == .ok)
            let missing = try #require(results[c.name("nothere")])
            #expect(missing.state == .critical)
            #expect(missing.id == "container:" + c.name("nothere"))
            #expect(missing.summary == "expected service \(c.name("nothere")) is not running (no such container)")

            // The image's start script stops at once on SIGTERM, exit code 0.
            try await c.docker("stop", c.name("svc-1"))
            let stopped = c.ours(await check.run(previousRestarts: [:]).results)[c.name("svc-1")]
            #expect(stopped?.state == .critical)
            #expect(stopped?.summary.hasPrefix("exited (code 0) ") == true, "\(stopped?.summary ?? "")")
        }
    }

    static let image = "opskit-test/app:v1"
}

/// The engine cannot be reached: one UNKNOWN `containers` result saying why, restart counts kept.
@Suite struct ContainerCheckUnreachableTests {
    let previous = ["web": 2]

    @Test func aMissingSocket() async throws {
        let (results, restarts) = await ContainerCheck(socketPath: "/nonexistent/docker.sock").run(previousRestarts: previous)
        let result = try #require(results.count == 1 ? results.first : nil, "\(results)")
        #expect(result.id == "containers")
        #expect(result.check == "container")
        #expect(result.state == .unknown)
        #expect(result.summary.hasPrefix("cannot reach the Docker engine at /nonexistent/docker.sock: no such socket"),
                "\(result.summary)")
        #expect(!result.summary.contains("\n"))
        #expect(restarts == previous)
    }

    @Test func aFileThatIsNoSocket() async throws {
        let directory = try TempDirectory(prefix: "opskit-mon")
        defer { directory.remove() }
        try "".write(toFile: directory.file("docker.sock"))
        let results = await ContainerCheck(socketPath: directory.file("docker.sock")).run(previousRestarts: [:]).results
        #expect(results.map(\.state) == [.unknown])
        #expect(results.first?.summary.contains("docker.sock: not a socket") == true, "\(results)")
    }

    @Test func aSocketNobodyListensOn() async throws {
        let directory = try TempDirectory(prefix: "opskit-mon")
        defer { directory.remove() }
        let fd = try unixSocket(at: directory.file("docker.sock"), listening: false)
        defer { close(fd) }
        let results = await ContainerCheck(socketPath: directory.file("docker.sock")).run(previousRestarts: [:]).results
        #expect(results.map(\.state) == [.unknown])
        #expect(results.first?.summary.contains("docker.sock: connection refused — ") == true, "\(results)")
    }

    @Test func anEngineThatNeverAnswers() async throws {
        let directory = try TempDirectory(prefix: "opskit-mon")
        defer { directory.remove() }
        // Connections queue in the backlog and are never accepted: the request gets no answer.
        let fd = try unixSocket(at: directory.file("docker.sock"), listening: true)
        defer { close(fd) }
        var check = ContainerCheck(socketPath: directory.file("docker.sock"))
        check.timeout = .milliseconds(300)
        let results = await check.run(previousRestarts: [:]).results
        #expect(results.map(\.state) == [.unknown])
        #expect(results.first?.summary.contains("docker.sock: no answer within 0.3 s") == true, "\(results)")
    }

    @Test func aDockerHostOverTCP() async throws {
        let endpoint = DockerEndpoint.resolve(socketPath: nil, dockerHost: "tcp://10.0.0.5:2376")
        guard case .unsupported(let reason) = endpoint else {
            Issue.record("tcp:// accepted: \(endpoint)")
            return
        }
        #expect(reason.hasPrefix("DOCKER_HOST=tcp://10.0.0.5:2376 is not a Unix socket"))
    }

    @Test func theSocketPathComesFromTheArgumentThenDockerHost() {
        #expect(DockerEndpoint.resolve(socketPath: nil, dockerHost: nil) == .socket("/var/run/docker.sock"))
        #expect(DockerEndpoint.resolve(socketPath: nil, dockerHost: "") == .socket("/var/run/docker.sock"))
        #expect(DockerEndpoint.resolve(socketPath: nil, dockerHost: "unix:///run/user/1000/docker.sock")
            == .socket("/run/user/1000/docker.sock"))
        #expect(DockerEndpoint.resolve(socketPath: "/srv/docker.sock", dockerHost: "unix:///run/docker.sock")
            == .socket("/srv/docker.sock"))
        #expect(DockerEndpoint.resolve(socketPath: "/srv/docker.sock", dockerHost: "tcp://h:2375")
            == .socket("/srv/docker.sock"))
    }

    /// A Unix stream socket bound at `path`; connecting to it is refused unless it listens.
    func unixSocket(at path: String, listening: Bool) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ContainerTestError("socket failed: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let fits = withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            guard bytes.count < buffer.count else { return false }
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
            return true
        }
        guard fits else { close(fd); throw ContainerTestError("socket path too long: \(path)") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, !listening || listen(fd, 8) == 0 else {
            let code = errno
            close(fd)
            throw ContainerTestError("bind/listen on \(path) failed: errno \(code)")
        }
        return fd
    }
}

/// The verdicts from inspected states, without an engine.
@Suite struct ContainerCheckVerdictTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func container(_ status: String, restarts: Int = 0) -> ContainerState {
        ContainerState(id: "abc", name: "web", image: "nginx:1.27", status: status, exitCode: 137,
                       restartCount: restarts, startedAt: now.addingTimeInterval(-7200),
                       finishedAt: now.addingTimeInterval(-3 * 3600 - 5))
    }

    @Test func exitedIsCriticalOnlyWhenExpected() {
        let warned = ContainerCheck.result(for: container("exited"), expected: false, previousRestarts: nil, now: now)
        #expect(warned.state == .warning)
        #expect(warned.summary == "exited (code 137) 3 h ago")
        let failed = ContainerCheck.result(for: container("dead"), expected: true, previousRestarts: nil, now: now)
        #expect(failed.state == .critical)
        #expect(failed.summary == "dead (code 137) 3 h ago; expected to be running")
    }

    @Test func aRestartNoteNeverLowersAWorseState() {
        let restarting = ContainerCheck.result(for: container("restarting", restarts: 7), expected: false,
                                               previousRestarts: 4, now: now)
        #expect(restarting.state == .critical)
        #expect(restarting.summary == "restarting: exited (code 137), restarted 7 times so far; "
            + "restarted 3 times since the last run")
        #expect(restarting.value == 7)
        #expect(restarting.warning == 5)
        // Fewer restarts than last time: the container was re-created, nothing to say.
        let recreated = ContainerCheck.result(for: container("running", restarts: 0), expected: false,
                                              previousRestarts: 4, now: now)
        #expect(recreated.state == .ok)
        #expect(recreated.summary == "running, up 2 h")
    }

    @Test func anUnknownStatusIsUnknown() {
        #expect(ContainerCheck.result(for: container("hibernating"), expected: false, previousRestarts: nil, now: now).state
            == .unknown)
    }

    @Test func restartCountsAreRememberedPerName() {
        var other = container("running", restarts: 2)
        other.name = "db"
        let (results, restarts) = ContainerCheck.evaluate([container("running", restarts: 1), other], expected: ["web", "cache"],
                                                          previousRestarts: ["web": 1, "gone": 9], now: now)
        #expect(restarts == ["web": 1, "db": 2])
        #expect(results.map(\.id) == ["container:cache", "container:db", "container:web"])
        #expect(results.map(\.state) == [.critical, .ok, .ok])
    }

    @Test func inspectDocumentsAreRead() throws {
        let json = try #require(JSONValue.parse(Array("""
            {"Id": "f00", "Name": "/web", "RestartCount": 2,
             "Config": {"Image": "nginx:1.27", "Labels": {"com.docker.compose.service": "front"}},
             "State": {"Status": "running", "ExitCode": 0, "OOMKilled": false,
                       "StartedAt": "2026-11-22T07:41:43.17407609Z", "FinishedAt": "0001-01-01T00:00:00Z",
                       "Health": {"Status": "unhealthy", "FailingStreak": 3,
                                  "Log": [{"ExitCode": 1, "Output": "old\\n"}, {"ExitCode": 1, "Output": "a\\n  b failed \\n\\n"}]}}}
            """.utf8)))
        let state = try #require(ContainerState(inspect: json))
        #expect(state.name == "web")
        #expect(state.image == "nginx:1.27")
        #expect(state.labels == ["com.docker.compose.service": "front"])
        #expect(state.health == "unhealthy")
        #expect(state.healthOutput == "b failed")
        #expect(state.failingStreak == 3)
        #expect(state.restartCount == 2)
        #expect(state.finishedAt == nil)
        #expect(state.startedAt == EngineTime.parse("2026-11-22T07:41:43Z"))
        let result = ContainerCheck.result(for: state, expected: false, previousRestarts: nil, now: state.startedAt!)
        #expect(result.summary == "running but unhealthy (3 failed checks in a row): b failed")
    }

    @Test func engineTimes() {
        #expect(EngineTime.parse("1970-01-02T00:00:00Z") == Date(timeIntervalSince1970: 86_400))
        #expect(EngineTime.parse("1970-01-02T01:30:00.5+01:30") == Date(timeIntervalSince1970: 86_400))
        #expect(EngineTime.parse("0001-01-01T00:00:00Z") == nil)
        #expect(EngineTime.parse("2026-11-22 07:41:43") == nil)
        #expect(EngineTime.parse("2026-11-22T07:41:43") == nil)
    }
}

struct ContainerTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Containers named `opskit-mon-<random>-<name>`, all removed when `body` ends, failed or not.
func withContainers(_ body: (TestContainers) async throws -> Void) async throws {
    try await DockerFixture.ensure()
    let containers = TestContainers()
    do {
        try await body(containers)
    } catch {
        await containers.removeAll()
        throw error
    }
    await containers.removeAll()
}

struct TestContainers {
    let prefix = "opskit-mon-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"

    func name(_ short: String) -> String { prefix + "-" + short }

    /// `docker run -d` of the test image; `options` go before the image, `entrypointArguments` after it.
    func run(_ short: String, _ options: String..., entrypointArguments: [String] = []) async throws {
        try await docker(argv: ["run", "-d", "--name", name(short), "--label", "opskit.test=monitor"] + options
            + [ContainerCheckEngineTests.image] + entrypointArguments)
    }

    func docker(_ arguments: String...) async throws {
        try await docker(argv: arguments)
    }

    func docker(argv: [String]) async throws {
        _ = try await Runner().capture(Command(argv: ["docker"] + argv, timeout: .seconds(60)))
    }

    /// Polls `docker inspect -f format` until it prints `value` (at most 60 s).
    func wait(for short: String, _ format: String, _ value: String) async throws {
        var last = ""
        for _ in 0..<240 {
            last = try await Runner().capture(Command("docker", "inspect", "-f", format, name(short), timeout: .seconds(30)))
                .stdoutText
            if last == value { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ContainerTestError("\(name(short)): \(format) is still '\(last)', not '\(value)'")
    }

    /// This test's results by container name.
    func ours(_ results: [CheckResult]) -> [String: CheckResult] {
        var mine: [String: CheckResult] = [:]
        for result in results {
            if let container = result.labels["container"], container.hasPrefix(prefix + "-") { mine[container] = result }
        }
        return mine
    }

    func removeAll() async {
        let script = "docker ps -aq --filter name=\(prefix)- | xargs -r docker rm -f >/dev/null"
        _ = try? await Runner().capture(Command("bash", "-c", script, timeout: .seconds(60)))
    }
}
