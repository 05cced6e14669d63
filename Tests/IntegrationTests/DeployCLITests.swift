#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore
import Testing
import Shell
import TestSupport

/// `deploy` and `rollback` end to end: the built binary, a real Docker engine (Compose v1 here), a real nginx
/// in front, and a load loop counting every failed request while versions change.
extension DockerDeploySuites {
    @Suite(.serialized) struct DeployCLITests {
        @Test func zeroDowntimeDeploysRefusalsAutomaticSwitchBackAndRollback() async throws {
            let app = try await App.make()
            defer { Task { await app.cleanUp() } }

            // First deploy: nothing serving before, v1 after.
            let first = try await app.run("deploy", "test", "--tag", "v1", "--yes")
            #expect(first.exitCode == 0, "\(first.stderr)")
            #expect(try await app.served() == "v1")

            // v1 → v2 under load: not one failed request.
            var load = LoadLoop.start(url: app.proxy.url + "/")
            let second = try await app.run("deploy", "test", "--tag", "v2", "--yes", "--json")
            var report = await load.stop()
            #expect(second.exitCode == 0, "\(second.stderr)")
            #expect(report.failures.isEmpty, "failed requests during v1→v2: \(report.failures.prefix(5))")
            #expect(report.bodies["v2", default: 0] > 0 && report.requests > 20)
            let record = try #require(JSONValue.parse(Array(second.stdout.utf8)))
            #expect(record["status"] == .string("success") && record["previousVersion"] == .string("v1"))
            #expect(record["healthCheckPassed"] == .bool(true))

            // v3 never becomes healthy: refused, v2 serves throughout.
            load = LoadLoop.start(url: app.proxy.url + "/")
            let third = try await app.run("deploy", "test", "--tag", "v3", "--yes")
            report = await load.stop()
            #expect(third.exitCode == 1)
            #expect(third.stderr.contains("v3 did not become healthy") && third.stderr.contains("v2"), "\(third.stderr)")
            #expect(third.stderr.split(separator: "\n").last?.contains("keeps serving") == true)
            #expect(report.failures.isEmpty && report.bodies["v3"] == nil, "\(report.failures.prefix(5)) \(report.bodies)")
            #expect(try await app.served() == "v2")

            // v4 is healthy for 5 s, then not: it goes live, fails the watch, and nginx switches back to v2.
            let app4 = try await app.run("deploy", "test", "--tag", "v4", "--yes", "--watch", "12")
            #expect(app4.exitCode == 1)
            #expect(app4.stderr.contains("failed its health watch") && app4.stderr.contains("switched back"), "\(app4.stderr)")
            #expect(try await app.served() == "v2")

            // Rollback: back to v1 (the success before v2), zero failed requests.
            load = LoadLoop.start(url: app.proxy.url + "/")
            let back = try await app.run("rollback", "test", "--yes")
            report = await load.stop()
            #expect(back.exitCode == 0, "\(back.stderr)")
            #expect(report.failures.isEmpty, "failed requests during rollback: \(report.failures.prefix(5))")
            #expect(try await app.served() == "v1")

            // The history names every attempt and its outcome.
            let list = try await app.run("rollback", "test", "--list", "--json")
            guard case .array(let entries)? = JSONValue.parse(Array(list.stdout.utf8)) else {
                Issue.record("no JSON history: \(list.stdout)"); return
            }
            #expect(entries.map { $0["imageTag"]?.stringValue ?? "" } == ["v1", "v2", "v3", "v4", "v1"])
            #expect(entries.map { $0["status"]?.stringValue ?? "" } == ["success", "success", "failed", "rolled_back", "success"])
            #expect(entries.last?["kind"] == .string("rollback"))
            let table = try await app.run("rollback", "test", "--list")
            #expect(table.stdout.contains("* ") && table.stdout.contains("rolled_back"))
        }

