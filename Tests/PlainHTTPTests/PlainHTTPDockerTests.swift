import PlainHTTP
import Testing
import TestSupport

/// PlainHTTPClient against the real Docker Engine API on its Unix socket.
@Suite struct PlainHTTPDockerTests {
    let client = PlainHTTPClient()
    let socket = "/var/run/docker.sock"

    @Test func ping() async throws {
        try await DockerFixture.ensure()
        let response = try await client.send(PlainHTTPRequest(url: "/_ping", unixSocket: socket))
        #expect(response.status == 200)
        #expect(response.bodyText == "OK")
        #expect(response.header("api-version") != nil)
    }

    @Test func containerListIsAJSONArray() async throws {
        try await DockerFixture.ensure()
        let response = try await client.send(PlainHTTPRequest(url: "/containers/json?all=1", unixSocket: socket))
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let text = trimmed(response.bodyText)
        #expect(text.hasPrefix("[") && text.hasSuffix("]"))
        let framing = response.header("transfer-encoding") ?? "content-length " + (response.header("content-length") ?? "none")
        print("PlainHTTP: docker /containers/json?all=1: \(response.body.count) bytes, framed by \(framing)")
    }

    @Test func imageListIsChunkedOrSizedAndComplete() async throws {
        try await DockerFixture.ensure()
        // Go's net/http chunks bodies larger than its 2 KiB buffer when the handler sets no length.
        let response = try await client.send(PlainHTTPRequest(url: "/images/json", unixSocket: socket))
        #expect(response.status == 200)
        let text = trimmed(response.bodyText)
        #expect(text.hasPrefix("[") && text.hasSuffix("]"))
        #expect(text.contains("opskit-test/app:v1"))
        if let length = response.header("content-length") { #expect(Int(length) == response.body.count) }
    }

    @Test func unknownContainerIs404() async throws {
        try await DockerFixture.ensure()
        let response = try await client.send(PlainHTTPRequest(url: "/containers/opskit-no-such-container/json", unixSocket: socket))
        #expect(response.status == 404)
        #expect(response.bodyText.contains("No such container"))
    }
}

private func trimmed(_ text: String) -> Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
    return text.drop(while: isSpace).reversed().drop(while: isSpace).reversed().reduce(into: Substring()) { $0.append($1) }
}
