#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// `deploy` and `rollback` with `engine: swarm` end to end: the built binary, the local engine as a
/// single-node swarm manager (`scripts/services/swarm start`), a stack per test, and its edge as the public URL.
extension DockerDeploySuites {
    @Suite(.serialized) struct SwarmDeployTests {
        /// Swarm's own rollback (a HEALTHCHECK in the stack file sees v3 fail) is an exit 1 of ours, and a
        /// rollback through the journal goes two versions back, further than Swarm's one previous spec.
        @Test func stackDeployUpdateSwarmRollbackAndRollbackTwoBack() async throws {
            try await Self.withApp { app in
                let plan = try await app.run("deploy", "test", "--tag", "v1", "--dry-run")
                #expect(plan.exitCode == 0, "\(plan.stderr)")
                #expect(plan.stdout.contains("docker stack deploy -c \(app.dir.file("stack.yml")) \(app.stack)"), "\(plan.stdout)")
                #expect(try await app.specImage() == nil, "the dry run created the service")

                let first = try await app.run("deploy", "test", "--tag", "v1", "--yes")
                #expect(first.exitCode == 0, "\(first.stderr)")
                #expect(first.stderr.contains("creating stack \(app.stack)"), "\(first.stderr)")
                #expect(try await app.served() == "v1")
                #expect(try await app.history().map { $0["status"]?.stringValue ?? "" } == ["success"])

                let dryRun = try await app.run("deploy", "test", "--tag", "v2", "--dry-run")
                #expect(dryRun.exitCode == 0, "\(dryRun.stderr)")
                #expect(dryRun.stdout.contains("docker service update --image opskit-test/app:v2"), "\(dryRun.stdout)")
                #expect(try await app.specImage() == "opskit-test/app:v1")
                #expect(try await app.history().count == 1, "the dry run wrote the journal")

                let second = try await app.run("deploy", "test", "--tag", "v2", "--yes", "--json")
                #expect(second.exitCode == 0, "\(second.stderr)")
                let record = try #require(JSONValue.parse(Array(second.stdout.utf8)))
                #expect(record["status"] == .string("success") && record["previousVersion"] == .string("v1"))
                #expect(record["healthCheckPassed"] == .bool(true) && record["strategy"] == .string("swarm"))
                #expect(try await app.specImage() == "opskit-test/app:v2")
                #expect(try await app.served() == "v2")

                // v3 never turns healthy: Swarm's healthcheck fails the task, Swarm rolls back by itself (and
                // `docker service update` exits 0); ours says so and exits 1.
                let third = try await app.run("deploy", "test", "--tag", "v3", "--yes")
                #expect(third.exitCode == 1)
                let last = third.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.contains("Swarm rolled it back") && last.contains("v2 keeps serving"), "\(third.stderr)")
                #expect(try await app.specImage() == "opskit-test/app:v2")
                #expect(try await app.served() == "v2")

                // Two back: v1, by tag, from the journal (Swarm's PreviousSpec is v3's failed one, or v1's).
                let back = try await app.run("rollback", "test", "v1", "--yes")
                #expect(back.exitCode == 0, "\(back.stderr)")
                #expect(try await app.specImage() == "opskit-test/app:v1")
                #expect(try await app.served() == "v1")

                let entries = try await app.history()
                #expect(entries.map { $0["imageTag"]?.stringValue ?? "" } == ["v1", "v2", "v3", "v1"])
                #expect(entries.map { $0["status"]?.stringValue ?? "" } == ["success", "success", "rolled_back", "success"])
                #expect(entries.last?["kind"] == .string("rollback"))
            }
        }

