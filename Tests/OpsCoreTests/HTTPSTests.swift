import FoundationEssentials
import Testing
import TestSupport
@testable import OpsCore

/// HTTPS against the fixture's three certificates, all from its own CA.
@Suite struct HTTPSTests {
    let client = HTTPClient()

    private func days(until date: Date?) -> Double? {
        date.map { $0.timeIntervalSinceNow / 86_400 }
    }

    @Test func validCertificateReportsItsExpiry() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.httpsOK + "/api/health", caFile: fixture.caFile))
        #expect(response.status == 200)
        let left = try #require(days(until: response.certificateExpiry))
        #expect(abs(left - 400) < 2)
        #expect(response.timings.tls > .zero)
        #expect(response.timings.total >= response.timings.firstByte)
    }

    @Test func soonExpiringCertificate() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.httpsSoon + "/api/health", caFile: fixture.caFile))
        let left = try #require(days(until: response.certificateExpiry))
        #expect(abs(left - 10) < 2)
    }

    @Test func expiredCertificateIsRejected() async throws {
        let fixture = try await HTTPFixture.shared
        do {
            _ = try await client.send(HTTPRequest(url: fixture.httpsExpired + "/api/health", caFile: fixture.caFile))
            Issue.record("expected a certificate error")
        } catch let error as HTTPError {
            guard case .tlsCertificate(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("expired"))
            #expect(!error.isTransient)
        }
    }

    @Test func unknownCAIsRejected() async throws {
        let fixture = try await HTTPFixture.shared
        do {
            _ = try await client.send(HTTPRequest(url: fixture.httpsOK + "/api/health"))
            Issue.record("expected a certificate error")
        } catch let error as HTTPError {
            guard case .tlsCertificate = error else { Issue.record("got \(error)"); return }
            #expect(!error.isTransient)
        }
    }

    @Test func unverifiedExpiredStillReportsExpiry() async throws {
        let fixture = try await HTTPFixture.shared
        let response = try await client.send(HTTPRequest(url: fixture.httpsExpired + "/api/health", verifyTLS: false))
        #expect(response.status == 200)
        let left = try #require(days(until: response.certificateExpiry))
        #expect(left < 0 && left > -3)
    }
}
