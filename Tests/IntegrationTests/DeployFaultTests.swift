#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// The issue's fault list, one test each: every fault ends with a one-line reason, exit 1, and the old
/// version serving (shown through the proxy with a load loop where traffic matters).
///
/// The full disk is real too, but never the shared engine's: it is a second, private engine whose data root
/// is a 64 MB tmpfs (`scripts/services/small-dockerd`), started and removed by the test that fills it.
extension DockerDeploySuites {
    @Suite(.serialized) struct DeployFaultTests {
        typealias App = DeployCLITests.App

        /// Runs `body` with a fresh app and always cleans up (containers, nginx, state), awaiting it.
        func withApp(watch: Double = 1, image: String = "opskit-test/app", keepReleases: Int? = nil,
                     _ body: (App) async throws -> Void) async throws {
            try await using(try await App.make(watch: watch, image: image, keepReleases: keepReleases),
                            cleanUp: { await $0.cleanUp() }, body)
        }

        func lastLine(_ text: String) -> String { text.split(separator: "\n").last.map(String.init) ?? "" }

        func status(_ entry: JSONValue?) -> String { entry?["status"]?.stringValue ?? "none" }

        // MARK: - Faults before or at the switch

        @Test func nginxConfigThatFailsItsTestKeepsTheOldVersion() async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let upstreamBefore = OpsKitProcess.read(app.proxy.upstreamFile)
                // A typo in upstream_name: the written upstream no longer matches the site's proxy_pass.
                try app.writeConfig(upstreamName: "\(app.name)_typo")

