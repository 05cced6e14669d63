import Testing
@testable import OpsCore

@Suite struct HTTPValidationTests {
    /// The listed White_Space set is Unicode's, for every scalar.
    @Test func whitespaceListMatchesUnicodeProperties() {
        var mismatches: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if HTTPRequest.isWhitespace(scalar) != scalar.properties.isWhitespace { mismatches.append(value) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
