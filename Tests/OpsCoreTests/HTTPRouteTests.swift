import Testing
import TestSupport
@testable import OpsCore

/// Which client `.automatic` picks. The answers of both clients are compared in HTTPClientTests and
/// HTTPFailureTests; LazyLibraryTests prove end to end that plain requests never load libcurl.
@Suite struct HTTPRouteTests {
    func route(_ request: HTTPRequest, _ environment: [String: String] = [:]) -> HTTPClient.Route {
        HTTPClient.route(for: request, environment: environment)
    }

    @Test func plainHTTPAndUnixSocketsGoToPlainHTTP() {
        #expect(route(HTTPRequest(url: "http://127.0.0.1:3000/api/health")) == .plain)
        #expect(route(HTTPRequest(url: "HTTP://app.example.com/health")) == .plain)
        #expect(route(HTTPRequest(url: "http://localhost/containers/json", unixSocketPath: "/run/docker.sock")) == .plain)
        #expect(route(HTTPRequest(url: "http://h/x", method: "POST", body: .text("x"))) == .plain)
    }

    @Test func whatOnlyCurlDoesGoesToCurl() {
        #expect(route(HTTPRequest(url: "https://app.example.com/health")) == .libcurl)
        #expect(route(HTTPRequest(url: "http://app.example.com/", followRedirects: true)) == .libcurl)
        #expect(route(HTTPRequest(url: "http://h/x", method: "PUT", body: .stream(length: nil) { nil })) == .libcurl)
    }

    @Test func proxiesSendOnlyNonLoopbackHostsToCurl() {
        for name in ["http_proxy", "ALL_PROXY", "all_proxy"] {
            let proxy = [name: "http://proxy.internal:3128"]
            #expect(route(HTTPRequest(url: "http://app.example.com/health"), proxy) == .libcurl, "\(name)")
            #expect(route(HTTPRequest(url: "http://127.0.0.1:3000/health"), proxy) == .plain, "\(name)")
            #expect(route(HTTPRequest(url: "http://[::1]:3000/health"), proxy) == .plain, "\(name)")
            #expect(route(HTTPRequest(url: "http://h/", unixSocketPath: "/s"), proxy) == .plain, "\(name)")
        }
        // curl reads only the lowercase http_proxy for http (HTTP_PROXY is ignored for CGI safety), and empty is unset.
        #expect(route(HTTPRequest(url: "http://app.example.com/"), ["HTTP_PROXY": "http://p:1", "http_proxy": ""]) == .plain)
    }

    @Test func opskitHTTPCurlSendsEverythingToCurl() {
        let env = ["OPSKIT_HTTP": "curl"]
        #expect(route(HTTPRequest(url: "http://127.0.0.1/"), env) == .libcurl)
        #expect(route(HTTPRequest(url: "http://h/", unixSocketPath: "/s"), env) == .libcurl)
    }

    @Test func thePlainTransportRefusesWhatItCannotSend() async {
        let client = HTTPClient(transport: .plain)
        for request in [HTTPRequest(url: "https://127.0.0.1:1/"), HTTPRequest(url: "http://127.0.0.1:1/", followRedirects: true)] {
            await #expect {
                try await client.send(request)
            } throws: { error in
                guard case .invalidRequest(let why) = error as? HTTPError else { return false }
                return why.contains("plain HTTP client")
            }
        }
        await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: "http://127.0.0.1:1/")) { _ in } }
    }

    @Test func plainAnswersCarryWhatCurlsDo() async throws {
        let fixture = try await HTTPFixture.shared
        let plain = try await HTTPClient(transport: .plain).send(HTTPRequest(url: fixture.http + "/api/health"))
        let curl = try await HTTPClient(transport: .libcurl).send(HTTPRequest(url: fixture.http + "/api/health"))
        #expect(plain.status == curl.status && plain.body == curl.body)
        #expect(plain.httpVersion == curl.httpVersion && plain.remoteAddress == curl.remoteAddress)
        #expect(Set(plain.headers.map { $0.name.lowercased() }) == Set(curl.headers.map { $0.name.lowercased() }))
        #expect(plain.header("content-type") == curl.header("Content-Type"))
    }
}
