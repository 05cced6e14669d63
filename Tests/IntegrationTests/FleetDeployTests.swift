#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore
import Shell
import Synchronization
import Testing
import TestSupport

/// `deploy`/`rollback` with `hosts:`: three "hosts", each an sshd on its own loopback address (127.0.0.2–.4)
/// with its own nginx on that address, its own state directory (sshd's SetEnv) and its own Compose projects
/// and ports on the one local Docker engine. A load loop through each host's nginx counts failed requests.
extension DockerDeploySuites {
    @Suite(.serialized) struct FleetDeployTests {
        /// Batch 1: the first host switches and passes its watch, the second host's v2 is unhealthy (its compose
        /// file removes the health file of v2 only) → the first goes back, the third is never touched, exit 1.
        @Test func oneUnhealthyHostSwitchesEveryHostBack() async throws {
            try await Fleet.with(broken: 1, breakage: .neverHealthy, watch: 1.5) { fleet in

                let first = try await fleet.run("deploy", "fleet", "--tag", "v1", "--yes")
                #expect(first.exitCode == 0, "\(first.stderr)")
                #expect(first.stdout.contains("deployed v1 on all 3 hosts"), "\(first.stdout)")
                #expect(try await fleet.served() == ["v1", "v1", "v1"])

                let loads = fleet.hosts.map { LoadLoop.start(url: $0.proxy.url + "/") }
                let second = try await fleet.run("deploy", "fleet", "--tag", "v2", "--yes", "--batch", "1")
                var reports: [LoadLoop.Report] = []
                for load in loads { reports.append(await load.stop()) }
                #expect(second.exitCode == 1)
                let lines = second.stderr.split(separator: "\n").map(String.init)
                #expect(second.stderr.contains("not deployed v2: every host that switched was switched back"), "\(second.stderr)")
                #expect(lines.contains { $0.contains(fleet.hosts[0].address) && $0.contains("switched-back") && $0.contains("v1") },
                        "\(second.stderr)")
                #expect(lines.contains { $0.contains(fleet.hosts[1].address) && $0.contains(" failed ") && $0.contains("did not become healthy") },
                        "\(second.stderr)")
                #expect(lines.contains { $0.contains(fleet.hosts[2].address) && $0.contains("unchanged") }, "\(second.stderr)")
                #expect(try await fleet.served() == ["v1", "v1", "v1"])
                for (i, report) in reports.enumerated() {
                    #expect(report.failures.isEmpty, "failed requests through host \(i)'s nginx: \(report.failures.prefix(5))")
                    #expect(report.requests > 10)
                }
                // Host 1 served v2 for its watch, then went back: its journal says so; host 3 never saw v2.
                #expect(reports[0].bodies["v2", default: 0] > 0, "\(reports[0].bodies)")
                #expect(reports[2].bodies["v2"] == nil)
                let journals = try await fleet.histories()
                #expect(journals[0].map(\.status) == ["success", "rolled_back"], "\(journals[0])")
                #expect(journals[1].map(\.status) == ["success", "failed"])
                #expect(journals[2].map(\.status) == ["success"])
                #expect(try await fleet.running().allSatisfy { $0 == ["opskit-test/app:v1"] }, "the new slots were left running")
                for host in fleet.hosts { #expect(!FileManagerless.exists(host.lockFile(fleet.name)), "a lock was left behind") }

                // --allow-partial keeps the hosts that deployed (mixed versions, asked for), still exit 1.
                let partial = try await fleet.run("deploy", "fleet", "--tag", "v2", "--yes", "--batch", "100%", "--allow-partial", "--json")
                #expect(partial.exitCode == 1)
                let report = try #require(JSONValue.parse(Array(partial.stdout.utf8)), "\(partial.stdout)")
                #expect(report["status"] == .string("partial"))
                #expect(try await fleet.served() == ["v2", "v1", "v2"])

                // The hosts disagree on "the previous version": rollback refuses until one is named, then all go.
                let ambiguous = try await fleet.run("rollback", "fleet", "--yes")
                #expect(ambiguous.exitCode == 1)
                #expect(ambiguous.stderr.contains("nothing was changed"), "\(ambiguous.stderr)")
                let back = try await fleet.run("rollback", "fleet", "v1", "--yes")
                #expect(back.exitCode == 0, "\(back.stderr)")
                #expect(back.stdout.contains("rolled back to v1 on all 3 hosts"), "\(back.stdout)")
                #expect(try await fleet.served() == ["v1", "v1", "v1"])

                // --list shows each host's history under its name.
                let list = try await fleet.run("rollback", "fleet", "--list")
                #expect(fleet.hosts.allSatisfy { list.stdout.contains($0.address) }, "\(list.stdout)")
            }
        }

