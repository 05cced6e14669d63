#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore
import Shell
import Testing
import TestSupport

/// pre_deploy / post_deploy hooks, notifications to real webhook servers, and `deploy --build`.
extension DockerDeploySuites {
    @Suite(.serialized) struct DeployHooksTests {
        typealias App = DeployCLITests.App

        /// scripts/services/webhook-sink: records every POST body.
        struct Sink {
            let dir: TempDirectory
            let url: String
            static func start() async throws -> Sink {
                let dir = try TempDirectory(prefix: "opskit-sink")
                let out = try await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "start", dir.path))
                return Sink(dir: dir, url: out.stdoutText)
            }
            func received() throws -> [String] {
                guard let f = fopen(dir.file("received"), "r") else { return [] }
                defer { fclose(f) }
                var lines: [String] = []
                var buffer = [CChar](repeating: 0, count: 65536)
                while fgets(&buffer, Int32(buffer.count), f) != nil {
                    lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        .trimmingSuffixNewline())
                }
                return lines
            }
            func stop() async {
                _ = try? await Runner().capture(Command(repositoryRoot() + "/scripts/services/webhook-sink", "stop", dir.path))
                dir.remove()
            }
        }

        @Test func preDeployGatesTheSwitchAndPostDeployAndNotificationsFollow() async throws {
            let sink = try await Sink.start()
            let marker = try TempDirectory(prefix: "opskit-post")
            let app = try await App.make(watch: 1, extra: """
                    hooks:
                      pre_deploy: "test -f /www/index.html && grep -q v /www/index.html"
                      post_deploy: "echo $OPSKIT_VERSION $OPSKIT_DEPLOYMENT_ID > \(marker.file("post"))"
                    notify:
                      slack: \(sink.url)/slack
                      discord: \(sink.url)/discord
                      webhook: [\(sink.url)/json, \(sink.url)/fail]
                """)
            defer { Task { await app.cleanUp(); await sink.stop(); marker.remove() } }

            let first = try await app.run("deploy", "test", "--tag", "v1", "--yes")
            #expect(first.exitCode == 0, "\(first.stderr)")
            #expect(first.stderr.contains("running pre_deploy in opskit-test/app:v1"))
            let post = try #require(String?(try readText(marker.file("post"))))
            #expect(post.hasPrefix("v1 "))

            let lines = try sink.received()
            #expect(lines.count == 4, "slack, discord, json, and the failing one (retried? no: 500 is not transient): \(lines)")
            let slack = try #require(lines.first { $0.hasPrefix("/slack ") })
            let slackBody = try #require(JSONValue.parse(Array(slack.dropFirst("/slack ".count).utf8)))
            #expect(slackBody["text"]?.stringValue?.contains("Deploy of \(app.name) v1 to test succeeded") == true, "\(slack)")
            let discord = try #require(lines.first { $0.hasPrefix("/discord ") })
            #expect(discord.contains(#""content""#))
            let json = try #require(lines.first { $0.hasPrefix("/json ") })
            let fields = try #require(JSONValue.parse(Array(json.dropFirst("/json ".count).utf8)))
            #expect(fields["status"] == .string("success") && fields["version"] == .string("v1") && fields["kind"] == .string("deploy"))
            #expect(fields["durationSeconds"] != nil && fields["id"] != nil)
            #expect(first.stderr.contains("json webhook answered HTTP 500"), "a failing webhook is reported: \(first.stderr)")
            #expect(!first.stderr.contains(sink.url), "webhook URLs carry secrets and are never printed")

            // A failed deploy is announced too, with its reason.
            let bad = try await app.run("deploy", "test", "--tag", "v3", "--yes")
            #expect(bad.exitCode == 1)
            let failed = try sink.received().filter { $0.hasPrefix("/json ") }.last.flatMap { JSONValue.parse(Array($0.dropFirst(6).utf8)) }
            #expect(failed?["status"] == .string("failed") && failed?["reason"]?.stringValue?.contains("did not become healthy") == true)
        }

        @Test func failingPreDeployStopsBeforeAnythingSwitches() async throws {
            let app = try await App.make(watch: 1, extra: """
                    hooks:
                      pre_deploy: "echo migrating; echo 'relation users does not exist' >&2; exit 3"
                """)
            defer { Task { await app.cleanUp() } }
            // The hook runs before any release starts: when it fails, no container of the new slot exists.
            let out = try await app.run("deploy", "test", "--tag", "v1", "--yes")
            #expect(out.exitCode == 1)
            let last = out.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.contains("the pre_deploy hook failed (relation users does not exist); nothing was switched"), "\(out.stderr)")
            let containers = try await Runner().capture(Command("docker", "ps", "-q", "--filter", "label=com.docker.compose.project=\(app.name)-test-blue"))
            #expect(containers.stdoutText.isEmpty, "no release was started")
        }

        @Test func buildsTheImageHereAndDeploysIt() async throws {
            let context = try TempDirectory(prefix: "opskit-build")
            defer { context.remove() }
            let tag = "b" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            try "FROM opskit-test/app:v1\nRUN [\"/bin/sh\", \"-c\", \"echo \(tag) > /www/index.html\"]\n".write(toFile: context.file("Dockerfile"))
            let app = try await App.make(watch: 1, extra: """
                    build:
                      context: \(context.path)
                """)
            defer { Task {
                await app.cleanUp()
                _ = try? await Runner().capture(Command("docker", "rmi", "-f", "opskit-test/app:\(tag)"))
            } }
            let out = try await app.run("deploy", "test", "--build", "--tag", tag, "--yes")
            #expect(out.exitCode == 0, "\(out.stderr)")
            #expect(out.stderr.contains("building opskit-test/app:\(tag)"))
            #expect(try await app.served() == tag)
        }
    }
}

func readText(_ path: String) throws -> String {
    guard let f = fopen(path, "r") else { throw TestSupportError("cannot open \(path)") }
    defer { fclose(f) }
    var out = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), f) != nil {
        out += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return out
}

extension String {
    func trimmingSuffixNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}