                let load = LoadLoop.start(url: app.proxy.url + "/")
                let out = try await app.run("deploy", "test", "--tag", "v2", "--yes")
                let report = await load.stop()
                #expect(out.exitCode == 1)
                let last = lastLine(out.stderr)
                #expect(last.contains("rejected the new upstream") && last.contains("v1"), "\(out.stderr)")
                #expect(last.contains("host not found in upstream"), "the reason should be nginx's own: \(out.stderr)")
                #expect(report.failures.isEmpty && report.bodies["v2"] == nil, "\(report.failures.prefix(5)) \(report.bodies)")
                #expect(try await app.served() == "v1")
                #expect(OpsKitProcess.read(app.proxy.upstreamFile) == upstreamBefore, "the upstream file was not restored")
                #expect(try await app.running("test-green").isEmpty, "the new version was left running")
                #expect(status(try await app.history().last) == "failed")
            }
        }

        @Test func healthURLThatNeverAnswersSwitchesBack() async throws {
            // Accepts connections (the kernel's backlog) and never answers one.
            let port = try DockerFixture.freePort()
            let listener = try Self.silentListener(port: port)
            defer { close(listener) }
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                try app.writeConfig(healthURL: "http://127.0.0.1:\(port)/api/health")

                let load = LoadLoop.start(url: app.proxy.url + "/")
                let clock = ContinuousClock()
                let start = clock.now
                let out = try await app.run("deploy", "test", "--tag", "v2", "--yes", "--watch", "3")
                let elapsed = clock.now - start
                let report = await load.stop()
                #expect(out.exitCode == 1)
                let last = lastLine(out.stderr)
                #expect(last.contains("failed its health watch") && last.contains("v1 ("), "\(out.stderr)")
                #expect(elapsed < .seconds(90), "a silent health URL must not hang the deploy (took \(elapsed))")
                #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
                #expect(try await app.served() == "v1")
                #expect(try await app.running("test-green").isEmpty)
                #expect(status(try await app.history().last) == "rolled_back")
            }
        }

        @Test func unreachableSSHHostChangesNothing() async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let closed = try DockerFixture.freePort()  // nothing listens there
                let out = try await app.run("deploy", "test", "--tag", "v2", "--yes", "--host", "root@127.0.0.1:\(closed)")
                #expect(out.exitCode == 1)
                let last = lastLine(out.stderr)
                #expect(last.contains("127.0.0.1") && last.lowercased().contains("refused"), "\(out.stderr)")
                #expect(try await app.served() == "v1")
                #expect(try await app.history().count == 1, "the local journal must not change")
            }
        }

        // MARK: - A full disk

        /// The disk where Docker keeps images fills up while the new image is pulled: a real ENOSPC from a
        /// private engine on a 64 MB tmpfs, pulling from a private registry an image ~96 MB bigger than that.
        /// With the default `min_free_disk` (512 MiB) the deploy refuses up front; with 1 it starts, and the
        /// pull fails half-way.
        @Test func diskFullDuringTheImagePullKeepsTheOldVersion() async throws {
            let registry = try await DockerRegistry.start()
            let engine: SmallDockerEngine
            do { engine = try await SmallDockerEngine.start(megabytes: 64) } catch {
                await registry.stop()
                throw error
            }
            let repository = "\(registry.host)/opskit-test/app"
            var app: App
            do { app = try await App.make(watch: 1, image: repository) } catch {
                await engine.stop()
                await registry.stop()
                throw error
            }
            app.dockerHost = engine.host
            let cleanUp = { [app] in
                await app.cleanUp()
                await engine.stop()
                await registry.stop()
                // The tags pushed from the default engine; `big` takes ~100 MB there.
                _ = try? await Runner().capture(Command("docker", "image", "rm", "\(repository):v1", "\(repository):big"))
            }
            do {
                try await diskFull(app, engine: engine, repository: repository)
            } catch {
                await cleanUp()
                throw error
            }
            await cleanUp()
        }

        func diskFull(_ app: App, engine: SmallDockerEngine, repository: String) async throws {
            // v1 as it is; big: v2 plus a layer of 96 MB that does not compress. Both pushed to the registry.
            let runner = Runner()
            _ = try await runner.capture(Command("docker", "tag", "opskit-test/app:v1", "\(repository):v1"))
            let context = app.dir.file("big")
            _ = try await runner.capture(Command("sh", "-c", #"mkdir -p "$1" && head -c 96M /dev/urandom >"$1/filler""#,
                                                 "_", context))
            try "FROM opskit-test/app:v2\nCOPY filler /filler\n".write(toFile: context + "/Dockerfile")
            _ = try await runner.capture(Command("docker", "build", "--quiet", "--tag", "\(repository):big", context,
                                                 environment: ["DOCKER_BUILDKIT": "0"], timeout: .seconds(300)))
            _ = try await runner.capture(Command("rm", "-rf", context))
            for tag in ["v1", "big"] {
                _ = try await runner.capture(Command("docker", "push", "--quiet", "\(repository):\(tag)", timeout: .seconds(300)))
            }
            // Host networking (the small engine has no bridge): the image's start script, on the slot's port.
            try """
            version: "2.4"
            services:
              app:
                image: ${OPSKIT_IMAGE}
                network_mode: host
                command: ["/bin/sh", "-c", "sed 's/-p 3000/-p 127.0.0.1:${OPSKIT_PORT}/' /app/start >/tmp/start && exec /bin/sh /tmp/start"]
            """.write(toFile: app.dir.file("compose.yml"))

            // The default min_free_disk: refused before anything changes.
            let refused = try await app.run("deploy", "test", "--tag", "v1", "--yes")
            #expect(refused.exitCode == 1)
            let reason = lastLine(refused.stderr)
            // "only N MiB free on …": N is what the 64 MB tmpfs has left.
            let free = reason.split(separator: "only ").dropFirst().first?.split(separator: " ").first.flatMap { Int($0) }
            #expect(free.map { $0 <= 64 } == true, "\(refused.stderr)")
            #expect(reason.contains("MiB free") && reason.contains("need 512 MiB") && reason.contains("min_free_disk")
                    && reason.hasSuffix("nothing was changed"), "\(refused.stderr)")
            #expect(try await app.running("test-blue").isEmpty)
            #expect(try await app.history().isEmpty, "a refused deploy must not be journaled")

            try app.writeConfig(image: repository, extra: "    min_free_disk: 1")
            let v1 = try await app.run("deploy", "test", "--tag", "v1", "--yes")
            #expect(v1.exitCode == 0, "\(v1.stderr)")
            #expect(try await app.served() == "v1")
            #expect(try await app.running("test-blue") == ["\(repository):v1"])
            // It runs in the small engine, not the shared one.
            var shared = app
            shared.dockerHost = nil
            #expect(try await shared.running("test-blue").isEmpty)

            let load = LoadLoop.start(url: app.proxy.url + "/")
            let big = try await app.run("deploy", "test", "--tag", "big", "--yes")
            let report = await load.stop()
            #expect(big.exitCode == 1)
            let last = lastLine(big.stderr)
            #expect(last.contains("getting the image \(repository):big failed") && last.contains("ran out of disk space")
                    && last.contains("no space left on device") && last.contains("v1 (") && last.hasSuffix("keeps serving"),
                    "\(big.stderr)")
            #expect(!big.stderr.contains("retry"), "a full disk is not worth retrying: \(big.stderr)")
            #expect(report.failures.isEmpty && report.bodies["big"] == nil, "\(report.failures.prefix(5)) \(report.bodies)")
            #expect(try await app.served() == "v1")
            #expect(try await app.running("test-green").isEmpty)
            #expect(try await app.running("test-blue") == ["\(repository):v1"])
            let entry = try await app.history().last
            #expect(status(entry) == "failed" && entry?["imageTag"]?.stringValue == "big", "\(String(describing: entry))")
            #expect(entry?["reason"]?.stringValue?.contains("no space left on device") == true)
            // The half-pulled image is not there; the engine cleaned up its partial download.
            var inspect = engine.docker("image", "inspect", "\(repository):big")
            inspect.allowedExitCodes = [0, 1]
            #expect(try await Runner().capture(inspect).termination == .exited(1))
        }

        // MARK: - Concurrency and crashes

        @Test func concurrentDeployIsRefusedNamingTheHolderOrWaitsForIt() async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let first = try app.start("deploy", "test", "--tag", "v2", "--yes", "--watch", "8")
                try await first.waitForStderr(containing: "watching")

                let refused = try await app.run("deploy", "test", "--tag", "v1", "--yes")
                #expect(refused.exitCode == 1)
                let last = lastLine(refused.stderr)
                #expect(last.contains("locked by pid \(first.pid) (deploy test)") && last.contains(" since 20"), "\(refused.stderr)")

                // Ctrl-C while waiting for the lock: a clean one-line message, and the holder's lock stays.
                let waiter = try app.start("deploy", "test", "--tag", "v1", "--yes", "--lock-wait", "60")
                try await waiter.waitForStderr(containing: "waiting up to 60 s for the lock held by pid \(first.pid)")
                waiter.signal(SIGINT)
                #expect(try await waiter.wait() == 1)
                #expect(lastLine(waiter.stderr).contains("interrupted") && !waiter.stderr.contains("CancellationError"),
                        "\(waiter.stderr)")
                #expect(OpsKitProcess.read(app.lockFile).contains("\"pid\" : \(first.pid)"), "the holder's lock was touched")

                let waited = try await app.run("deploy", "test", "--tag", "v1", "--yes", "--lock-wait", "120")
                #expect(waited.exitCode == 0, "\(waited.stderr)")
                #expect(try await first.wait() == 0, "\(first.stderr)")
                #expect(try await app.served() == "v1")
                let history = try await app.history()
                #expect(history.map { $0["imageTag"]?.stringValue ?? "" } == ["v1", "v2", "v1"])
                #expect(history.map { status($0) } == ["success", "success", "success"])
            }
        }

        @Test func killDashNineMidDeployLeavesTheOldVersionAndTheNextDeployTakesOver() async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let load = LoadLoop.start(url: app.proxy.url + "/")
                // v3 never becomes healthy, so the health gate is still running when the process dies.
                let killed = try app.start("deploy", "test", "--tag", "v3", "--yes")
                try await waitForJournal(app, status: "health_check")
                killed.signal(SIGKILL)
                #expect(try await killed.wait() == 128 + SIGKILL)
                try await Task.sleep(for: .seconds(1))
                #expect(try await app.served() == "v1")
                #expect(OpsKitProcess.read(app.lockFile).contains("\"pid\" : \(killed.pid)"), "the dead run's lock should remain")

                let next = try await app.run("deploy", "test", "--tag", "v2", "--yes")
                let report = await load.stop()
                #expect(next.exitCode == 0, "\(next.stderr)")
                #expect(next.stderr.contains("stale lock") && next.stderr.contains("pid \(killed.pid)"), "\(next.stderr)")
                #expect(report.failures.isEmpty && report.bodies["v3"] == nil, "\(report.failures.prefix(5)) \(report.bodies)")
                #expect(try await app.served() == "v2")
                #expect(!FileManagerless.exists(app.lockFile))
                // The dead run's journal entry is closed as failed (abandoned) by the run that took over.
            let v3 = try await app.history().first { $0["imageTag"] == .string("v3") }
            #expect(v3?["status"] == .string("failed"), "\(String(describing: v3))")
            #expect(v3?["reason"]?.stringValue?.contains("abandoned") == true)
            // The slot v3 was left running in is reused by v2; the old one is drained and stopped.
                #expect(try await app.running("test-green") == ["opskit-test/app:v2"])
                #expect(try await app.running("test-blue").isEmpty)
            }
        }

        @Test(arguments: [SIGTERM, SIGINT])
        func signalDuringTheHealthGateStopsTheNewVersion(_ sig: Int32) async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let load = LoadLoop.start(url: app.proxy.url + "/")
                let deploy = try app.start("deploy", "test", "--tag", "v3", "--yes")
                try await waitForJournal(app, status: "health_check")
                deploy.signal(sig)
                let code = try await deploy.wait()
                let report = await load.stop()
                try await expectInterruptedCleanly(app, deploy, code: code, report: report)
            }
        }

        @Test(arguments: [SIGTERM, SIGINT])
        func signalDuringTheWatchSwitchesBack(_ sig: Int32) async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let load = LoadLoop.start(url: app.proxy.url + "/")
                let deploy = try app.start("deploy", "test", "--tag", "v2", "--yes", "--watch", "30")
                try await deploy.waitForStderr(containing: "watching")
                // The watch runs after the switch (a reload's old workers may answer a moment longer).
                #expect(try await eventually { try await app.served() == "v2" })
                deploy.signal(sig)
                let code = try await deploy.wait(timeout: .seconds(60))
                let report = await load.stop()
                try await expectInterruptedCleanly(app, deploy, code: code, report: report)
            }
        }

        /// Ctrl-C while the target is being checked: the killed check is not reported as a broken compose file.
        @Test func interruptDuringThePrechecksSaysSo() async throws {
            try await withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let deploy = try app.start("deploy", "test", "--tag", "v2", "--yes", "--verbose")
                // Logged once Compose is found, just before the compose file is validated.
                try await deploy.waitForStderr(containing: "using docker-compose")
                deploy.signal(SIGINT)
                #expect(try await deploy.wait() == 1, "\(deploy.stderr)")
                let last = lastLine(deploy.stderr)
                #expect(last.contains("interrupted") && !last.contains("compose file"), "\(deploy.stderr)")
                #expect(try await app.served() == "v1")
                #expect(!FileManagerless.exists(app.lockFile))
                #expect(try await app.running("test-green").isEmpty)
            }
        }

        /// After Ctrl-C/SIGTERM: exit 1, one line, v1 serving with no failed request, the new slot gone,
        /// the lock released and the journal saying `failed`.
        func expectInterruptedCleanly(_ app: App, _ deploy: OpsKitProcess, code: Int32, report: LoadLoop.Report) async throws {
            #expect(code == 1, "\(deploy.stderr)")
            let last = lastLine(deploy.stderr)
            #expect(last.contains("interrupted") && last.contains("v1 ("), "\(deploy.stderr)")
            #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
            #expect(try await app.served() == "v1")
            #expect(try await app.running("test-green").isEmpty, "the new version was left running")
            #expect(try await app.running("test-blue") == ["opskit-test/app:v1"])
            #expect(!FileManagerless.exists(app.lockFile), "the lock was not released")
            let entry = try await app.history().last
            #expect(status(entry) == "failed" && entry?["reason"]?.stringValue?.contains("interrupted") == true, "\(String(describing: entry))")
        }

        /// Polls `condition` for up to `timeout`; true as soon as it holds.
        func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
            let clock = ContinuousClock()
            let end = clock.now + timeout
            while clock.now < end {
                if (try? await condition()) == true { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return try await condition()
        }

        func waitForJournal(_ app: App, status: String, timeout: Duration = .seconds(60)) async throws {
            let file = app.dir.file("state/\(app.name)/deployments-test.json")
            let clock = ContinuousClock()
            let end = clock.now + timeout
            while clock.now < end {
                if OpsKitProcess.read(file).contains("\"\(status)\"") { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestSupportError("the journal never said \(status): \(OpsKitProcess.read(file))")
        }

        // MARK: - Strategies and housekeeping

        @Test func recreateWithoutAProxyBringsThePreviousVersionBack() async throws {
            try await withApp { app in
                let url = "http://127.0.0.1:\(app.ports[2])/"
                let v1 = try await app.run("deploy", "direct", "--strategy", "recreate", "--tag", "v1", "--yes")
                #expect(v1.exitCode == 0, "\(v1.stderr)")
                #expect(try await app.firstLine(of: url) == "v1")
                let v2 = try await app.run("deploy", "direct", "--strategy", "recreate", "--tag", "v2", "--yes")
                #expect(v2.exitCode == 0, "\(v2.stderr)")
                #expect(try await app.firstLine(of: url) == "v2")

                let v3 = try await app.run("deploy", "direct", "--strategy", "recreate", "--tag", "v3", "--yes")
                #expect(v3.exitCode == 1)
                let last = lastLine(v3.stderr)
                #expect(last.contains("v3 did not become healthy") && last.contains("v2"), "\(v3.stderr)")
                #expect(try await app.running("direct-blue") == ["opskit-test/app:v2"])
                // Recreate has downtime by design; v2 must answer again soon after.
                var answer = ""
                let clock = ContinuousClock()
                let end = clock.now + .seconds(30)
                while clock.now < end {
                    answer = (try? await app.firstLine(of: url)) ?? ""
                    if answer == "v2" { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(answer == "v2")
                let history = try await app.history("direct")
                #expect(history.map { status($0) } == ["success", "success", "failed"])
            }
        }

        /// keep_releases: 2 keeps the newest two images of the app's repository and never the current or
        /// previous one. A private repository, so the shared test images are never pruned.
        @Test func pruneKeepsTheNewestReleasesAndTheCurrentAndPrevious() async throws {
            let repository = "opskit-prune-\(UInt32.random(in: 0...UInt32.max))/app"
            defer { Self.removeImages(repository) }
            try await withApp(image: repository, keepReleases: 2) { app in
                try await Self.build(repository, "a", from: "v1", in: app.dir)
                #expect(try await app.run("deploy", "test", "--tag", "a", "--yes").exitCode == 0)
                // Created after `a`, one second apart (the engine lists creation times in whole seconds).
                for tag in ["p1", "p2", "p3", "p4", "b"] {
                    try await Task.sleep(for: .milliseconds(1100))
                    try await Self.build(repository, tag, from: tag == "b" ? "v2" : "v1", in: app.dir)
                }
                let out = try await app.run("deploy", "test", "--tag", "b", "--yes")
                #expect(out.exitCode == 0, "\(out.stderr)")
                #expect(try await app.served() == "v2")
                // Newest two: b (current) and p4; a is the previous release; p1…p3 are beyond keep_releases.
                #expect(try await Self.tags(repository) == ["a", "b", "p4"])
            }
        }

        static func build(_ repository: String, _ tag: String, from version: String, in dir: TempDirectory) async throws {
            let context = dir.file("build-\(tag)")
            _ = try await Runner().capture(Command("mkdir", "-p", context))
            try "FROM opskit-test/app:\(version)\nLABEL opskit.test.prune=\"\(repository):\(tag)\"\n"
                .write(toFile: context + "/Dockerfile")
            _ = try await Runner().capture(Command("docker", "build", "--quiet", "--tag", "\(repository):\(tag)", context,
                                                   environment: ["DOCKER_BUILDKIT": "0"]))
        }

        static func tags(_ repository: String) async throws -> [String] {
            let out = try await Runner().capture(Command("docker", "image", "ls", "--format", "{{.Tag}}", repository))
            return out.stdoutText.split(separator: "\n").map(String.init).sorted()
        }

        static func removeImages(_ repository: String) {
            _ = system("docker image ls --format '{{.Repository}}:{{.Tag}}' '\(repository)' | xargs -r docker image rm -f >/dev/null 2>&1")
        }

        /// A TCP socket that listens and never accepts: connections complete, requests are never answered.
        static func silentListener(port: Int) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 64) == 0 else {
                close(fd)
                throw TestSupportError("cannot listen on 127.0.0.1:\(port): errno \(errno)")
            }
            return fd
        }
    }
}