        /// All at once: every host switches, the third host's v2 turns unhealthy during the watch → all three
        /// back on v1, zero failed requests through every nginx.
        @Test func aWatchFailureOnOneHostSwitchesAllBack() async throws {
            let sink = try await DeployHooksTests.Sink.start()
            defer { Task { await sink.stop() } }
            try await Fleet.with(broken: 2, breakage: .unhealthyOnTrigger, watch: 8, notify: sink.url + "/json") { fleet in
                let first = try await fleet.run("deploy", "fleet", "--tag", "v1", "--yes", "--batch", "100%", "--watch", "0")
                #expect(first.exitCode == 0, "\(first.stderr)")

                // health-check and monitor fan out: one line per host, the worst state is the exit code.
                let healthy = try await fleet.run("health-check", "--environment", "fleet")
                #expect(healthy.exitCode == 0, "\(healthy.stdout)")
                #expect(healthy.stdoutLines.first == "HEALTH OK - 3 hosts healthy", "\(healthy.stdout)")
                #expect(fleet.hosts.allSatisfy { h in healthy.stdoutLines.contains { $0.contains(h.address) && $0.contains(" OK ") } })
                let monitored = try await fleet.run("monitor", "--environment", "fleet", "--remote-bin", try fleet.binDirectory())
                #expect(monitored.stdoutLines.count == 4, "\(monitored.stdout) \(monitored.stderr)")
                #expect(monitored.stdoutLines.first?.hasPrefix("MONITOR ") == true)
                #expect(fleet.hosts.allSatisfy { h in monitored.stdoutLines.contains { $0.contains(h.address) && !$0.contains("no report") } },
                        "\(monitored.stdout)")
                let monitorJSON = try #require(JSONValue.parse(Array(try await fleet.run(
                    "monitor", "-e", "fleet", "--remote-bin", try fleet.binDirectory(), "--json").stdout.utf8)))
                guard case .array(let hostReports)? = monitorJSON["hosts"] else { Issue.record("\(monitorJSON)"); return }
                #expect(hostReports.count == 3 && hostReports.allSatisfy { $0["report"]?["checks"] != nil })
                // One host's nginx stops: its own health URL fails, that host's line says so, exit 2 (CRITICAL).
                try await fleet.proxy(1, "stop")
                let oneDown = try await fleet.run("health-check", "--environment", "fleet", "--retries", "0")
                #expect(oneDown.exitCode == 2, "\(oneDown.stdout)")
                #expect(oneDown.stdoutLines.first == "HEALTH CRITICAL - 1 of 3 hosts not OK", "\(oneDown.stdout)")
                #expect(oneDown.stdoutLines.contains { $0.contains(fleet.hosts[1].address) && $0.contains("CRITICAL") })
                try await fleet.proxy(1, "start")

                let dryRun = try await fleet.run("deploy", "fleet", "--tag", "v2", "--dry-run", "--batch", "100%")
                #expect(dryRun.exitCode == 0, "\(dryRun.stderr)")
                #expect(dryRun.stdout.contains("3 hosts, 3 at a time"), "\(dryRun.stdout)")
                #expect(fleet.hosts.allSatisfy { dryRun.stdout.contains($0.address + ":") })

                let loads = fleet.hosts.map { LoadLoop.start(url: $0.proxy.url + "/") }
                // Once the third host serves v2 (it is in its watch), its v2 turns unhealthy.
                // Polled for as long as the deploy runs (a busy CI machine may take a minute to get there).
                let finished = Finished()
                let deploy = Task {
                    defer { finished.flag.withLock { $0 = true } }
                    return try await fleet.run("deploy", "fleet", "--tag", "v2", "--yes", "--batch", "100%", "--json")
                }
                while (try? await fleet.served(host: 2)) != "v2" && !finished.flag.withLock({ $0 }) {
                    try await Task.sleep(for: .milliseconds(100))
                }
                try "now".write(toFile: fleet.dir.file("trigger/break"))
                let second = try await deploy.value
                var reports: [LoadLoop.Report] = []
                for load in loads { reports.append(await load.stop()) }
                #expect(second.exitCode == 1)
                let report = try #require(JSONValue.parse(Array(second.stdout.utf8)), "\(second.stdout)")
                #expect(report["status"] == .string("failed"))
                guard case .array(let hosts)? = report["hosts"] else { Issue.record("no hosts: \(second.stdout)"); return }
                #expect(hosts.map { $0["state"]?.stringValue ?? "" } == ["switched-back", "switched-back", "failed"], "\(second.stdout)")
                #expect(hosts[2]["detail"]?.stringValue?.contains("failed its health watch") == true, "\(second.stdout)")
                // One message per run (not one per host), naming every host's state.
                let posts = try sink.received().filter { $0.hasPrefix("/json ") }.compactMap { JSONValue.parse(Array($0.dropFirst(6).utf8)) }
                #expect(posts.map { $0["status"]?.stringValue ?? "" } == ["deployed", "failed"], "\(posts)")
                if case .array(let notified)? = posts.last?["hosts"] {
                    #expect(notified.map { $0["state"]?.stringValue ?? "" } == ["switched-back", "switched-back", "failed"])
                } else {
                    Issue.record("no hosts in the notification: \(posts)")
                }
                #expect(try await fleet.served() == ["v1", "v1", "v1"])
                for (i, load) in reports.enumerated() {
                    #expect(load.failures.isEmpty, "failed requests through host \(i)'s nginx: \(load.failures.prefix(5))")
                    #expect(load.bodies["v2", default: 0] > 0, "host \(i) never served v2: \(load.bodies)")
                }
            }
        }

        @Test func badHostListsAreRefusedBeforeAnythingIsTouched() async throws {
            try await Fleet.with(broken: nil, breakage: .neverHealthy, watch: 1) { fleet in
                let notListed = try await fleet.run("deploy", "fleet", "--tag", "v1", "--yes", "--host", "root@10.9.9.9")
                #expect(notListed.exitCode == 2)
                #expect(notListed.stderr.contains("one of environments.fleet.hosts"), "\(notListed.stderr)")
                let badBatch = try await fleet.run("deploy", "fleet", "--tag", "v1", "--yes", "--batch", "0")
                #expect(badBatch.exitCode == 2)

                // One host's sshd is down: the check fails there, nothing changes anywhere.
                await fleet.hosts[1].sshd.stop()
                let down = try await fleet.run("deploy", "fleet", "--tag", "v1", "--yes")
                #expect(down.exitCode == 1)
                #expect(down.stderr.contains("nothing was changed on any host"), "\(down.stderr)")
                #expect(try await fleet.running().allSatisfy(\.isEmpty))
                let unreachable = try await fleet.run("monitor", "--environment", "fleet", "--remote-bin", try fleet.binDirectory())
                #expect(unreachable.exitCode == 2, "\(unreachable.stdout)")
                #expect(unreachable.stdoutLines.contains { $0.contains(fleet.hosts[1].address) && $0.contains("not reachable") },
                        "\(unreachable.stdout)")
            }
        }
    }
}

