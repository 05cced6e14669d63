#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where prompts are asked and answered; injected so tests can script the answers.
public protocol Terminal: Sendable {
    /// Whether a person can answer: the input and the prompt's output are both terminals.
    var isInteractive: Bool { get }
    func write(_ text: String)
    /// One line without its newline, or nil at end of input.
    func readLine() -> String?
}

/// The process's own terminal: asks on stderr (stdout carries results), reads stdin.
public struct StandardTerminal: Terminal {
    public init() {}

    public var isInteractive: Bool { StandardStreams.isTerminal(0) && StandardStreams.isTerminal(2) }

    public func write(_ text: String) { StandardStreams.writeAll(text, to: 2) }

    public func readLine() -> String? { Swift.readLine(strippingNewline: true) }
}
