import OpsCore
import Shell
import TestSupport

extension DockerDeploySuites.SwarmDeployTests {
    /// One `engine: swarm` app in a temp dir: opskit.yml, a stack file, a state dir, and its own stack.
    ///
    /// This machine's kernel has no IPVS, so Swarm's routing mesh (ingress publishing, VIPs) does not work
    /// here: the app service uses `endpoint_mode: dnsrr`, and an `edge` service published with `mode: host`
    /// forwards each connection to `app` by its DNS name (busybox `nc -ll -e`). The edge is the public URL.
    struct SwarmApp {
        let dir: TempDirectory
        /// The stack's name (unique per test): the services are `<stack>_app` and `<stack>_edge`.
        let stack: String
        let edgePort: Int
        /// Another engine's `DOCKER_HOST` for every deploy of this app (nil: the default engine).
        var dockerHost: String? = nil

        static let edgeImage = "opskit-test/swarm-edge:latest"

        /// - Parameter swarmHealthcheck: a container HEALTHCHECK in the stack file, so Swarm itself sees an
        ///   unhealthy task and rolls back; without it only opskit's gate on the public URL can tell.
        static func make(swarmHealthcheck: Bool = true, watch: Double = 2, extra: String = "") async throws -> SwarmApp {
            try await DockerFixture.ensure()
            _ = try await Runner().capture(Command(repositoryRoot() + "/scripts/services/swarm", "start",
                                                   timeout: .seconds(120)))
            // Its own repository: deploy prunes old tags of opskit-test/app, and the edge must not be one.
            _ = try await Runner().capture(Command("docker", "tag", "opskit-test/app:v1", edgeImage))
            let dir = try TempDirectory(prefix: "opskit-swarm")
            let stack = "sw" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let app = SwarmApp(dir: dir, stack: stack, edgePort: try DockerFixture.freePort())
            try app.writeStack(healthcheck: swarmHealthcheck)
            try app.writeConfig(watch: watch, extra: extra)
            return app
        }

        func writeStack(healthcheck: Bool) throws {
            let check = #"""
                healthcheck:
                  test: ["CMD", "sh", "-c", "printf 'GET /api/health HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 3000 | grep -q '\"status\":\"healthy\"'"]
                  interval: 1s
                  timeout: 2s
                  retries: 2

            """#
            try """
            version: "3.8"
            services:
              app:
                image: ${OPSKIT_IMAGE}
                deploy:
                  replicas: 1
                  endpoint_mode: dnsrr
            \(healthcheck ? check : "")\
              edge:
                image: \(Self.edgeImage)
                command: ["sh", "-c", "printf '#!/bin/sh\\\\nexec nc app 3000\\\\n' > /tmp/fwd && chmod +x /tmp/fwd && exec nc -ll -p 8080 -e /tmp/fwd"]
                ports:
                  - target: 8080
                    published: \(edgePort)
                    protocol: tcp
                    mode: host
                deploy:
                  endpoint_mode: dnsrr
            """.write(toFile: dir.file("stack.yml"))
        }

        /// - Parameter extra: more YAML for the `test` environment, each line indented by four spaces.
        func writeConfig(watch: Double = 2, stackFile: String? = nil, extra: String = "") throws {
            try """
            app: \(stack)
            environments:
              test:
                engine: swarm
                project: \(stack)
                compose_file: \(stackFile ?? dir.file("stack.yml"))
                image: opskit-test/app
                health_url: \(url)/api/health
                watch: \(watch)
                health:
                  interval: 0.3
                  timeout: 20
            \(extra)
            """.write(toFile: dir.file("opskit.yml"))
        }

        var url: String { "http://127.0.0.1:\(edgePort)" }
        var service: String { "\(stack)_app" }

        var environment: [String: String?] {
            var env: [String: String?] = ["OPSKIT_STATE_DIR": dir.file("state"), "COMMIT_SHA": nil, "VPS_HOST": nil]
            if let dockerHost { env["DOCKER_HOST"] = dockerHost }
            return env
        }

        func run(_ tool: String, _ args: String...) async throws -> OpsKitBinary.Output {
            try await OpsKitBinary.run(tool, args, environment: environment, workingDirectory: dir.path)
        }

        /// The first line the edge's `/` answers with (the version), or the error.
        func served() async throws -> String {
            let response = try await HTTPClient().send(HTTPRequest(url: url + "/"))
            return response.bodyText.split(separator: "\n").first.map(String.init) ?? ""
        }

        /// The image in the app service's spec (nil: no such service).
        func specImage() async throws -> String? {
            let out = try await Runner().capture(Command(
                "docker", "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", service,
                allowedExitCodes: [0, 1]))
            guard out.termination == .exited(0) else { return nil }
            return out.stdoutText.split(separator: "@").first.map(String.init)
        }

        /// The journal, oldest first, as `rollback --list --json` prints it.
        func history() async throws -> [JSONValue] {
            let list = try await run("rollback", "test", "--list", "--json")
            guard case .array(let entries)? = JSONValue.parse(Array(list.stdout.utf8)) else {
                throw TestSupportError("no JSON history: \(list.stdout) \(list.stderr)")
            }
            return entries
        }

        /// Removes the stack and waits until its network is gone (Swarm removes it in the background; a
        /// network left behind takes an address pool the next stack needs).
        func cleanUp() async {
            _ = try? await Runner().capture(Command("docker", "stack", "rm", stack, timeout: .seconds(60)))
            for _ in 0..<60 {
                let left = try? await Runner().capture(Command(
                    "docker", "network", "ls", "-q", "--filter", "label=com.docker.stack.namespace=\(stack)"))
                if left?.stdoutText.isEmpty ?? true { break }
                try? await Task.sleep(for: .milliseconds(500))
            }
            dir.remove()
        }
    }

    /// Runs `body` with a fresh app and removes its stack afterwards, whether `body` passed or threw.
    static func withApp(swarmHealthcheck: Bool = true, watch: Double = 2, extra: String = "",
                        _ body: (SwarmApp) async throws -> Void) async throws {
        try await using(try await SwarmApp.make(swarmHealthcheck: swarmHealthcheck, watch: watch, extra: extra),
                        cleanUp: { await $0.cleanUp() }, body)
    }
}
