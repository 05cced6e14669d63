import Testing
import Subprocess
@testable import Shell

@Suite struct ShellQuoteTests {
    static let awkward = ["plain", "", "with space", "it's", "$HOME", "`id`", "a\"b", "tab\there", "new\nline",
                          "*", "semi;colon", "back\\slash", "ünïcødé", "-n", "'''", "!bang"]

    @Test func safeWordsStayBare() {
        #expect(ShellQuote.quote("abc-1.2_x/y:z") == "abc-1.2_x/y:z")
        #expect(ShellQuote.quote("") == "''")
    }

    /// A real `sh -c 'printf "%s\0" ARGS'` must hand back exactly the argv we quoted.
    @Test func roundTripsThroughRealShell() async throws {
        let script = "printf '%s\\0' " + ShellQuote.join(Self.awkward)
        let result = try await Subprocess.run(.path("/bin/sh"), arguments: ["-c", script], output: .bytes(limit: 1 << 16))
        let fields = result.standardOutput.split(separator: 0, omittingEmptySubsequences: false).dropLast()
        #expect(fields.map { String(decoding: $0, as: UTF8.self) } == Self.awkward)
    }
}
