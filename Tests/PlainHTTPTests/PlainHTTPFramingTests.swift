import PlainHTTP
import Testing
import TestSupport

/// Responses nginx never sends, from a hand-made server: chunk extensions and trailers, interim 100s,
/// bodies until close, broken framing, stalls.
@Suite struct PlainHTTPFramingTests {
    let client = PlainHTTPClient()

    /// Sends `request` (built from the server's URL for `path`) to a server answering `steps`.
    func exchange(_ steps: [RawServer.Step], path: String = "/", ipv6: Bool = false,
                  _ configure: (inout PlainHTTPRequest) -> Void = { _ in }) async throws -> (PlainHTTPResponse, RawServer) {
        let server = try RawServer(ipv6: ipv6, steps)
        defer { server.stop() }
        var request = PlainHTTPRequest(url: server.url(path), timeout: .seconds(10))
        configure(&request)
        return (try await client.send(request), server)
    }

    func failure(_ steps: [RawServer.Step], _ configure: (inout PlainHTTPRequest) -> Void = { _ in }) async throws -> PlainHTTPError? {
        await #expect(throws: PlainHTTPError.self) { _ = try await exchange(steps, configure) }
    }

    static let chunked = crlf("""
        HTTP/1.1 200 OK
        Content-Type: text/plain
        Transfer-Encoding: chunked

        5;name=value
        hello
        7 ; a=b;c="d;e"
        , world
        A
        0123456789
        0
        X-Checksum: abc123
        X-Other:  spaced\t


        """)

    @Test func chunkedWithExtensionsAndTrailers() async throws {
        let (response, _) = try await exchange([.send(Self.chunked)])
        #expect(response.status == 200)
        #expect(response.bodyText == "hello, world0123456789")
        #expect(response.header("content-type") == "text/plain")
        #expect(response.trailers.map(\.name) == ["x-checksum", "x-other"])
        #expect(response.trailers.map(\.value) == ["abc123", "spaced"])
    }

    @Test func chunkedInPiecesOfOneByte() async throws {
        let (response, _) = try await exchange([.trickle(Self.chunked)])
        #expect(response.bodyText == "hello, world0123456789")
        #expect(response.trailers.count == 2)
    }

