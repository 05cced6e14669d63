@testable import PlainHTTP
import Testing

/// URL parsing, request validation and error texts; no server involved.
@Suite struct PlainHTTPRequestTests {
    let client = PlainHTTPClient()

    @Test func httpsBelongsToTheTLSClient() async throws {
        let error = await #expect(throws: PlainHTTPError.self) {
            try await client.send(PlainHTTPRequest(url: "https://example.com/health"))
        }
        #expect(error == .unsupportedScheme("https"))
        #expect(error?.isTransient == false)
        #expect(error?.description.contains("use the TLS client") == true || error?.description.contains("with the TLS client") == true)
    }

    @Test func otherSchemesAreUnsupported() throws {
        #expect(throws: PlainHTTPError.unsupportedScheme("ftp")) {
            try client.sendBlocking(PlainHTTPRequest(url: "FTP://example.com/file"))
        }
    }

    @Test(arguments: ["", "example.com/health", "http://", "http:///path", "http://host:99999/", "http://host:0/",
                      "http://host:12ab/", "http://[::1/", "http://[::1]x/", "http://[nothex]/", "http://[1:2:3]/", "http://a b/",
                      "http://host/pa th", "/containers/json", "http://h:1:2/", "1http://x/", "http://u:%zz@h/"])
    func invalidURLs(url: String) throws {
        #expect(throws: PlainHTTPError.invalidURL(url)) {
            try client.sendBlocking(PlainHTTPRequest(url: url))
        }
    }

    @Test func targets() throws {
        let plain = try RequestTarget.parse("http://Example.com:8080/a?b=c#frag", unixSocket: nil)
        #expect(plain == RequestTarget(host: "Example.com", port: 8080, hostHeader: "Example.com:8080", pathAndQuery: "/a?b=c"))
        let bare = try RequestTarget.parse("http://10.0.0.5", unixSocket: nil)
        #expect(bare == RequestTarget(host: "10.0.0.5", port: 80, hostHeader: "10.0.0.5", pathAndQuery: "/"))
        let query = try RequestTarget.parse("http://h:80?x", unixSocket: nil)
        #expect(query == RequestTarget(host: "h", port: 80, hostHeader: "h", pathAndQuery: "/?x"))
        let v6 = try RequestTarget.parse("http://[::1]:9000/x", unixSocket: nil)
        #expect(v6 == RequestTarget(host: "::1", port: 9000, hostHeader: "[::1]:9000", pathAndQuery: "/x"))
        let zone = try RequestTarget.parse("http://[fe80::1%25eth0]/", unixSocket: nil)
        #expect(zone == RequestTarget(host: "fe80::1%eth0", port: 80, hostHeader: "[fe80::1]", pathAndQuery: "/"))
        let socketPath = try RequestTarget.parse("/containers/json?all=1", unixSocket: "/var/run/docker.sock")
        #expect(socketPath == RequestTarget(host: "localhost", port: 80, hostHeader: "localhost", pathAndQuery: "/containers/json?all=1"))
        let user = try RequestTarget.parse("http://user@h/", unixSocket: nil)
        #expect(user.authorization == "Basic " + RequestTarget.base64(Array("user:".utf8)))
    }

    @Test func base64() {
        #expect(RequestTarget.base64([]) == "")
        #expect(RequestTarget.base64(Array("f".utf8)) == "Zg==")
        #expect(RequestTarget.base64(Array("fo".utf8)) == "Zm8=")
        #expect(RequestTarget.base64(Array("foo".utf8)) == "Zm9v")
        #expect(RequestTarget.base64(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test(arguments: [
        PlainHTTPRequest(url: "http://h/", method: "GET /x"),
        PlainHTTPRequest(url: "http://h/", method: ""),
        PlainHTTPRequest(url: "http://h/", headers: [("X-Bad", "a\r\nInjected: yes")]),
        PlainHTTPRequest(url: "http://h/", headers: [("Bad Name", "v")]),
        PlainHTTPRequest(url: "/x", unixSocket: "/tmp/" + String(repeating: "s", count: 120)),
    ])
    func invalidRequests(request: PlainHTTPRequest) throws {
        let error = #expect(throws: PlainHTTPError.self) { try client.sendBlocking(request) }
        guard case .invalidRequest = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
    }

    @Test func passwordsStayOutOfMessages() {
        let error = PlainHTTPError.invalidURL("http://admin:s3cret@host:99999/")
        #expect(error.description == "invalid URL 'http://admin:***@host:99999/': expected http://host[:port]/path (or a path starting with / for a Unix socket)")
    }

    @Test func transience() {
        let transient: [PlainHTTPError] = [.couldNotResolve(host: "h"), .connectionRefused("h:1"), .noSuchSocket(path: "/s"),
                                           .timedOut(after: .seconds(1)), .io("reset")]
        let permanent: [PlainHTTPError] = [.invalidURL("x"), .invalidRequest("x"), .unsupportedScheme("https"),
                                           .permissionDenied(path: "/s"), .malformedResponse("x"), .tooLarge(limit: 1)]
        #expect(transient.allSatisfy { $0.isTransient })
        #expect(!permanent.contains { $0.isTransient })
        #expect((transient + permanent).allSatisfy { !$0.description.contains("\n") })
    }

    @Test func cancelledBeforeStarting() async {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send(PlainHTTPRequest(url: "http://127.0.0.1:1/"))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
