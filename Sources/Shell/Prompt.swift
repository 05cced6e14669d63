/// Why a question could not be asked.
public enum PromptError: Error, CustomStringConvertible, Equatable {
    /// Nobody is at a terminal to answer and `--yes` was not given.
    case notInteractive(question: String)

    public var description: String {
        switch self {
        case .notInteractive(let question):
            "refusing to \(Prompt.action(question)) without a terminal: pass --yes to confirm non-interactively"
        }
    }
}

/// Asks a person to confirm before something that cannot be undone.
public struct Prompt: Sendable {
    public let terminal: any Terminal
    /// `--yes`: every confirmation is granted without asking.
    public let assumeYes: Bool

    public init(terminal: any Terminal = StandardTerminal(), assumeYes: Bool) {
        self.terminal = terminal
        self.assumeYes = assumeYes
    }

    /// Asks `question` with `[y/N]`; only `y` or `yes` (any case) is yes.
    ///
    /// Phrase the question as the action, e.g. `"drop database shop"`, so the refusal reads well:
    /// "refusing to drop database shop without a terminal…". End of input is never yes (a closed or
    /// redirected stdin must not approve anything), and without a terminal and without `--yes` this throws
    /// instead of guessing.
    public func confirm(_ question: String) throws -> Bool {
        if assumeYes { return true }
        guard terminal.isInteractive else { throw PromptError.notInteractive(question: question) }
        terminal.write(Self.action(question) + "? [y/N] ")
        guard let answer = terminal.readLine() else {
            terminal.write("\n")  // EOF left the cursor after the question
            return false
        }
        let word = String(answer.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        return ["y", "yes"].contains(word.lowercased())
    }

    /// The question without a trailing "?" or spaces, so we add exactly one.
    static func action(_ question: String) -> String {
        var q = Substring(question)
        while let last = q.last, last == "?" || last.isWhitespace { q.removeLast() }
        return String(q)
    }
}
