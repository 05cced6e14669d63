import FoundationEssentials
import Testing
@testable import OpsCore

/// The pure parts of the HTTP layer: parsing, validation, messages, encoding.
@Suite struct HTTPModelTests {
    @Test func parsesOpenSSLDates() throws {
        let date = try #require(CertificateDate.parse("Nov 21 10:00:00 2027 GMT"))
        #expect(date.timeIntervalSince1970 == 1_826_791_200)
        // OpenSSL pads single-digit days with a space.
        let padded = try #require(CertificateDate.parse("Feb  1 00:00:00 2024 GMT"))
        #expect(padded.timeIntervalSince1970 == 1_706_745_600)
        #expect(CertificateDate.parse("Feb 29 12:00:00 2024 GMT")?.timeIntervalSince1970 == 1_709_208_000)
        #expect(CertificateDate.parse("Foo 1 00:00:00 2024 GMT") == nil)
        #expect(CertificateDate.parse("Nov 21 25:00:00 2027 GMT") == nil)
        #expect(CertificateDate.parse("") == nil)
    }

    @Test(arguments: [
        ("http://example.com/x", "example.com"),
        ("https://user:pw@example.com:8443/x?y", "example.com"),
        ("http://[::1]:8080/", "::1"),
        ("http://127.0.0.1", "127.0.0.1"),
    ])
    func extractsHost(url: String, host: String) {
        #expect(HTTPRequest(url: url).host == host)
    }

    @Test func descriptionsRedactCredentials() {
        let error = HTTPError.invalidURL("ftp://deploy:s3cret@example.com/")
        #expect(!error.description.contains("s3cret"))
        #expect(error.description.contains("deploy"))
        #expect(HTTPError.timedOut(after: .milliseconds(500)).description.contains("0.5 s"))
        #expect(HTTPError.timedOut(after: .seconds(30)).description.contains("30 s"))
    }

    @Test func transience() {
        #expect(HTTPError.couldNotResolve(host: "x").isTransient)
        #expect(HTTPError.transport(code: 56, message: "reset").isTransient)
        #expect(!HTTPError.transport(code: 43, message: "bad argument").isTransient)
        #expect(!HTTPError.invalidURL("x").isTransient)
        #expect(!HTTPError.responseTooLarge(limit: 1).isTransient)
        #expect(!HTTPError.tls("no shared cipher").isTransient)
    }

    @Test func timingsEncodeAsSeconds() throws {
        let timings = HTTPTimings(dns: .milliseconds(1), connect: .milliseconds(2), tls: .zero,
                                  firstByte: .milliseconds(250), total: .seconds(1.5))
        let json = String(decoding: try JSONEncoder().encode(timings), as: UTF8.self)
        #expect(json.contains(#""total":1.5"#))
        #expect(try JSONDecoder().decode(HTTPTimings.self, from: Array(json.utf8).withUnsafeBytes { Data($0) }) == timings)
    }

    @Test func durationsRoundUpToMilliseconds() {
        #expect(Duration.microseconds(1).milliseconds == 1)
        #expect(Duration.seconds(2).milliseconds == 2000)
        #expect(Duration.zero.milliseconds == 0)
    }
}