/// Set once the deploy under test has returned.
final class Finished: Sendable {
    let flag = Mutex(false)
}

/// Three hosts for one app, each with its own sshd, nginx, state directory, projects and ports.
struct Fleet {
    enum Breakage {
        case neverHealthy
        /// Healthy until the test writes `trigger/break`.
        case unhealthyOnTrigger
    }

    struct Host {
        let address: String
        let sshd: SSHDServer
        let proxy: NginxProxy
        let state: String
        let ports: [Int]
        let project: String

        var ssh: String { "\(sshd.user)@\(address):\(sshd.port)" }
        func lockFile(_ app: String) -> String { state + "/\(app)/fleet.lock" }
    }

    let dir: TempDirectory
    let name: String
    let hosts: [Host]

    /// Runs `body` with a fresh fleet and removes it afterwards, also when the body failed (awaited: a detached
    /// clean-up can lose the race with the test process's exit and leave containers, nginx and sshd behind).
    static func with(broken: Int?, breakage: Breakage, watch: Double, notify: String? = nil,
                     _ body: (Fleet) async throws -> Void) async throws
    {
        try await using(try await make(broken: broken, breakage: breakage, watch: watch, notify: notify),
                        cleanUp: { await $0.cleanUp() }, body)
    }

    static func make(broken: Int?, breakage: Breakage, watch: Double, notify: String? = nil) async throws -> Fleet {
        try await DockerFixture.ensure()
        let dir = try TempDirectory(prefix: "opskit-fleet")
        mkdir(dir.file("trigger"), 0o755)
        let name = "f" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let proxyPort = try DockerFixture.freePort()
        var hosts: [Host] = []
        var used: Set<Int> = [proxyPort]
        for n in 2...4 {
            let address = "127.0.0.\(n)"
            let state = dir.file("state-\(n)")
            let sshd = try await SSHDServer.start(address: address, environment: ["OPSKIT_STATE_DIR": state])
            let proxy = try await NginxProxy.start(upstreamName: "\(name)_fleet", address: address, port: proxyPort)
            var ports: [Int] = []
            while ports.count < 2 {
                let port = try DockerFixture.freePort()
                if used.insert(port).inserted { ports.append(port) }
            }
            hosts.append(Host(address: address, sshd: sshd, proxy: proxy, state: state, ports: ports,
                              project: "\(name)-h\(n)"))
        }
        // One client key and one known_hosts for all three, as for a real fleet.
        let key = try String(decoding: #require(AtomicFile.read(hosts[0].sshd.keyFile + ".pub")), as: UTF8.self)
        var known = ""
        for host in hosts {
            try key.write(toFile: host.sshd.directory.file("authorized_keys"))
            known += String(decoding: AtomicFile.read(host.sshd.knownHostsFile) ?? [], as: UTF8.self)
        }
        try known.write(toFile: dir.file("known_hosts"))

        try """
        version: "2.4"
        services:
          app:
            image: ${OPSKIT_IMAGE}
            ports: ["127.0.0.1:${OPSKIT_PORT}:3000"]
        """.write(toFile: dir.file("compose.yml"))
        // The broken host runs v2 without (or soon without) its health file; v1 is untouched.
        let breakV2: String
        switch breakage {
        case .neverHealthy: breakV2 = "rm -f /www/api/health"
        case .unhealthyOnTrigger:
            breakV2 = "(while [ ! -f /trigger/break ]; do sleep 0.1; done; rm -f /www/api/health) &"
        }
        try """
        version: "2.4"
        services:
          app:
            image: ${OPSKIT_IMAGE}
            ports: ["127.0.0.1:${OPSKIT_PORT}:3000"]
            environment: ["OPSKIT_IMAGE=${OPSKIT_IMAGE}"]
            volumes: ["\(dir.file("trigger")):/trigger:ro"]
            entrypoint: ["/bin/busybox", "sh", "-c", "case \\"$$OPSKIT_IMAGE\\" in *:v2) \(breakV2) ;; esac; exec /app/start"]
        """.write(toFile: dir.file("compose-broken.yml"))

        func list(_ argv: [String]) -> String { "[" + argv.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        var entries = ""
        // Listed out of order on purpose: locks and batches follow the sorted order.
        for (i, host) in hosts.enumerated().reversed() {
            entries += """
                  - host: \(host.ssh)
                    project: \(host.project)
                    ports: [\(host.ports[0]), \(host.ports[1])]
            \(i == broken ? "        compose_file: \(dir.file("compose-broken.yml"))\n" : "")\
                    proxy:
                      upstream_file: \(host.proxy.upstreamFile)
                      test_command: \(list(host.proxy.testCommand))
                      reload_command: \(list(host.proxy.reloadCommand))

            """
        }
        try """
        app: \(name)
        environments:
          fleet:
            compose_file: \(dir.file("compose.yml"))
            image: opskit-test/app
            health_url: http://{host}:\(proxyPort)/api/health
            watch: \(watch)
            health:
              interval: 0.3
              timeout: 6
        \(notify.map { "    notify:\n      webhook: \($0)\n" } ?? "")\
            hosts:
        \(entries)
        """.write(toFile: dir.file("opskit.yml"))
        return Fleet(dir: dir, name: name, hosts: hosts)
    }

    /// A directory with `monitor -> opskit`, as bin/ has it on a host.
    func binDirectory() throws -> String {
        let bin = dir.file("bin")
        if access(bin + "/monitor", F_OK) != 0 {
            mkdir(bin, 0o755)
            guard symlink(OpsKitBinary.path, bin + "/monitor") == 0 else { throw TestSupportError("symlink failed") }
        }
        return bin
    }

    /// Stops or starts host `i`'s nginx (same address, port and upstream file), keeping its directory.
    func proxy(_ i: Int, _ action: String) async throws {
        let host = hosts[i]
        let port = action == "start" ? [String(host.proxy.url.split(separator: ":").last ?? "")] : []
        _ = try await Runner().capture(Command(
            argv: [try SSHDServer.repositoryRoot() + "/scripts/services/nginx-proxy", action, host.proxy.directory.path]
                + (action == "start" ? [host.proxy.upstreamName] + port : []),
            environment: ["NGINX_PROXY_ADDR": host.address], timeout: .seconds(60)))
    }

    func run(_ tool: String, _ args: String...) async throws -> OpsKitBinary.Output {
        try await OpsKitBinary.run(tool, args, environment: [
            "OPSKIT_SSH_KEY": hosts[0].sshd.keyFile, "OPSKIT_SSH_KNOWN_HOSTS": dir.file("known_hosts"),
            "OPSKIT_STATE_DIR": dir.file("state-local"), "COMMIT_SHA": nil, "VPS_HOST": nil,
        ], workingDirectory: dir.path)
    }

    /// What each host's nginx serves at `/` (the version), in host order.
    func served() async throws -> [String] {
        var versions: [String] = []
        for i in hosts.indices { versions.append(try await served(host: i)) }
        return versions
    }

    func served(host i: Int) async throws -> String {
        let response = try await HTTPClient().send(HTTPRequest(url: hosts[i].proxy.url + "/"))
        return response.bodyText.split(separator: "\n").first.map(String.init) ?? ""
    }

    struct Entry: CustomStringConvertible {
        let tag: String
        let status: String
        var description: String { "\(tag):\(status)" }
    }

    /// Each host's journal, oldest first, read from its state directory.
    func histories() async throws -> [[Entry]] {
        hosts.map { host in
            guard let bytes = AtomicFile.read(host.state + "/\(name)/deployments-fleet.json"),
                  case .array(let entries)? = JSONValue.parse(bytes) else { return [] }
            return entries.map { Entry(tag: $0["imageTag"]?.stringValue ?? "", status: $0["status"]?.stringValue ?? "") }
        }
    }

    /// The images of each host's running containers, in host order.
    func running() async throws -> [[String]] {
        var all: [[String]] = []
        for host in hosts {
            let out = try await Runner().capture(Command(
                "docker", "ps", "--filter", "label=com.docker.compose.project", "--format",
                "{{.Label \"com.docker.compose.project\"}} {{.Image}}"))
            all.append(out.stdoutText.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 2, parts[0].hasPrefix(host.project + "-") else { return nil }
                return String(parts[1])
            })
        }
        return all
    }

    func cleanUp() async {
        let ids = (try? await Runner().capture(Command("docker", "ps", "-aq", "--filter", "name=\(name)-h")))?
            .stdoutText.split(separator: "\n").map(String.init) ?? []
        if !ids.isEmpty { _ = try? await Runner().capture(Command(argv: ["docker", "rm", "-f"] + ids)) }
        for host in hosts {
            await host.proxy.stop()
            await host.sshd.stop()
        }
        dir.remove()
    }
}
