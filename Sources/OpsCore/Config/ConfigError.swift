/// What is wrong with the configuration, in a line a person can act on.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(file: String, line: Int, String)
    case unreadable(file: String, reason: String)
    case invalidValue(key: String, value: String, expected: String)
    case missing(String)

    public var description: String {
        switch self {
        case .syntax(let file, let line, let message):
            return "\(file):\(line): \(message)"
        case .unreadable(let file, let reason):
            return "cannot read \(file): \(reason)"
        case .invalidValue(let key, let value, let expected):
            return "\(key) is `\(value)`, expected \(expected)"
        case .missing(let what):
            return what
        }
    }
}
