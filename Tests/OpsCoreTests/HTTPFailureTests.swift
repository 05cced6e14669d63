import Testing
import TestSupport
@testable import OpsCore

/// Transfers that fail: refused, timed out, cancelled; and many slow ones at once.
@Suite struct HTTPFailureTests {
    let client = HTTPClient()

    @Test(arguments: HTTPClient.Transport.eachWay) func closedPortIsRefusedAndTransient(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        do {
            _ = try await client.send(HTTPRequest(url: fixture.closed + "/api/health"))
            Issue.record("expected a connection failure")
        } catch let error as HTTPError {
            guard case .connectionRefused = error else { Issue.record("got \(error)"); return }
            #expect(error.isTransient)
            #expect(error.description.contains("could not connect"))
        }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func missingUnixSocketIsAConnectFailure(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let request = HTTPRequest(url: "http://localhost/", unixSocketPath: "/nonexistent/opskit.sock")
        await #expect {
            try await client.send(request)
        } throws: { error in
            if case .connectionRefused = error as? HTTPError { return true }
            return false
        }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func slowAnswerTimesOut(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let request = HTTPRequest(url: fixture.http + "/slow", timeout: .milliseconds(500))
        await #expect(throws: HTTPError.timedOut(after: .milliseconds(500))) { try await client.send(request) }
        #expect(HTTPError.timedOut(after: .milliseconds(500)).isTransient)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func cancellationStopsTheTransfer(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let task = Task { [client] in try await client.send(HTTPRequest(url: fixture.http + "/slow")) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func concurrentSlowRequestsDoNotQueue(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask { [client] in
                    try await client.send(HTTPRequest(url: fixture.http + "/slow", timeout: .seconds(10))).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 10))
        // Serial would take 30 s; the bound is loose on purpose, this is no benchmark.
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
