import Synchronization
import Testing
import TestSupport
@testable import OpsCore

extension HTTPClient.Transport {
    /// Both clients, for requests either can send: they must give the same answers.
    static let eachWay: [Self] = [.libcurl, .plain]
    /// For what only libcurl does (following redirects, streaming), `.automatic` must pick it.
    static let automaticAndCurl: [Self] = [.automatic, .libcurl]
}

/// HTTPClient against the real nginx fixture over plain HTTP and a Unix socket, through libcurl and PlainHTTP.
@Suite struct HTTPClientTests {
    let client = HTTPClient()

    @Test(arguments: HTTPClient.Transport.eachWay) func getReturnsStatusBodyAndHeaders(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.http + "/api/health"))
        #expect(response.status == 200)
        #expect(response.bodyText.hasPrefix(#"{"status":"healthy""#))
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("CONTENT-LENGTH") == String(response.body.count))
        #expect(response.httpVersion == "1.1")
        #expect(response.remoteAddress == "127.0.0.1")
        #expect(response.certificateExpiry == nil)
    }

    @Test(arguments: [("/404", 404), ("/503", 503), ("/429", 429), ("/unhealthy", 503), ("/text-ok", 200)],
          HTTPClient.Transport.eachWay)
    func httpErrorStatusesAreResponses(_ expected: (path: String, status: Int), _ transport: HTTPClient.Transport) async throws {
        let (path, status) = expected
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.http + path))
        #expect(response.status == status)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func postBodyAndHeadersReachTheServer(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let request = HTTPRequest(url: fixture.http + "/echo", method: "POST",
                                  headers: [(name: "X-Test", value: "hello")], body: .text("ping body"))
        let response = try await client.send(request)
        #expect(response.status == 200)
        #expect(response.bodyText == "ping body")
        #expect(response.header("X-Echo-Method") == "POST")
        #expect(response.header("X-Echo-Header") == "hello")
        #expect(response.header("X-Echo-User-Agent") == "opskit/\(OpsKit.version)")
    }

    @Test func putWithStreamedBodyOfUnknownLength() async throws {
        let fixture = try await HTTPFixture.shared
        let chunks = Mutex([Array("one-".utf8), Array("two-".utf8), [], Array("three".utf8)])
        let body = HTTPBody.stream(length: nil) {
            chunks.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        }
        let response = try await client.send(HTTPRequest(url: fixture.http + "/echo", method: "PUT", body: body))
        #expect(response.header("X-Echo-Method") == "PUT")
        #expect(response.bodyText == "one-two-three")
    }

    @Test func uploadSourceErrorIsRethrown() async throws {
        struct SourceBroke: Error {}
        let fixture = try await HTTPFixture.shared
        let body = HTTPBody.stream(length: 100) { throw SourceBroke() }
        await #expect(throws: SourceBroke.self) {
            try await client.send(HTTPRequest(url: fixture.http + "/echo", method: "POST", body: body))
        }
    }

    @Test func streamingDeliversBigBodyInChunks() async throws {
        let fixture = try await HTTPFixture.shared
        let received = Mutex((bytes: 0, chunks: 0))
        let response = try await client.send(HTTPRequest(url: fixture.http + "/big")) { chunk in
            received.withLock { $0.bytes += chunk.count; $0.chunks += 1 }
        }
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        let total = received.withLock { $0 }
        #expect(total.bytes == 10 * 1024 * 1024)
        #expect(total.chunks > 1)
    }

    @Test func bodyConsumerErrorStopsTheTransfer() async throws {
        struct Enough: Error {}
        let fixture = try await HTTPFixture.shared
        await #expect(throws: Enough.self) {
            try await client.send(HTTPRequest(url: fixture.http + "/big")) { _ in throw Enough() }
        }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func bufferedBodyOverTheLimitFails(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        await #expect(throws: HTTPError.responseTooLarge(limit: 8 * 1024 * 1024)) {
            try await client.send(HTTPRequest(url: fixture.http + "/big"))
        }
        var small = HTTPRequest(url: fixture.http + "/api/health")
        small.maxResponseBytes = 10
        await #expect(throws: HTTPError.responseTooLarge(limit: 10)) { try await client.send(small) }
        // A chunked answer has no Content-Length to check up front: the limit is enforced while reading.
        var chunked = HTTPRequest(url: fixture.http + "/echo", method: "POST", body: .bytes(Array(repeating: 65, count: 100)))
        chunked.maxResponseBytes = 10
        await #expect(throws: HTTPError.responseTooLarge(limit: 10)) { try await client.send(chunked) }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func largeUploadRoundTrips(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        // Over 1 MiB curl sends "Expect: 100-continue" first; the body must still arrive whole.
        let payload = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let response = try await client.send(HTTPRequest(url: fixture.http + "/echo", method: "POST", body: .bytes(payload)))
        #expect(response.status == 200)
        #expect(response.body == payload)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func timingsAreOrdered(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let timings = try await client.send(HTTPRequest(url: fixture.http + "/text-ok")).timings
        #expect(timings.dns >= .zero && timings.connect >= .zero && timings.tls == .zero)
        #expect(timings.firstByte >= .zero && timings.total >= timings.firstByte)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func getOverUnixSocket(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let request = HTTPRequest(url: "http://localhost/api/health", unixSocketPath: fixture.unixSocket)
        let response = try await client.send(request)
        #expect(response.status == 200)
        #expect(response.bodyText.contains(#""version":"abc1234""#))
        #expect(response.remoteAddress == fixture.unixSocket)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func headRequestHasNoBody(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.http + "/text-ok", method: "HEAD"))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func headOfALargeResourceIsNotMeasuredAgainstTheBodyLimit(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        // /big is 10 MiB; a HEAD reply announces that length but carries no body.
        let request = HTTPRequest(url: fixture.http + "/big", method: "HEAD", maxResponseBytes: 1024)
        let response = try await client.send(request)
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(10 * 1024 * 1024))
        await #expect(throws: HTTPError.responseTooLarge(limit: 1024)) {
            try await client.send(HTTPRequest(url: fixture.http + "/big", maxResponseBytes: 1024))
        }
    }

    @Test(arguments: HTTPClient.Transport.automaticAndCurl) func sendBlockingRunsOnTheCallingThread(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let url = fixture.http + "/echo"
        // On a thread of its own, as the backup pipeline calls it.
        let response = try await onThread { try client.sendBlocking(HTTPRequest(url: url, method: "POST", body: .text("blocking"))) }
        #expect(response.status == 200)
        #expect(response.bodyText == "blocking")
        let streamed = BytesCollector()
        _ = try await onThread { try client.sendBlocking(HTTPRequest(url: url, method: "POST", body: .text("chunks")), onBody: streamed.append) }
        #expect(streamed.text == "chunks")
        await #expect(throws: HTTPError.self) { try await onThread { try client.sendBlocking(HTTPRequest(url: "http://127.0.0.1:1/")) } }
    }

    @Test(arguments: ["", "not a url", "127.0.0.1:8080/health", "ftp://example.com/x", "file:///etc/passwd",
                      "http://", "http:///path", "http://exa mple.com/"], HTTPClient.Transport.eachWay)
    func invalidURLIsRejected(url: String, _ transport: HTTPClient.Transport) async {
        let client = HTTPClient(transport: transport)
        await #expect(throws: HTTPError.invalidURL(url)) { try await client.send(HTTPRequest(url: url)) }
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func headerWithLineBreakIsRejected(_ transport: HTTPClient.Transport) async {
        let client = HTTPClient(transport: transport)
        let request = HTTPRequest(url: "http://127.0.0.1:1/", headers: [(name: "X-A", value: "a\r\nX-Injected: 1")])
        await #expect(throws: HTTPError.self) { try await client.send(request) }
    }
}

