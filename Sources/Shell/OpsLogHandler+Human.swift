import Logging

extension OpsLogHandler {
    /// `tool: message key=value`, with `warning: `/`error: `/`critical: ` after the tool name so the
    /// lines people must act on stand out even without color; fields sorted by key so lines diff cleanly.
    func humanLine(level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var line = tool + ": "
        if level >= .warning {
            let label = level.rawValue + ":"
            line += color ? Self.paint(label, level) : label
            line += " "
        }
        line += message
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            line += " " + key + "=" + Self.quoteIfNeeded(value.description)
        }
        if color && level < .info { line = Self.paint(line, level) }
        return line + "\n"
    }

    /// logfmt-style: bare when unambiguous, otherwise double-quoted with `"` and `\` escaped.
    static func quoteIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0.isWhitespace || $0 == "\"" || $0 == "=" || $0 == "\\" }
        if plain { return value }
        return "\"" + value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n") + "\""
    }

    static let reset = "\u{1B}[0m"

    static func paint(_ text: String, _ level: Logger.Level) -> String {
        let code: String
        switch level {
        case .trace, .debug: code = "\u{1B}[2m"        // dim: background chatter
        case .info, .notice: return text
        case .warning: code = "\u{1B}[33m"             // yellow
        case .error: code = "\u{1B}[31m"               // red
        case .critical: code = "\u{1B}[1;31m"          // bold red
        }
        return code + text + reset
    }
}
