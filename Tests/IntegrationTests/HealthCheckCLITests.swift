import FoundationEssentials
import OpsCore
import Testing
import TestSupport

/// `health-check` end to end: the built binary against a real nginx started by scripts/services/http-fixture.
@Suite struct HealthCheckCLITests {
    func check(_ args: String..., env: [String: String?] = [:], cwd: String? = nil) async throws -> OpsKitBinary.Output {
        try await OpsKitBinary.run("health-check", args, environment: env, workingDirectory: cwd)
    }

    func json(_ output: OpsKitBinary.Output) throws -> JSONValue {
        try #require(JSONValue.parse(Array(output.stdout.utf8)), "stdout is not JSON: \(output.stdout)")
    }

    @Test func healthyIsOKWithPerfdata() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("\(f.http)/api/health")
        #expect(out.exitCode == 0)
        #expect(out.stdoutLines.count == 1)
        #expect(out.stdout.hasPrefix("HEALTH OK - \(f.http)/api/health 200 in "))
        #expect(out.stdout.contains("(healthy) | time="))
        #expect(out.stdout.contains("attempts=1"))
    }

    @Test func degradedIsWarningNamingTheCheck() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("\(f.http)/degraded")
        #expect(out.exitCode == 1)
        #expect(out.stdout.hasPrefix("HEALTH WARNING - "))
        #expect(out.stdout.contains("app reports degraded; failing checks: ollama (down)"))
    }

    @Test func unhealthyIsCriticalNamingEveryFailingCheckAfterRetrying() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--retries", "1", "--interval", "0.05", "\(f.http)/unhealthy")
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains("failing checks: cache (down), database (down)"))
        #expect(out.stdout.contains("attempts=2"), "503 is transient, so it is retried once")
    }

    @Test func statusDownWith200IsCriticalAndNotRetried() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--retries", "3", "--interval", "0.05", "\(f.http)/down-200")
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains("attempts=1"))
    }

    @Test(arguments: [("/503", true), ("/429", true), ("/404", false)])
    func errorStatuses(path: String, retried: Bool) async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--retries", "2", "--interval", "0.05", "--json", "\(f.http)\(path)")
        #expect(out.exitCode == 2)
        let doc = try json(out)
        #expect(doc["status"] == .string("CRITICAL"))
        #expect(doc["httpStatus"]?.scalarText == String(path.dropFirst()))
        #expect(doc["attempts"] == .number(retried ? 3 : 1))
    }

    @Test func expectStatusAcceptsWhatItNames() async throws {
        let f = try await HTTPFixture.shared
        #expect(try await check("--expect-status", "404", "\(f.http)/404").exitCode == 0)
        #expect(try await check("--expect-status", "204", "\(f.http)/api/health").exitCode == 2)
    }

    @Test func nonJSONBodiesAreJudgedByStatusAndExpectBody() async throws {
        let f = try await HTTPFixture.shared
        #expect(try await check("\(f.http)/garbage").exitCode == 0)
        #expect(try await check("--expect-body", "all good", "\(f.http)/text-ok").exitCode == 0)
        let miss = try await check("--expect-body", "all good", "\(f.http)/garbage")
        #expect(miss.exitCode == 2)
        #expect(miss.stdout.contains(#"body does not contain "all good""#))
        let notJSON = try await check("--expect-json", "status=healthy", "\(f.http)/garbage")
        #expect(notJSON.exitCode == 2)
    }

    @Test func expectJSONChecksDottedKeys() async throws {
        let f = try await HTTPFixture.shared
        #expect(try await check("--expect-json", "checks.database.status=up", "--expect-json", "version=abc1234",
                                "\(f.http)/api/health").exitCode == 0)
        let out = try await check("--expect-json", "checks.database.status=down", "\(f.http)/api/health")
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains(#"checks.database.status is "up", expected "down""#))
    }

    @Test func slowAnswerTimesOut() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--timeout", "0.5", "--retries", "0", "\(f.http)/slow")
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains("no complete answer within 0.5 s"))
    }

    @Test func latencyThresholdsUseTheMeasuredTime() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--warn-latency", "100", "--crit-latency", "5000", "--timeout", "10", "\(f.http)/slow")
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("warning at 100 ms"))
        #expect(out.stdout.contains(";0.100000;5.000000;0"))
    }

    @Test func closedPortIsCriticalWithinTheRetryBudget() async throws {
        let f = try await HTTPFixture.shared
        let clock = ContinuousClock()
        let start = clock.now
        let out = try await check("--retries", "2", "--interval", "0.1", "--json", "\(f.closed)/api/health")
        #expect(clock.now - start < .seconds(10))
        #expect(out.exitCode == 2)
        let doc = try json(out)
        #expect(doc["attempts"] == .number(3))
        #expect(doc["error"]?.stringValue?.contains("could not connect") == true)
        #expect(doc["summary"]?.stringValue?.contains("3 attempts failed") == true)
    }

    @Test func waitKeepsTryingForItsBudget() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--wait", "1", "--interval", "0.2", "--json", "\(f.closed)/")
        #expect(out.exitCode == 2, "\(out.stdout) \(out.stderr)")
        let attempts = try json(out)["attempts"]
        guard case .number(let n)? = attempts else { Issue.record("no attempts in \(out.stdout)"); return }
        #expect(n >= 4 && n <= 7, "1 s budget, 0.2 s apart: about 6 tries, got \(n)")
    }

    @Test func certificateExpiringSoonWarns() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--cacert", f.caFile, "--min-cert-days", "30", "\(f.httpsSoon)/api/health")
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("certificate expires in 9 days") || out.stdout.contains("certificate expires in 10 days"))
        #expect(try await check("--cacert", f.caFile, "--min-cert-days", "30", "\(f.httpsOK)/api/health").exitCode == 0)
    }

    @Test func expiredCertificateIsCritical() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--cacert", f.caFile, "--retries", "0", "\(f.httpsExpired)/api/health")
        #expect(out.exitCode == 2)
        #expect(out.stdout.lowercased().contains("expired"))
        let insecure = try await check("--insecure", "--json", "\(f.httpsExpired)/api/health")
        #expect(insecure.exitCode == 2, "--insecure skips verification, not the expiry verdict")
        guard case .number(let days)? = try json(insecure)["certificateDaysLeft"] else {
            Issue.record("no certificateDaysLeft in \(insecure.stdout)"); return
        }
        #expect(days < 0)
    }

    @Test func untrustedCertificateIsCritical() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--retries", "2", "--interval", "0.05", "\(f.httpsOK)/api/health")
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains("attempts=1"), "a certificate problem is not transient")
    }

    @Test func severalURLsAreCheckedAndTheWorstWins() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--json", "--cacert", f.caFile, "\(f.http)/api/health", "\(f.httpsOK)/degraded")
        #expect(out.exitCode == 1)
        let doc = try json(out)
        #expect(doc["status"] == .string("WARNING"))
        guard case .array(let results)? = doc["results"] else { Issue.record("no results"); return }
        #expect(results.map { $0["status"] } == [.string("OK"), .string("WARNING")])
        #expect(results[1]["failingChecks"] == .array([.object(["name": .string("ollama"), "status": .string("down")])]))
        #expect(results[1]["certificateDaysLeft"] != nil)
        #expect(results[0]["timings"]?["totalMs"] != nil)
        let line = try await check("\(f.http)/api/health", "\(f.closed)/x", "--retries", "0")
        #expect(line.exitCode == 2)
        #expect(line.stdout.hasPrefix("HEALTH CRITICAL - 1 of 2 URLs not OK: OK "))
        #expect(line.stdout.contains("time_1="))
    }

    @Test func urlComesFromEnvironmentThenConfig() async throws {
        let f = try await HTTPFixture.shared
        let dir = try TempDirectory()
        defer { dir.remove() }
        try "health:\n  url: \(f.http)/degraded\n".write(toFile: dir.file("opskit.yml"))
        #expect(try await check(cwd: dir.path).exitCode == 1)
        #expect(try await check(env: ["HEALTH_URL": "\(f.http)/api/health"], cwd: dir.path).exitCode == 0)
        #expect(try await check("--config", dir.file("opskit.yml"), env: ["HEALTH_URL": nil]).exitCode == 1)
    }

    @Test func quietPrintsOnlyWhenNotOK() async throws {
        let f = try await HTTPFixture.shared
        let ok = try await check("--quiet", "\(f.http)/api/health")
        #expect(ok.exitCode == 0)
        #expect(ok.stdout.isEmpty && ok.stderr.isEmpty)
        let bad = try await check("--quiet", "--retries", "1", "--interval", "0.05", "\(f.http)/503")
        #expect(bad.exitCode == 2)
        #expect(bad.stdoutLines.count == 1)
        #expect(bad.stderr.isEmpty, "retry lines are hidden by --quiet")
    }

    @Test func retriesAreLoggedOnStderr() async throws {
        let f = try await HTTPFixture.shared
        let out = try await check("--retries", "1", "--interval", "0.05", "\(f.http)/503")
        #expect(out.stderr.contains("retrying health check of \(f.http)/503 in "))
        #expect(out.stderr.contains("(attempt 2/2): HTTP 503"))
        #expect(out.stderr.split(separator: "\n").count == 1, "one line per retry: \(out.stderr)")
        let json = try await check("--retries", "1", "--interval", "0.05", "--log-format", "json", "\(f.http)/503")
        let line = try #require(json.stderr.split(separator: "\n").first)
        let entry = try #require(JSONValue.parse(Array(line.utf8)))
        #expect(entry["tool"] == .string("health-check"))
    }

    @Test func credentialsInURLsAreNeverPrinted() async throws {
        let f = try await HTTPFixture.shared
        let url = f.http.replacing("http://", with: "http://app:hunter2@") + "/degraded"
        let out = try await check("--retries", "0", url)
        #expect(out.exitCode == 1)
        #expect(!out.stdout.contains("hunter2") && !out.stderr.contains("hunter2"))
        #expect(out.stdout.contains("app:***@"))
    }

    @Test(arguments: [
        ["not a url"], ["ftp://example.com/"], ["http://:80/"], ["http://host:99999/"],
        ["--expect-json", "nokey", "http://127.0.0.1/"], ["--frobnicate", "http://127.0.0.1/"],
        ["--retries", "-1", "http://127.0.0.1/"], ["--warn-latency", "500", "--crit-latency", "100", "http://127.0.0.1/"],
    ])
    func badInputIsUnknownWithOneLine(args: [String]) async throws {
        let out = try await OpsKitBinary.run("health-check", args, environment: ["HEALTH_URL": nil])
        #expect(out.exitCode == 3)
        #expect(out.stdoutLines.count == 1)
        #expect(out.stdout.hasPrefix("HEALTH UNKNOWN - "))
    }

    @Test func noURLAnywhereIsUnknown() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let out = try await check(env: ["HEALTH_URL": nil, "OPSKIT_CONFIG": nil], cwd: dir.path)
        #expect(out.exitCode == 3)
        #expect(out.stdout.contains("no URL to check"))
        try "health:\n\turl: x\n".write(toFile: dir.file("opskit.yml"))
        let broken = try await check(env: ["HEALTH_URL": nil], cwd: dir.path)
        #expect(broken.exitCode == 3)
        #expect(broken.stdout.contains("opskit.yml:2:"))
    }

    @Test func worksWhenCalledThroughABinLink() async throws {
        let f = try await HTTPFixture.shared
        let out = try await OpsKitBinary.run("health-check", ["\(f.http)/api/health"], asLink: true)
        #expect(out.exitCode == 0)
        let help = try await OpsKitBinary.run("health-check", ["--help"], asLink: true)
        #expect(help.exitCode == 0)
        #expect(help.stdout.contains("EXIT CODES") && help.stdout.contains("EXAMPLES"))
    }
}
