import FoundationEssentials
import Logging
import Testing
@testable import Shell

private struct JSONLine: Decodable {
    let timestamp: String
    let level: String
    let tool: String
    let message: String
    let fields: [String: String]
}

private func logger(_ format: LogFormat, color: Bool = false, level: Logger.Level = .trace, into lines: Recorder<String>) -> Logger {
    var logger = Logger(label: "test") { _ in OpsLogHandler(tool: "health-check", format: format, color: color, sink: lines.append) }
    logger.logLevel = level
    return logger
}

@Suite struct LogTests {
    @Test func humanLineHasToolMessageAndSortedFields() {
        let lines = Recorder<String>()
        logger(.human, into: lines).info("checked", metadata: ["url": "http://localhost/health", "status": "200"])
        #expect(lines.values == ["health-check: checked status=200 url=http://localhost/health\n"])
    }

    @Test func humanLinePrefixesLevelOnlyFromWarningUp() {
        let lines = Recorder<String>()
        let log = logger(.human, into: lines)
        log.debug("d"); log.info("i"); log.notice("n"); log.warning("w"); log.error("e"); log.critical("c")
        #expect(lines.values == [
            "health-check: d\n", "health-check: i\n", "health-check: n\n",
            "health-check: warning: w\n", "health-check: error: e\n", "health-check: critical: c\n",
        ])
    }

    @Test func humanValuesWithSpacesAreQuoted() {
        let lines = Recorder<String>()
        logger(.human, into: lines).info("ran", metadata: ["command": "deploy production", "empty": ""])
        #expect(lines.values == ["health-check: ran command=\"deploy production\" empty=\"\"\n"])
    }

    @Test func colorOffProducesNoEscapeBytes() {
        let lines = Recorder<String>()
        let log = logger(.human, color: false, into: lines)
        for level in Logger.Level.allCases { log.log(level: level, "message") }
        #expect(lines.values.count == Logger.Level.allCases.count)
        #expect(!lines.values.joined().utf8.contains(0x1B))
    }

    @Test func colorOnPaintsWarningsAndErrors() {
        let lines = Recorder<String>()
        let log = logger(.human, color: true, into: lines)
        log.info("fine"); log.error("broken")
        #expect(lines.values == ["health-check: fine\n", "health-check: \u{1B}[31merror:\u{1B}[0m broken\n"])
    }

    @Test(arguments: [
        (true, nil, true), (true, "", true), (true, "1", false), (false, nil, false), (false, "", false),
    ] as [(Bool, String?, Bool)])
    func colorFollowsTerminalAndNoColor(isTerminal: Bool, noColor: String?, expected: Bool) {
        #expect(OpsLogHandler.shouldColor(isTerminal: isTerminal, noColor: noColor) == expected)
    }

    @Test func jsonLineParsesWithAllFields() throws {
        let lines = Recorder<String>()
        logger(.json, into: lines).notice("deployed \"v2\"\nto prod", metadata: ["sha": "abc123", "count": "\(3)"])
        let line = try #require(lines.values.first)
        #expect(lines.values.count == 1)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().allSatisfy { $0 != "\n" }, "one object per line")
        let decoded = try JSONDecoder().decode(JSONLine.self, from: Data(line.utf8))
        #expect(decoded.level == "notice")
        #expect(decoded.tool == "health-check")
        #expect(decoded.message == "deployed \"v2\"\nto prod")
        #expect(decoded.fields == ["sha": "abc123", "count": "3"])
        #expect(decoded.timestamp.wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/#) != nil, "\(decoded.timestamp)")
    }

    @Test func jsonKeepsKeysInFixedOrder() throws {
        let lines = Recorder<String>()
        logger(.json, into: lines).info("x")
        let line = try #require(lines.values.first)
        #expect(line.hasPrefix("{\"timestamp\":\""))
        #expect(line.hasSuffix(",\"level\":\"info\",\"tool\":\"health-check\",\"message\":\"x\",\"fields\":{}}\n"))
    }

    @Test func jsonEscapesControlCharacters() {
        #expect(OpsLogHandler.jsonString("a\u{1}b\tc\\") == #""a\u0001b\tc\\""#)
    }

    @Test func secretsAreRedactedInMessageAndFields() throws {
        let lines = Recorder<String>()
        var log = logger(.json, into: lines)
        log[metadataKey: "DB_PASSWORD"] = "hunter2"
        log.warning("push failed: GITHUB_TOKEN=ghp_abc to https://bot:pa55@git.example/x",
                    metadata: ["url": "postgres://app:s3cret@db/app", "api_token": "t0k", "env": "AWS_SECRET_ACCESS_KEY=zzz"])
        let line = try #require(lines.values.first)
        for secret in ["hunter2", "ghp_abc", "pa55", "s3cret", "t0k", "zzz"] {
            #expect(!line.contains(secret), "\(secret) leaked: \(line)")
        }
        let decoded = try JSONDecoder().decode(JSONLine.self, from: Data(line.utf8))
        #expect(decoded.message == "push failed: GITHUB_TOKEN=*** to https://bot:***@git.example/x")
        #expect(decoded.fields == [
            "DB_PASSWORD": "***", "api_token": "***", "url": "postgres://app:***@db/app", "env": "AWS_SECRET_ACCESS_KEY=***",
        ])
    }

    @Test func secretsAreRedactedInHumanLinesAndNestedMetadata() throws {
        let lines = Recorder<String>()
        logger(.human, into: lines).info("env", metadata: [
            "vars": .dictionary(["B2_APP_KEY": "k3y", "PATH": "/bin"]),
            "args": .array(["--password=pw1", "ok"]),
        ])
        let line = try #require(lines.values.first)
        #expect(!line.contains("k3y") && !line.contains("pw1"), "\(line)")
        #expect(line.contains("***"))
    }

    @Test func handlerMetadataAndProviderAreMerged() throws {
        let lines = Recorder<String>()
        var handler = OpsLogHandler(tool: "t", format: .human, color: false, sink: lines.append)
        handler.metadata = ["app": "shop"]
        handler.metadataProvider = Logger.MetadataProvider { ["run": "42"] }
        var log = Logger(label: "x", factory: { _ in handler })
        log.logLevel = .info
        log.info("go", metadata: ["app": "override"])
        #expect(lines.values == ["t: go app=override run=42\n"])
    }

    @Test func levelBelowThresholdIsDropped() {
        let lines = Recorder<String>()
        let log = logger(.human, level: .notice, into: lines)
        log.info("quiet"); log.notice("loud")
        #expect(lines.values == ["health-check: loud\n"])
    }

    @Test func timestampFormatting() {
        #expect(Timestamp.iso8601(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(Timestamp.iso8601(seconds: 1_777_636_800) == "2026-05-01T12:00:00Z")
    }
}
