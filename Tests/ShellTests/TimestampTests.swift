import Testing
@testable import Shell

@Suite struct TimestampTests {
    @Test func formatsAndParsesWholeSecondsUTC() {
        for seconds in [0, 1_800_000_000, 951_782_400 /* 2000-02-29 */, 4_102_444_799 /* 2099-12-31T23:59:59Z */] {
            let text = Timestamp.iso8601(seconds: seconds)
            #expect(Timestamp.seconds(fromISO8601: text) == seconds, "\(text)")
        }
        #expect(Timestamp.iso8601(seconds: 1_800_000_000) == "2027-01-15T08:00:00Z")
        #expect(Timestamp.seconds(fromISO8601: "2027-01-15T08:00:00Z") == 1_800_000_000)
    }

    @Test func refusesOtherForms() {
        for text in ["", "2027-01-15", "2027-01-15T08:00:00", "2027-01-15T08:00:00.123Z", "2027-01-15T08:00:00+01:00",
                     "2027-13-15T08:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15 08:00:00Z", "2027-0a-15T08:00:00Z"] {
            #expect(Timestamp.seconds(fromISO8601: text) == nil, "\(text)")
        }
    }
}
