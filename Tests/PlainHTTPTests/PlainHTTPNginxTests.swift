#if canImport(Glibc)
import Glibc
#endif
import PlainHTTP
import Testing
import TestSupport

/// PlainHTTPClient against the real nginx of scripts/services/http-fixture, over TCP and its Unix socket.
@Suite struct PlainHTTPNginxTests {
    let client = PlainHTTPClient()

    @Test func getReturnsStatusBodyAndHeaders() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + "/api/health"))
        #expect(response.status == 200)
        #expect(response.bodyText.hasPrefix(#"{"status":"healthy""#))
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("CONTENT-LENGTH") == String(response.body.count))
        #expect(response.headers.allSatisfy { $0.name == $0.name.lowercased() })
        #expect(response.header("x-missing") == nil)
        #expect(response.timings.connect <= response.timings.firstByte)
        #expect(response.timings.firstByte <= response.timings.total)
    }

    @Test(arguments: [("/404", 404, "Not Found"), ("/503", 503, "Service Unavailable"), ("/429", 429, "Too Many Requests")])
    func errorStatusesAreResponses(path: String, status: Int, body: String) async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + path))
        #expect(response.status == status)
        #expect(response.bodyText == body)
    }

    @Test func unhealthyBodyComesWithThe503() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + "/unhealthy"))
        #expect(response.status == 503)
        #expect(response.bodyText.hasPrefix(#"{"status":"unhealthy""#))
    }

    @Test func bigBodyEqualsTheFile() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + "/big", maxResponseBytes: 16 << 20))
        #expect(response.status == 200)
        let file = try readFile(fixture.directory + "/www/big.bin")
        #expect(file.count == 10 << 20)
        #expect(response.body.count == file.count)
        #expect(response.body == file)
    }

    @Test func bodyAboveTheLimitIsTooLarge() async throws {
        let fixture = try await HTTPFixture.shared
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: fixture.http + "/big"))  // 10 MiB, limit 8 MiB
        }
        #expect(error == .tooLarge(limit: 8 << 20))
        #expect(error?.isTransient == false)
        #expect(error?.description.contains("maxResponseBytes") == true)
    }

    @Test func slowAnswerTimesOut() async throws {
        let fixture = try await HTTPFixture.shared
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: fixture.http + "/slow", timeout: .milliseconds(500)))
        }
        #expect(error == .timedOut(after: .milliseconds(500)))
        #expect(error?.isTransient == true)
        #expect(error?.description.hasPrefix("no complete answer within 0.5 s") == true)
    }

    @Test func closedPortIsConnectionRefused() async throws {
        let fixture = try await HTTPFixture.shared
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: fixture.closed + "/api/health"))
        }
        let port = fixture.closed.split(separator: ":").last.map(String.init) ?? "?"
        #expect(error == .connectionRefused("127.0.0.1:" + port))
        #expect(error?.isTransient == true)
    }

    @Test func postSendsBodyHeadersAndUserAgent() async throws {
        let fixture = try await HTTPFixture.shared
        let request = PlainHTTPRequest(url: fixture.http + "/echo", method: "POST",
                                       headers: [("X-Test", "hello")], body: Array("ping body".utf8))
        let response = try await client.send(request)
        #expect(response.status == 200)
        #expect(response.bodyText == "ping body")
        #expect(response.header("x-echo-method") == "POST")
        #expect(response.header("x-echo-header") == "hello")
        #expect(response.header("x-echo-user-agent") == "opskit")
        // The echo module streams its output: nginx frames it as chunked.
        #expect(response.header("transfer-encoding") == "chunked")
    }

    @Test func ownUserAgentReplacesTheDefault() async throws {
        let fixture = try await HTTPFixture.shared
        let request = PlainHTTPRequest(url: fixture.http + "/echo", method: "PUT", headers: [("User-Agent", "probe/2")],
                                       body: [])
        let response = try await client.send(request)
        #expect(response.header("x-echo-user-agent") == "probe/2")
        #expect(response.header("x-echo-method") == "PUT")
        #expect(response.body.isEmpty)
    }

    @Test func headHasNoBody() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + "/big", method: "HEAD"))
        #expect(response.status == 200)
        #expect(response.header("content-length") == String(10 << 20))
        #expect(response.body.isEmpty)
    }

    @Test func redirectIsReturnedNotFollowed() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: fixture.http + "/redirect"))
        #expect(response.status == 302)
        #expect(response.header("location") == "/api/health")
    }

    @Test func hostNameIsLookedUp() async throws {
        let fixture = try await HTTPFixture.shared
        // localhost may resolve to ::1 first, where nothing listens: the client goes on to 127.0.0.1.
        let url = fixture.http.replacing("127.0.0.1", with: "localhost") + "/text-ok"
        let response = try await client.send(PlainHTTPRequest(url: url))
        #expect(response.status == 200)
        #expect(response.bodyText == "OK all good")
    }

    @Test func unknownHostCouldNotResolve() async throws {
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: "http://no-such-host.invalid/", timeout: .seconds(5)))
        }
        #expect(error == .couldNotResolve(host: "no-such-host.invalid"))
    }

    @Test func unixSocketWithAPath() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: "/api/health", unixSocket: fixture.unixSocket))
        #expect(response.status == 200)
        #expect(response.bodyText.hasPrefix(#"{"status":"healthy""#))
    }

    @Test func unixSocketWithAURL() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(PlainHTTPRequest(url: "http://localhost/unhealthy", unixSocket: fixture.unixSocket))
        #expect(response.status == 503)
    }

    @Test func missingUnixSocket() async throws {
        let path = "/nonexistent/opskit/http.sock"
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: "/_ping", unixSocket: path))
        }
        #expect(error == .noSuchSocket(path: path))
        #expect(error?.description == "no Unix socket at \(path): is the service running, and is the path right?")
    }

    @Test func fileThatIsNotASocketRefuses() async throws {
        let directory = try TempDirectory(prefix: "opskit-plainhttp")
        defer { directory.remove() }
        try "".write(toFile: directory.file("http.sock"))
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: "/", unixSocket: directory.file("http.sock")))
        }
        #expect(error == .connectionRefused(directory.file("http.sock")))
    }

    @Test func blockingTwinOnAThreadOfItsOwn() async throws {
        let fixture = try await HTTPFixture.shared
        let client = client
        let response = try await onThread {
            try client.sendBlocking(PlainHTTPRequest(url: fixture.http + "/degraded"))
        }
        #expect(response.status == 200)
        #expect(response.bodyText.contains("degraded"))
    }

    @Test func cancellingTheTaskStopsTheRequest() async throws {
        let fixture = try await HTTPFixture.shared
        let client = client
        let task = Task { try await client.send(PlainHTTPRequest(url: fixture.http + "/slow", timeout: .seconds(30))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// Not a test of speed (nothing is asserted): prints what 100 sequential requests cost, for the README.
    @Test func hundredSequentialGets() async throws {
        let fixture = try await HTTPFixture.shared
        let client = client
        let request = PlainHTTPRequest(url: fixture.http + "/api/health")
        let clock = ContinuousClock()
        let blocking = try await onThread {
            _ = try client.sendBlocking(request)  // warm up: first use of the code paths
            return try clock.measure {
                for _ in 0..<100 { _ = try client.sendBlocking(request) }
            }
        }
        let async = try await clock.measure {
            for _ in 0..<100 { _ = try await client.send(request) }
        }
        print("PlainHTTP: 100 sequential GETs to loopback nginx: sendBlocking \(blocking), send (own thread each) \(async)")
    }
}

/// The whole file, read with plain POSIX calls.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TestSupportError("cannot open \(path): errno \(errno)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = read(fd, &chunk, chunk.count)
        guard n >= 0 else { throw TestSupportError("cannot read \(path): errno \(errno)") }
        if n == 0 { return bytes }
        bytes += chunk[..<n]
    }
}
