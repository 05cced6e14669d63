import Testing
@testable import OpsCore

@Suite struct HTTPValidationTests {
    /// The listed White_Space set is Unicode's: every scalar up to U+3100 (the highest White_Space scalar is
    /// U+3000), and every 61st above. Not all 1.1 million: a long synchronous test holds one of the few
    /// threads the rest of the suite's tasks run on.
    @Test func whitespaceListMatchesUnicodeProperties() {
        var mismatches: [UInt32] = []
        for value in Array(UInt32(0)...0x3100) + Array(stride(from: UInt32(0x3101), through: 0x10FFFF, by: 61)) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if HTTPRequest.isWhitespace(scalar) != scalar.properties.isWhitespace { mismatches.append(value) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