/// Redirects and name resolution.
@Suite struct HTTPRedirectTests {
    let client = HTTPClient()

    @Test(arguments: HTTPClient.Transport.automaticAndCurl) func redirectsAreReturnedUnlessFollowed(_ transport: HTTPClient.Transport) async throws {
        let client = HTTPClient(transport: transport)
        let fixture = try await HTTPFixture.shared
        let plain = try await client.send(HTTPRequest(url: fixture.http + "/redirect"))
        #expect(plain.status == 302)
        #expect(plain.header("Location") == "/api/health")

        let followed = try await client.send(HTTPRequest(url: fixture.http + "/redirect", followRedirects: true))
        #expect(followed.status == 200)
        #expect(followed.header("Location") == nil)
        #expect(followed.header("Content-Type") == "application/json")
    }

    @Test(arguments: HTTPClient.Transport.eachWay) func unknownHostIsAResolveFailure(_ transport: HTTPClient.Transport) async {
        let client = HTTPClient(transport: transport)
        // .invalid never resolves (RFC 6761).
        let request = HTTPRequest(url: "http://opskit-test.invalid/health", connectTimeout: .seconds(5))
        await #expect(throws: HTTPError.couldNotResolve(host: "opskit-test.invalid")) { try await client.send(request) }
    }
}

/// Collects streamed body chunks from the transfer's thread.
private final class BytesCollector: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    @Sendable func append(_ chunk: [UInt8]) { bytes.withLock { $0 += chunk } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}
