import ArgumentParser
import Testing
import TestSupport
@testable import OpsKitCLI

/// `monitor` parses its common invocations itself (MonitorOptions.quickParse) and leaves the rest to
/// swift-argument-parser. Whatever the quick parser accepts, argument-parser must parse to the same options.
@Suite struct QuickArgumentsTests {
    /// Every piece an invocation can be made of, in both option spellings.
    static let pieces: [[String]] = [
        ["--json"], ["--quiet"], ["-q"], ["--verbose"], ["-v"], ["--alert"],
        ["--config", "/opt/app/opskit.yml"], ["--config=/opt/app/opskit.yml"],
        ["--prometheus", "/var/lib/node_exporter/opskit.prom"], ["--prometheus=/tmp/x.prom"],
        ["--watch", "60"], ["--watch=5"], ["--watch", "sixty"], ["--watch", "+7"], ["--watch", "99999999999999999999"],
        ["--ping", "https://hc-ping.com/UUID"], ["--ping=http://127.0.0.1:9/p?a=b"],
        ["--log-format", "json"], ["--log-format=human"], ["--log-format", "xml"],
        ["--help"], ["-h"], ["--version"], ["--bogus"], ["positional"], ["--"], ["-qv"], ["--json=true"],
        ["--config"], ["--config", "--json"], ["--config="], ["--watch", "-5"],
    ]

    /// All invocations of up to two pieces (in order), three with the first few as the third, and every
    /// piece repeated. Kept to a few thousand: argument-parser takes ~1 ms per parse in a debug build, and a
    /// long synchronous test holds one of the threads the rest of the suite's tasks run on.
    static var invocations: [[String]] {
        var all: [[String]] = [[]]
        for a in pieces {
            all.append(a)
            all.append(a + a)
            for b in pieces {
                all.append(a + b)
                for c in pieces.prefix(3) { all.append(a + b + c) }
            }
        }
        return all
    }

    @Test func whateverTheQuickParserAcceptsArgumentParserParsesTheSame() async throws {
        // On a thread of its own: seconds of parsing must not hold one of the threads other suites' tasks need.
        let (accepted, disagreements) = try await onThread { () -> (Int, [String]) in
            var accepted = 0
            var disagreements: [String] = []
            for arguments in Self.invocations {
                guard let quick = MonitorOptions.quickParse(arguments) else { continue }
                accepted += 1
                do {
                    let parsed = try MonitorCommand.parse(arguments)
                    if parsed.options != quick { disagreements.append("\(arguments): \(parsed.options) vs \(quick)") }
                } catch {
                    disagreements.append("quick parser accepted \(arguments), argument-parser refuses it: \(error)")
                }
            }
            return (accepted, disagreements)
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(accepted > 300, "the quick parser took only \(accepted) invocations")
    }

    @Test func theInvocationsCronAndTheDocsUseAreParsedQuickly() {
        let common: [[String]] = [
            [], ["--json"], ["--json", "--config", "/opt/app/opskit.yml"],
            ["--quiet", "--alert", "--ping", "https://hc-ping.com/UUID", "--config", "/opt/memoryloop/opskit.yml"],
            ["--prometheus", "/var/lib/node_exporter/textfile/opskit.prom", "--quiet"], ["--watch", "60", "--alert"],
        ]
        for arguments in common {
            #expect(MonitorOptions.quickParse(arguments) != nil, "\(arguments)")
        }
        #expect(MonitorOptions.quickParse(["--watch", "60", "--alert"])?.watch == 60)
    }

    @Test func everythingElseIsLeftToArgumentParser() {
        for arguments in [["--help"], ["-h"], ["--bogus"], ["--json", "--json"], ["--config"], ["--watch", "x"],
                          ["--log-format", "xml"], ["-qv"], ["--", "--json"], ["extra"], ["--config", "-"]] {
            #expect(MonitorOptions.quickParse(arguments) == nil, "\(arguments)")
        }
    }
}