        /// Without a HEALTHCHECK Swarm sees v3's task running and calls the update done; our gate on the public
        /// URL catches it and rolls the service back. v4 passes the gate and fails the watch: rolled back too.
        @Test func ourGateAndWatchRollBackWhatSwarmCannotSee() async throws {
            try await Self.withApp(swarmHealthcheck: false) { app in
                let first = try await app.run("deploy", "test", "--tag", "v1", "--yes")
                #expect(first.exitCode == 0, "\(first.stderr)")
                #expect(try await app.served() == "v1")

                let third = try await app.run("deploy", "test", "--tag", "v3", "--yes")
                #expect(third.exitCode == 1)
                let last = third.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.contains("the health gate of v3 failed") && last.contains("rolled back to v1")
                        && last.contains("v1 keeps serving"), "\(third.stderr)")
                #expect(try await app.specImage() == "opskit-test/app:v1")
                #expect(try await app.served() == "v1")

                // v4 answers healthy for its first 5 s. Swarm watches the update for `watch` seconds first, so
                // whether our gate or our watch sees it turn is a matter of timing: either must roll back.
                let fourth = try await app.run("deploy", "test", "--tag", "v4", "--yes", "--watch", "3")
                #expect(fourth.exitCode == 1)
                #expect((fourth.stderr.contains("the health watch of v4 failed") || fourth.stderr.contains("the health gate of v4 failed"))
                        && fourth.stderr.contains("rolled back to v1"), "\(fourth.stderr)")
                #expect(try await app.specImage() == "opskit-test/app:v1")
                #expect(try await app.served() == "v1")

                let entries = try await app.history()
                #expect(entries.map { $0["status"]?.stringValue ?? "" } == ["success", "rolled_back", "rolled_back"])
                #expect(entries.map { $0["healthCheckPassed"] }.prefix(2) == [.bool(true), .bool(false)])
            }
        }

        /// Ctrl-C while Swarm is mid-update: the service is put back on v1, never left half updated.
        @Test func interruptDuringTheUpdateRestoresThePreviousImage() async throws {
            try await Self.withApp { app in
                #expect(try await app.run("deploy", "test", "--tag", "v1", "--yes").exitCode == 0)
                let deploy = try OpsKitProcess.start("deploy", ["test", "--tag", "v3", "--yes", "--config", app.dir.file("opskit.yml")],
                                                     environment: app.environment, outputDirectory: app.dir.path)
                try await deploy.waitForStderr(containing: "updating \(app.service)")
                try await Task.sleep(for: .seconds(1))
                deploy.signal(SIGINT)
                let code = try await deploy.wait(timeout: .seconds(120))
                #expect(code == 1)
                let last = deploy.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.contains("interrupted") && last.contains("v1"), "\(deploy.stderr)")
                #expect(try await app.specImage() == "opskit-test/app:v1")
                #expect(try await app.served() == "v1")
                #expect(try await app.history().last?["status"]?.stringValue != "in_progress")
            }
        }

        /// A failing first deployment leaves no service behind; a failing pre_deploy changes nothing.
        @Test func failedFirstDeployAndPreDeployHook() async throws {
            try await Self.withApp(extra: "    hooks:\n      pre_deploy: \"echo migrating; echo 'no database' >&2; exit 3\"") { app in
                let refused = try await app.run("deploy", "test", "--tag", "v1", "--yes")
                #expect(refused.exitCode == 1)
                #expect(refused.stderr.contains("the pre_deploy hook failed (no database)"), "\(refused.stderr)")
                #expect(try await app.specImage() == nil)

                try app.writeConfig()
                let first = try await app.run("deploy", "test", "--tag", "v3", "--yes")
                #expect(first.exitCode == 1)
                #expect(first.stderr.contains("was removed") && first.stderr.contains("nothing (this was the first deployment)"),
                        "\(first.stderr)")
                #expect(try await app.specImage() == nil)
                #expect(try await app.history().map { $0["status"]?.stringValue ?? "" } == ["failed", "failed"])
            }
        }

        @Test func prechecksStopBeforeAnythingChanges() async throws {
            try await Self.withApp { app in
                try app.writeConfig(stackFile: app.dir.file("missing.yml"))
                let missing = try await app.run("deploy", "test", "--tag", "v1", "--yes")
                #expect(missing.exitCode == 1)
                #expect(missing.stderr.contains("the stack file \(app.dir.file("missing.yml"))")
                        && missing.stderr.contains("nothing was changed"), "\(missing.stderr)")
                #expect(try await app.specImage() == nil)

                // A second engine that is no swarm member (a private dockerd on a tmpfs).
                let engine = try await SmallDockerEngine.start(megabytes: 64)
                var other = app
                other.dockerHost = engine.host
                try app.writeConfig()
                let notManager = try await other.run("deploy", "test", "--tag", "v1", "--yes")
                await engine.stop()
                #expect(notManager.exitCode == 1)
                #expect(notManager.stderr.contains("is not a swarm manager") && notManager.stderr.contains("docker swarm init")
                        && notManager.stderr.contains("nothing was changed"), "\(notManager.stderr)")
                #expect(try await app.specImage() == nil)
            }
        }
    }
}