    @Test func chunkedClosedWithoutTheFinalBlankLine() async throws {
        let (response, _) = try await exchange([.send(crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n"))])
        #expect(response.bodyText == "ok")
        #expect(response.trailers.isEmpty)
    }

    @Test func chunkedWithBareLineFeedsAndUppercaseHex() async throws {
        let raw = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n1A\nabcdefghijklmnopqrstuvwxyz\n0\n\n"
        let (response, _) = try await exchange([.send(raw)])
        #expect(response.bodyText == "abcdefghijklmnopqrstuvwxyz")
    }

    @Test func interimContinueIsSkipped() async throws {
        let raw = crlf("HTTP/1.1 100 Continue\n\nHTTP/1.1 103 Early Hints\nLink: </x.css>\n\nHTTP/1.1 201 Created\nContent-Length: 2\n\nok")
        let (response, _) = try await exchange([.send(raw)]) { $0.method = "POST"; $0.body = Array("data".utf8) }
        #expect(response.status == 201)
        #expect(response.bodyText == "ok")
        #expect(response.header("link") == nil)
    }

    @Test func bodyUntilTheConnectionCloses() async throws {
        let (response, _) = try await exchange([.send(crlf("HTTP/1.0 200 OK\nServer: old\n\nall of ")), .trickle("this body")])
        #expect(response.status == 200)
        #expect(response.bodyText == "all of this body")
    }

    @Test func noContentHasNoBodyEvenWhenTheConnectionStaysOpen() async throws {
        // The server keeps the connection open for 20 s: a client waiting for a body would time out.
        let (response, _) = try await exchange([.send(crlf("HTTP/1.1 204 No Content\nContent-Length: 10\n\n")), .pause(.seconds(20))]) {
            $0.timeout = .seconds(10)
        }
        #expect(response.status == 204)
        #expect(response.body.isEmpty)
    }

    @Test func statusLineWithoutReason() async throws {
        let (response, _) = try await exchange([.send(crlf("HTTP/1.1 304\nETag: x\n\n"))])
        #expect(response.status == 304)
        #expect(response.header("etag") == "x")
    }

    @Test func foldedHeaderIsJoined() async throws {
        let (response, _) = try await exchange([.send(crlf("HTTP/1.1 200 OK\nX-Long: one\n  two\nContent-Length: 0\n\n"))])
        #expect(response.header("x-long") == "one two")
    }

    @Test func requestHeadIsWhatTheClientPromises() async throws {
        let (_, server) = try await exchange([.send(crlf("HTTP/1.1 200 OK\nContent-Length: 0\n\n"))], path: "/a/b?x=1&y=2#fragment") {
            $0.method = "POST"
            $0.body = Array("{\"k\":1}".utf8)
            $0.headers = [("X-Custom", "v"), ("Connection", "keep-alive"), ("Content-Length", "999")]
        }
        let request = try #require(server.requests.withLock { $0.first })
        let lines = request.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "POST /a/b?x=1&y=2 HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(server.port)"))
        #expect(lines.contains("User-Agent: opskit"))
        #expect(lines.contains("X-Custom: v"))
        #expect(lines.contains("Content-Length: 7"))
        #expect(lines.contains("Connection: close"))
        #expect(!lines.contains("Connection: keep-alive") && !lines.contains("Content-Length: 999"))
        #expect(request.hasSuffix("\r\n\r\n{\"k\":1}"))
    }

    @Test func credentialsInTheURLBecomeBasicAuthorization() async throws {
        let server = try RawServer([.send(crlf("HTTP/1.1 200 OK\nContent-Length: 0\n\n"))])
        defer { server.stop() }
        _ = try await client.send(PlainHTTPRequest(url: "http://admin:p%40ss@\(server.authority)/"))
        let request = try #require(server.requests.withLock { $0.first })
        #expect(request.contains("\r\nAuthorization: Basic YWRtaW46cEBzcw==\r\n"))  // admin:p@ss
    }

    @Test func ipv6Literal() async throws {
        let (response, server) = try await exchange([.send(crlf("HTTP/1.1 200 OK\nContent-Length: 4\n\nv6ok"))], ipv6: true)
        #expect(response.bodyText == "v6ok")
        let request = try #require(server.requests.withLock { $0.first })
        #expect(request.contains("\r\nHost: [::1]:\(server.port)\r\n"))
    }

    // MARK: - Failures

    @Test(arguments: [
        "garbage\n\n",
        "HTTP/2 200\n\n",
        "HTTP/1.1 2000 OK\n\n",
        "HTTP/1.1 200 OK\nno colon here\n\n",
        "HTTP/1.1 200 OK\n: empty name\n\n",
        "HTTP/1.1 200 OK\nContent-Length: ten\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 5\nContent-Length: 6\n\nhello!",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\nhello\n0\n\n",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n-5\nhello\n0\n\n",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello!!\n0\n\n",
    ])
    func malformedResponse(raw: String) async throws {
        let error = try await failure([.send(crlf(raw))])
        guard case .malformedResponse = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(error?.isTransient == false)
        #expect(error?.description.hasPrefix("malformed HTTP response: ") == true)
    }

    @Test func closedWithoutAnswer() async throws {
        let error = try await failure([])
        #expect(error == .io("the server closed the connection without answering"))
        #expect(error?.isTransient == true)
    }

    @Test func truncatedBody() async throws {
        let error = try await failure([.send(crlf("HTTP/1.1 200 OK\nContent-Length: 100\n\nonly this"))])
        #expect(error == .io("the server closed the connection 9 bytes into a body of 100"))
    }

    @Test func truncatedChunkedBody() async throws {
        let error = try await failure([.send(crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n"))])
        #expect(error == .io("the server closed the connection in the middle of a chunked body"))
    }

    @Test func stallAfterTheHeadersTimesOut() async throws {
        let error = try await failure([.send(crlf("HTTP/1.1 200 OK\nContent-Length: 100\n\nsome")), .pause(.seconds(3))]) {
            $0.timeout = .milliseconds(300)
        }
        #expect(error == .timedOut(after: .milliseconds(300)))
    }

    @Test func chunkedAboveTheLimitIsTooLarge() async throws {
        let chunk = String(repeating: "x", count: 0x400)
        let raw = crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n400\n\(chunk)\n400\n\(chunk)\n0\n\n")
        let error = try await failure([.send(raw)]) { $0.maxResponseBytes = 1500 }
        #expect(error == .tooLarge(limit: 1500))
    }

    @Test func bodyUntilCloseAboveTheLimitIsTooLarge() async throws {
        let raw = crlf("HTTP/1.0 200 OK\n\n") + String(repeating: "y", count: 5000)
        let error = try await failure([.send(raw)]) { $0.maxResponseBytes = 4999 }
        #expect(error == .tooLarge(limit: 4999))
    }

    @Test func bodyAtTheLimitIsFine() async throws {
        let raw = crlf("HTTP/1.0 200 OK\n\n") + String(repeating: "y", count: 5000)
        let (response, _) = try await exchange([.send(raw)]) { $0.maxResponseBytes = 5000 }
        #expect(response.body.count == 5000)
    }
}

@Suite struct PlainHTTPConnectTests {
    @Test func connectTimeoutWhenTheListenerIsFull() async throws {
        let listener = try FullListener()
        let request = PlainHTTPRequest(url: "http://127.0.0.1:\(listener.port)/", timeout: .seconds(10),
                                       connectTimeout: .milliseconds(300))
        let error = await #expect(throws: PlainHTTPError.self) { try await PlainHTTPClient().send(request) }
        #expect(error == .timedOut(after: .milliseconds(300)))
        withExtendedLifetime(listener) {}
    }
}
