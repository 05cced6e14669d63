import Shell
import Testing
import TestSupport
@testable import OpsCore

/// `Compose` against the real engine, with whichever flavor this machine has (Debian 12: v1, `docker-compose`).
@Suite struct DockerComposeTests {
    static let composeFile = """
        services:
          app:
            image: ${OPSKIT_IMAGE}
            ports: ["127.0.0.1:${OPSKIT_PORT}:3000"]
        """

    @Test func detectFindsAFlavor() async throws {
        let compose = try await Compose.detect(on: .local)
        // Debian packages only v1; a machine with the v2 plugin must pick v2.
        let hasV2 = (try? await Runner().capture(Command("docker", "compose", "version"))) != nil
        #expect(compose.flavor == (hasV2 ? .v2 : .v1), "detected \(compose.flavor.rawValue) \(compose.version)")
        #expect(compose.version.first?.isNumber == true)
    }

    @Test func upServesTheImageListsItsContainerAndDownRemovesIt() async throws {
        try await withProject { project in
            try await project.compose.up(project: project.name, file: project.file, environment: project.environment)
            let body = try await Self.get("http://127.0.0.1:\(project.port)/")
            #expect(body == "v1\n", "compose flavor \(project.compose.flavor.rawValue)")

            let containers = try await Docker(target: .local).containers(project: project.name)
            #expect(containers.count == 1)
            #expect(containers.first?.service == "app")
            #expect(containers.first?.state == "running")
            #expect(containers.first?.image == "opskit-test/app:v1")

            try await project.compose.down(project: project.name, file: project.file, environment: project.environment)
            #expect(try await Docker(target: .local).containers(project: project.name).isEmpty)
        }
    }

    @Test func stopLeavesTheContainerExited() async throws {
        try await withProject { project in
            try await project.compose.up(project: project.name, file: project.file, environment: project.environment)
            try await project.compose.stop(
                project: project.name, file: project.file, environment: project.environment, timeout: 5)
            let containers = try await Docker(target: .local).containers(project: project.name)
            #expect(containers.map(\.state) == ["exited"], "compose flavor \(project.compose.flavor.rawValue)")
        }
    }

    @Test func runExecutesAOneOffCommandInTheImage() async throws {
        try await withProject { project in
            let output = try await project.compose.run(
                project: project.name, file: project.file, environment: project.environment, service: "app",
                command: ["cat", "/www/index.html"])
            #expect(output.stdoutText == "v1", "compose flavor \(project.compose.flavor.rawValue)")
            // --rm: the one-off container is gone.
            #expect(try await Docker(target: .local).containers(project: project.name).isEmpty)
        }
    }

    @Test func aBrokenComposeFileNamesTheFile() async throws {
        let compose = try await Compose.detect(on: .local)
        let directory = try TempDirectory(prefix: "opskit-compose")
        defer { directory.remove() }
        let file = directory.file("broken.yml")
        try "services:\n  app:\n    image: [unclosed\n".write(toFile: file)
        do {
            try await compose.validate(file: file, environment: [:])
            Issue.record("validate accepted a broken file (\(compose.flavor.rawValue))")
        } catch DockerError.composeFile(let named, let reason) {
            #expect(named == file)
            #expect(reason.contains("line 3"), "\(compose.flavor.rawValue): \(reason)")
            let message = DockerError.composeFile(file: named, reason: reason).description
            #expect(message.contains(file) && !message.contains("\n"), "\(message)")
        }
        try Self.composeFile.write(toFile: directory.file("good.yml"))
        try await compose.validate(
            file: directory.file("good.yml"), environment: ["OPSKIT_IMAGE": "x", "OPSKIT_PORT": "1"])
    }

    @Test func commandArgvForBothFlavors() {
        let env = ["OPSKIT_IMAGE": "app:v1"]
        let v1 = Compose(target: .local, flavor: .v1, version: "1.29.2")
            .command(project: "p", file: "f.yml", environment: env, ["up", "-d"])
        #expect(v1.argv == ["docker-compose", "-p", "p", "-f", "f.yml", "up", "-d"])
        #expect(v1.environment == ["OPSKIT_IMAGE": "app:v1"])
        let v2 = Compose(target: .local, flavor: .v2, version: "2.24.0")
            .command(project: "p", file: "f.yml", environment: env, ["down"])
        #expect(v2.argv == ["docker", "compose", "-p", "p", "-f", "f.yml", "down"])
    }

    /// A compose project of its own (unique name, free port, temp dir), brought down however `body` ends.
    struct Project {
        let compose: Compose
        let name: String
        let file: String
        let port: Int
        let environment: [String: String]
    }

    func withProject(image: String = "opskit-test/app:v1", _ body: (Project) async throws -> Void) async throws {
        try await DockerFixture.ensure()
        let compose = try await Compose.detect(on: .local)
        let directory = try TempDirectory(prefix: "opskit-compose")
        let port = try DockerFixture.freePort()
        let project = Project(
            compose: compose, name: "opskit-test-\(UInt32.random(in: 0...UInt32.max))",
            file: directory.file("docker-compose.yml"), port: port,
            environment: ["OPSKIT_IMAGE": image, "OPSKIT_PORT": String(port)])
        let cleanUp = {
            _ = try? await compose.down(project: project.name, file: project.file, environment: project.environment)
            directory.remove()
        }
        do {
            try Self.composeFile.write(toFile: project.file)
            try await body(project)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// The body of a GET, retried for up to 10 s while the container's httpd starts listening.
    static func get(_ url: String) async throws -> String {
        let client = HTTPClient()
        var lastError: any Error = TestSupportError("no attempt")
        for _ in 0..<100 {
            do {
                let response = try await client.send(HTTPRequest(url: url, timeout: .seconds(2)))
                if response.status == 200 { return response.bodyText }
                lastError = TestSupportError("HTTP \(response.status)")
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw lastError
    }
}