        /// The same deploy with every step over SSH (to the loopback sshd): docker, compose, nginx, the journal
        /// and the lock on the "VPS"; the new slot's health checked through an SSH port forward.
        @Test func deploysOverSSHWithZeroFailedRequests() async throws {
            let app = try await App.make(watch: 2)
            let sshd = try await SSHDServer.start()
            defer { Task { await app.cleanUp(); await sshd.stop() } }
            let host = "\(sshd.user)@\(sshd.address):\(sshd.port)"
            let first = try await app.run("deploy", "test", "--tag", "v1", "--yes", "--host", host, ssh: sshd)
            #expect(first.exitCode == 0, "\(first.stderr)")
            #expect(first.stderr.contains("on \(host)"), "\(first.stderr)")
            let load = LoadLoop.start(url: app.proxy.url + "/")
            let second = try await app.run("deploy", "test", "--tag", "v2", "--yes", "--host", host, ssh: sshd)
            let report = await load.stop()
            #expect(second.exitCode == 0, "\(second.stderr)")
            #expect(report.failures.isEmpty, "failed requests during v1→v2 over SSH: \(report.failures.prefix(5))")
            #expect(try await app.served() == "v2")
            // The journal lives on the target: over SSH it is under the remote user's state directory.
            let list = try await app.run("rollback", "test", "--list", "--host", host, ssh: sshd)
            #expect(list.stdout.contains("v2") && list.stdout.contains("v1"), "\(list.stdout) \(list.stderr)")

            // A host key that does not match is refused before anything is touched.
            try "[\(sshd.address)]:\(sshd.port) ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMDc0dK6eCkYqgXq4kB0E2bQqR5xbkJ1kG4Zq1kzZ0Xo\n"
                .write(toFile: app.dir.file("bad_known_hosts"))
            let mismatch = try await OpsKitBinary.run("deploy", ["test", "--tag", "v1", "--yes", "--host", host],
                environment: ["OPSKIT_SSH_KEY": sshd.keyFile, "OPSKIT_SSH_KNOWN_HOSTS": app.dir.file("bad_known_hosts"),
                              "OPSKIT_STATE_DIR": app.dir.file("state")], workingDirectory: app.dir.path)
            #expect(mismatch.exitCode == 1)
            #expect(mismatch.stderr.lowercased().contains("host key"), "\(mismatch.stderr)")
            #expect(try await app.served() == "v2")
        }

        @Test func badInputStopsBeforeAnythingIsTouched() async throws {
            let app = try await App.make()
            defer { Task { await app.cleanUp() } }
            let unknown = try await app.run("deploy", "nosuch", "--yes")
            #expect(unknown.exitCode == 2)
            #expect(unknown.stderr.contains("unknown environment `nosuch`"), "\(unknown.stderr)")

            let nothing = try await app.run("rollback", "test", "--yes")
            #expect(nothing.exitCode == 1)
            #expect(nothing.stderr.contains("no earlier successful deployment"), "\(nothing.stderr)")

            let dryRun = try await app.run("deploy", "test", "--tag", "v1", "--dry-run")
            #expect(dryRun.exitCode == 0)
            #expect(dryRun.stdout.contains("start \(app.name)-test-blue on :\(app.ports[0])"), "\(dryRun.stdout)")
            #expect(!FileManagerless.exists(app.dir.file("state/\(app.name)/deployments-test.json")), "dry run wrote the journal")

            // An image no registry has: a real local registry answers "not found", so there is no retrying.
            let registry = try await DockerRegistry.start()
            defer { Task { await registry.stop() } }
            let missingImage = try await app.run("deploy", "test", "--image", "\(registry.host)/nope:1", "--yes")
            #expect(missingImage.exitCode == 1)
            let last = missingImage.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.contains("getting the image") && last.contains("nothing (this was the first deployment)"), "\(missingImage.stderr)")
            #expect(!missingImage.stderr.contains("retrying"), "not found is not transient: \(missingImage.stderr)")

            let broken = try await app.run("deploy", "test", "--tag", "v1", "--yes", "--config", app.dir.file("opskit.yml"))
            #expect(broken.exitCode == 0, "\(broken.stderr)")
            try "services:\n  app: [oops\n".write(toFile: app.dir.file("compose.yml"))
            let badCompose = try await app.run("deploy", "test", "--tag", "v2", "--yes")
            #expect(badCompose.exitCode == 1)
            #expect(badCompose.stderr.contains("compose.yml"), "\(badCompose.stderr)")
            #expect(try await app.served() == "v1")

        }
    }
}

/// `access(2)` without Foundation's FileManager.
enum FileManagerless {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
