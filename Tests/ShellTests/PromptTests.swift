import Synchronization
import Testing
@testable import Shell

/// A terminal whose answers are scripted; nil in the script is end of input.
final class ScriptedTerminal: Terminal {
    let isInteractive: Bool
    private let answers: Mutex<[String?]>
    let written = Recorder<String>()
    private let reads = Mutex(0)

    init(interactive: Bool = true, answers: [String?]) {
        isInteractive = interactive
        self.answers = Mutex(answers)
    }

    func write(_ text: String) { written.append(text) }

    func readLine() -> String? {
        reads.withLock { $0 += 1 }
        return answers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    var readCount: Int { reads.withLock { $0 } }
}

@Suite struct PromptTests {
    @Test(arguments: [
        ("y", true), ("Y", true), ("yes", true), ("YES", true), ("  yes  ", true),
        ("n", false), ("no", false), ("", false), ("yep", false), ("ye", false), ("sure", false),
    ])
    func answers(answer: String, expected: Bool) throws {
        let terminal = ScriptedTerminal(answers: [answer])
        #expect(try Prompt(terminal: terminal, assumeYes: false).confirm("deploy abc123 to production") == expected)
        #expect(terminal.written.values.first == "deploy abc123 to production? [y/N] ")
    }

    @Test func endOfInputIsNeverYes() throws {
        let terminal = ScriptedTerminal(answers: [nil])
        #expect(try Prompt(terminal: terminal, assumeYes: false).confirm("drop database shop?") == false)
        #expect(terminal.written.values == ["drop database shop? [y/N] ", "\n"])
    }

    @Test func assumeYesDoesNotAsk() throws {
        let terminal = ScriptedTerminal(interactive: true, answers: ["n"])
        #expect(try Prompt(terminal: terminal, assumeYes: true).confirm("restore") == true)
        #expect(terminal.readCount == 0)
        #expect(terminal.written.values.isEmpty)
    }

    @Test func assumeYesWorksWithoutTerminal() throws {
        let terminal = ScriptedTerminal(interactive: false, answers: [])
        #expect(try Prompt(terminal: terminal, assumeYes: true).confirm("restore") == true)
    }

    @Test func noTerminalAndNoYesRefuses() throws {
        let terminal = ScriptedTerminal(interactive: false, answers: ["y"])
        let error = #expect(throws: PromptError.self) {
            try Prompt(terminal: terminal, assumeYes: false).confirm("restore backup over production?")
        }
        #expect(error == .notInteractive(question: "restore backup over production?"))
        #expect(error?.description == "refusing to restore backup over production without a terminal: pass --yes to confirm non-interactively")
        #expect(terminal.readCount == 0, "a piped 'y' must not count as consent")
    }
}
