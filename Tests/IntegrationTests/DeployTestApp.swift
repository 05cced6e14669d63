#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import TestSupport

extension DockerDeploySuites.DeployCLITests {
    /// One app in a temp dir: opskit.yml, compose file, nginx proxy, state dir.
    ///
    /// Two environments: `test` (blue-green behind the private nginx) and `direct` (recreate, no proxy, one port).
    struct App {
        let dir: TempDirectory
        let proxy: NginxProxy
        let name: String
        /// Blue and green of `test`, then the one port of `direct`.
        let ports: [Int]
        let watch: Double
        let extra: String
        /// Another engine's `DOCKER_HOST` for every deploy and docker command of this app (nil: the default engine).
        var dockerHost: String? = nil

        /// - Parameter extra: more YAML for the `test` environment, each line indented by four spaces.
        static func make(watch: Double = 3, image: String = "opskit-test/app", keepReleases: Int? = nil,
                         extra: String = "") async throws -> App {
            try await DockerFixture.ensure()
            let dir = try TempDirectory(prefix: "opskit-deploy")
            let name = "t" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let proxy = try await NginxProxy.start(upstreamName: "\(name)_test")
            var ports: [Int] = []
            while ports.count < 3 {
                let port = try DockerFixture.freePort()
                if !ports.contains(port) { ports.append(port) }
            }
            try """
            version: "2.4"
            services:
              app:
                image: ${OPSKIT_IMAGE}
                ports: ["127.0.0.1:${OPSKIT_PORT}:3000"]
            """.write(toFile: dir.file("compose.yml"))
            let app = App(dir: dir, proxy: proxy, name: name, ports: ports, watch: watch, extra: extra)
            try app.writeConfig(image: image, keepReleases: keepReleases)
            return app
        }

        /// (Re)writes opskit.yml; the overrides model a person's mistakes (a wrong upstream name, a dead URL).
        ///
        /// - Parameter extra: replaces the YAML given to `make` for the `test` environment.
        func writeConfig(image: String = "opskit-test/app", keepReleases: Int? = nil, upstreamName: String? = nil,
                         healthURL: String? = nil, extra: String? = nil) throws {
            func list(_ argv: [String]) -> String { "[" + argv.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            try """
            app: \(name)
            environments:
              test:
                compose_file: \(dir.file("compose.yml"))
                image: \(image)
                ports: [\(ports[0]), \(ports[1])]
                health_url: \(healthURL ?? proxy.url + "/api/health")
                watch: \(watch)
            \(keepReleases.map { "    keep_releases: \($0)\n" } ?? "")\
                health:
                  interval: 0.3
                  timeout: 8
                proxy:
                  upstream_file: \(proxy.upstreamFile)
                  upstream_name: \(upstreamName ?? proxy.upstreamName)
                  test_command: \(list(proxy.testCommand))
                  reload_command: \(list(proxy.reloadCommand))
            \(extra ?? self.extra)
              direct:
                compose_file: \(dir.file("compose.yml"))
                image: \(image)
                ports: [\(ports[2])]
                health:
                  interval: 0.3
                  timeout: 8
            """.write(toFile: dir.file("opskit.yml"))
        }

        var environment: [String: String?] {
            ["OPSKIT_STATE_DIR": dir.file("state"), "COMMIT_SHA": nil, "VPS_HOST": nil].merging(docker) { $1 }
        }

        /// `DOCKER_HOST` when this app uses another engine; empty (inherited) for the default one.
        var docker: [String: String?] { dockerHost.map { ["DOCKER_HOST": $0] } ?? [:] }

        func run(_ tool: String, _ args: String..., ssh: SSHDServer? = nil) async throws -> OpsKitBinary.Output {
            var env = environment
            if let ssh {
                env["OPSKIT_SSH_KEY"] = ssh.keyFile
                env["OPSKIT_SSH_KNOWN_HOSTS"] = ssh.knownHostsFile
            }
            return try await OpsKitBinary.run(tool, args, environment: env, workingDirectory: dir.path)
        }

        /// Starts `opskit TOOL ARGS…` in the background, so a test can signal it mid-way.
        func start(_ tool: String, _ args: String...) throws -> OpsKitProcess {
            try OpsKitProcess.start(tool, args + ["--config", dir.file("opskit.yml")], environment: environment,
                                    outputDirectory: dir.path)
        }

        /// The first line the proxy's `/` answers with (the version), or the error.
        func served() async throws -> String {
            try await firstLine(of: proxy.url + "/")
        }

        func firstLine(of url: String) async throws -> String {
            let response = try await HTTPClient().send(HTTPRequest(url: url))
            return response.bodyText.split(separator: "\n").first.map(String.init) ?? ""
        }

        /// The journal of an environment, oldest first, as `rollback --list --json` prints it.
        func history(_ environment: String = "test") async throws -> [JSONValue] {
            let list = try await run("rollback", environment, "--list", "--json")
            guard case .array(let entries)? = JSONValue.parse(Array(list.stdout.utf8)) else {
                throw TestSupportError("no JSON history: \(list.stdout) \(list.stderr)")
            }
            return entries
        }

        /// The running containers of one Compose project of this app (`test-blue`, `direct-blue`, …).
        func running(_ slot: String) async throws -> [String] {
            let out = try await Runner().capture(Command(
                "docker", "ps", "--filter", "label=com.docker.compose.project=\(name)-\(slot)", "--format", "{{.Image}}",
                environment: docker))
            return out.stdoutText.split(separator: "\n").map(String.init)
        }

        var lockFile: String { dir.file("state/\(name)/test.lock") }

        func cleanUp() async {
            for project in ["test-blue", "test-green", "direct-blue"] {
                _ = try? await Runner().capture(Command("docker-compose", "-p", "\(name)-\(project)", "-f",
                                                        dir.file("compose.yml"), "down", "--remove-orphans",
                                                        environment: ["OPSKIT_IMAGE": "x", "OPSKIT_PORT": "1"]
                                                            .merging(docker) { $1 }))
                // Compose cannot read a compose file a test broke on purpose: remove by label as well.
                let ids = (try? await Runner().capture(Command(
                    "docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=\(name)-\(project)",
                    environment: docker)))?
                    .stdoutText.split(separator: "\n").map(String.init) ?? []
                if !ids.isEmpty {
                    _ = try? await Runner().capture(Command(argv: ["docker", "rm", "-f"] + ids,
                                                            environment: docker))
                }
            }
            await proxy.stop()
            dir.remove()
            // Deploys over SSH as root keep their journal in /var/lib/opskit/<app> on the "VPS" (this machine).
            _ = try? await Runner().capture(Command("rm", "-rf", "/var/lib/opskit/\(name)"))
        }
    }
}
