import ArgumentParser
import Testing
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

    /// All invocations of up to three pieces (in order), plus every piece repeated.
    static var invocations: [[String]] {
        var all: [[String]] = [[]]
        for a in pieces {
            all.append(a)
            all.append(a + a)
            for b in pieces {
                all.append(a + b)
                for c in pieces.prefix(8) { all.append(a + b + c) }
            }
        }
        return all
    }

    @Test func whateverTheQuickParserAcceptsArgumentParserParsesTheSame() throws {
        var accepted = 0
        for arguments in Self.invocations {
            guard let quick = MonitorOptions.quickParse(arguments) else { continue }
            accepted += 1
            let parsed: MonitorCommand
            do {
                parsed = try MonitorCommand.parse(arguments)
            } catch {
                Issue.record("quick parser accepted \(arguments), argument-parser refuses it: \(error)")
                continue
            }
            #expect(parsed.options == quick, "\(arguments)")
        }
        #expect(accepted > 1_000, "the quick parser took only \(accepted) invocations")
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
