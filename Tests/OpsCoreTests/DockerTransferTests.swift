import Shell
import Testing
import TestSupport
@testable import OpsCore

/// `transferImage` with one engine at both ends (this machine has only one).
@Suite struct DockerTransferTests {
    let docker = Docker(target: .local)

    @Test func sameImageOnTheDestinationIsNotCopied() async throws {
        try await DockerFixture.ensure()
        let copied = try await transferImage("opskit-test/app:v1", from: docker, to: docker, logger: nil)
        #expect(copied == false)
    }

    @Test func streamingThroughZstdLoadsTheImage() async throws {
        try await DockerFixture.ensure()
        // The copy path itself: save | zstd | sh -c 'zstd -d | docker load' into the same engine.
        try await streamImage("opskit-test/app:v2", from: docker, to: docker)
        #expect(try await docker.imageID("opskit-test/app:v2") != nil)
    }

    @Test func aMissingSourceImageIsNotFound() async throws {
        try await DockerFixture.ensure()
        await #expect(throws: DockerError.self) {
            _ = try await transferImage("opskit-test/app:nope", from: docker, to: docker, logger: nil)
        }
    }

    @Test func anUnreachableDestinationIsNamed() async throws {
        try await DockerFixture.ensure()
        let nowhere = Docker(target: .local, environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
        do {
            _ = try await transferImage("opskit-test/app:v1", from: docker, to: nowhere, logger: nil)
            Issue.record("transfer to an engine that does not answer succeeded")
        } catch DockerError.unreachable(let target, _) {
            #expect(target == "this machine")
        }
    }
}
