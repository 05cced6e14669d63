import Logging
import Synchronization
import FoundationEssentials
import Shell
import Testing
import TestSupport
@testable import OpsCore

/// `Docker` against the real engine on this machine (started by `scripts/services/dockerd` if needed).
@Suite struct DockerEngineTests {
    let docker = Docker(target: .local)

    @Test func versionAnswers() async throws {
        try await DockerFixture.ensure()
        let version = try await docker.version()
        #expect(!version.isEmpty)
        #expect(version.first?.isNumber == true, "server version: \(version)")
    }

    @Test func imageIDOfPresentAndAbsentImages() async throws {
        try await DockerFixture.ensure()
        let id = try await docker.imageID("opskit-test/app:v1")
        #expect(id?.hasPrefix("sha256:") == true)
        #expect(try await docker.imageID("opskit-test/app:nope") == nil)
    }

    @Test func anEngineThatDoesNotAnswerIsUnreachable() async throws {
        let nowhere = Docker(target: .local, environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
        do {
            _ = try await nowhere.version()
            Issue.record("version() succeeded without an engine")
        } catch DockerError.unreachable(let target, let reason) {
            #expect(target == "this machine")
            #expect(reason.contains("Cannot connect to the Docker daemon"))
            let message = DockerError.unreachable(target: target, reason: reason).description
            #expect(!message.contains("\n"))
            #expect(message.contains("DOCKER_HOST"))
        }
    }

    @Test func freeBytesIsPositive() async throws {
        try await DockerFixture.ensure()
        #expect(try await docker.freeBytes() > 0)
    }

    @Test func imagesOfARepositoryNewestFirst() async throws {
        try await DockerFixture.ensure()
        let images = try await docker.images(repository: "opskit-test/app")
        let tags = Set(images.map(\.tag))
        #expect(tags.isSuperset(of: ["v1", "v2", "v3", "v4"]))
        #expect(images.map(\.createdAt) == images.map(\.createdAt).sorted(by: >))
        let v1 = try #require(images.first { $0.tag == "v1" })
        #expect(v1.id == (try await docker.imageID("opskit-test/app:v1")))
        #expect(v1.reference == "opskit-test/app:v1")
        // Built by this test run or an earlier one: not in the future, not in the distant past.
        #expect(v1.createdAt <= Date.now.addingTimeInterval(60))
        #expect(v1.createdAt > Date(timeIntervalSince1970: 1_600_000_000))
    }

    @Test func dockerTimeParsesOffsets() {
        #expect(DockerTime.parse("1970-01-02 00:00:00 +0000 UTC") == Date(timeIntervalSince1970: 86_400))
        #expect(DockerTime.parse("2024-02-29 12:30:00 +0130 CET")
            == DockerTime.parse("2024-02-29 11:00:00 +0000 UTC"))
        #expect(DockerTime.parse("yesterday") == nil)
    }

    @Test func pullOfAMissingImageFailsAtOnce() async throws {
        try await DockerFixture.ensure()
        let registry = try await DockerRegistry.start()
        defer { Task { await registry.stop() } }
        let reference = "\(registry.host)/opskit-test/nope:x"
        // Every retry logs one line: none may appear for an image that does not exist.
        let policy = RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(10), jitter: false)
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "test") { _ in
            OpsLogHandler(tool: "deploy", format: .human, color: false, sink: { line in lines.withLock { $0.append(line) } })
        }
        await #expect(throws: DockerError.self) {
            do {
                try await docker.pull(reference, retry: policy, logger: logger)
            } catch DockerError.imageNotFound(let name) {
                #expect(name == reference)
                throw DockerError.imageNotFound(name)
            }
        }
        #expect(lines.withLock { $0 }.filter { $0.contains("retrying") }.isEmpty)
    }

    @Test func pullFromARegistryAndTagAndRemove() async throws {
        try await DockerFixture.ensure()
        let registry = try await DockerRegistry.start()
        defer { Task { await registry.stop() } }
        let pushed = "\(registry.host)/app:v1"
        try await docker.tag("opskit-test/app:v1", pushed)
        _ = try await Runner().capture(Command("docker", "push", "--quiet", pushed))
        try await docker.removeImage(pushed)
        #expect(try await docker.imageID(pushed) == nil)

        try await docker.pull(pushed, retry: .none, logger: nil)
        #expect(try await docker.imageID(pushed) == (try await docker.imageID("opskit-test/app:v1")))
        try await docker.removeImage(pushed)
    }

    @Test func buildTagsAnImage() async throws {
        try await DockerFixture.ensure()
        let directory = try TempDirectory(prefix: "opskit-build")
        defer { directory.remove() }
        let tag = "opskit-test/built:\(UInt32.random(in: 0...UInt32.max))"
        try "FROM opskit-test/app:v1\nLABEL opskit.test.build=\(tag)\n".write(toFile: directory.file("Build.dockerfile"))
        try await docker.build(context: directory.path, dockerfile: directory.file("Build.dockerfile"), tag: tag)
        let id = try #require(try await docker.imageID(tag))
        #expect(id != (try await docker.imageID("opskit-test/app:v1")))
        try await docker.removeImage(tag)
    }
}

/// How failures are named from what docker printed; the strings are docker's and Compose's own.
@Suite struct DockerErrorClassifyTests {
    func failure(_ stderr: [String], _ termination: Termination? = .exited(1), reason: String = "exited with 1")
        -> CommandError
    {
        CommandError(command: "docker x", termination: termination, stderrTail: stderr, reason: reason)
    }

    @Test func noSpaceLeftIsDiskFullWhateverTheCommand() {
        let error = DockerError.classify(
            failure(["write /var/lib/docker/tmp/x: no space left on device"]), target: .local)
        guard case .diskFull(let line) = error else { return #expect(Bool(false), "\(error)") }
        #expect(line.hasSuffix("no space left on device"))
    }

    @Test func composeV1sCannotConnectIsUnreachable() {
        let error = DockerError.classify(
            failure(["Couldn't connect to Docker daemon at http+docker://localhost - is it running?"]), target: .local)
        guard case .unreachable = error else { return #expect(Bool(false), "\(error)") }
    }

    @Test func onlyAMissingDockerIsUnreachable() {
        let docker = DockerError.classify(
            failure([], nil, reason: "could not be started: docker not found in PATH"), target: .local)
        guard case .unreachable(_, let reason) = docker else { return #expect(Bool(false), "\(docker)") }
        #expect(reason == "docker is not installed")
        let remote = DockerError.classify(failure(["sh: 1: docker: not found"], .exited(127)), target: .local)
        guard case .unreachable = remote else { return #expect(Bool(false), "\(remote)") }
        let zstd = DockerError.classify(
            failure([], nil, reason: "could not be started: zstd not found in PATH"), target: .local)
        guard case .command = zstd else { return #expect(Bool(false), "\(zstd)") }
    }

    @Test func registryTroubleIsTransientAndMissingImagesAreNot() {
        let timeout = DockerError.command(failure(["Error response from daemon: Get \"https://r/v2/\": net/http: TLS handshake timeout"]))
        #expect(DockerError.isTransientPull(timeout))
        let unavailable = DockerError.command(failure(["received unexpected HTTP status: 503 Service Unavailable"]))
        #expect(DockerError.isTransientPull(unavailable))
        let denied = failure(["Error response from daemon: pull access denied for x, repository does not exist"])
        #expect(!DockerError.isTransientPull(DockerError.command(denied)))
        #expect(DockerError.isImageNotFound(denied))
        #expect(!DockerError.isTransientPull(DockerError.unreachable(target: "h", reason: "r")))
    }
}
