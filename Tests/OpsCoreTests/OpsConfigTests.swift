import Testing
import TestSupport
@testable import OpsCore

@Suite struct OpsConfigTests {
    @Test func missingDefaultFileIsEmptyConfig() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let config = try OpsConfig.load(explicitPath: nil, environment: [:], currentDirectory: dir.path)
        #expect(config.path == nil)
        #expect(try config.string("health.url") == nil)
    }

    @Test func explicitFileMustExist() throws {
        #expect(throws: ConfigError.self) {
            try OpsConfig.load(explicitPath: "/nonexistent/opskit.yml", environment: [:])
        }
        #expect(throws: ConfigError.self) {
            try OpsConfig.load(explicitPath: nil, environment: ["OPSKIT_CONFIG": "/nonexistent/o.yml"])
        }
    }

    @Test func readsFromCurrentDirectoryAndEnvironmentVariable() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try "health:\n  url: [http://a/, http://b/]\n".write(toFile: dir.file("opskit.yml"))
        try "health:\n  url: http://c/\n".write(toFile: dir.file("other.yml"))
        let here = try OpsConfig.load(explicitPath: nil, environment: [:], currentDirectory: dir.path)
        #expect(try here.strings("health.url") == ["http://a/", "http://b/"])
        #expect(throws: ConfigError.self) { try here.string("health.url") }
        let named = try OpsConfig.load(explicitPath: nil, environment: ["OPSKIT_CONFIG": dir.file("other.yml")],
                                       currentDirectory: dir.path)
        #expect(try named.strings("health.url") == ["http://c/"])
    }

    @Test func syntaxErrorNamesFileAndLine() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try "a: 1\n b: 2\n".write(toFile: dir.file("opskit.yml"))
        #expect {
            try OpsConfig.load(explicitPath: nil, environment: [:], currentDirectory: dir.path)
        } throws: { error in
            "\(error)".hasPrefix(dir.file("opskit.yml") + ":2:")
        }
    }
}
