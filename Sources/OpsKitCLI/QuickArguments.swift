/// Long flags and options in their plain forms, read without swift-argument-parser, for tools whose whole
/// run costs less than argument-parser's set-up (see `MonitorOptions.quickParse`).
///
/// Deliberately narrow: it accepts `--flag`, `-f` (listed short flags), `--option VALUE` and `--option=VALUE`,
/// each name at most once, values non-empty and not starting with `-`. Anything else (help, unknown names,
/// positionals, `--`, repeats, combined short flags) makes it nil, and the caller lets argument-parser parse
/// — which also produces every error message, so those stay argument-parser's.
struct QuickArguments {
    private(set) var flags: Set<String> = []
    private(set) var values: [String: String] = [:]

    init?(_ arguments: [String], flags knownFlags: Set<String>, options knownOptions: Set<String>,
          shortFlags: [String: String] = [:]) {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    let name = String(body[..<equals])
                    guard knownOptions.contains(name), values[name] == nil,
                          let value = Self.value(String(body[body.index(after: equals)...]))
                    else { return nil }
                    values[name] = value
                } else if knownFlags.contains(String(body)) {
                    guard flags.insert(String(body)).inserted else { return nil }
                } else if knownOptions.contains(String(body)) {
                    guard i < arguments.count, values[String(body)] == nil, let value = Self.value(arguments[i]) else {
                        return nil
                    }
                    values[String(body)] = value
                    i += 1
                } else {
                    return nil
                }
            } else if argument.hasPrefix("-"), let long = shortFlags[String(argument.dropFirst())] {
                guard flags.insert(long).inserted else { return nil }
            } else {
                return nil
            }
        }
    }

    private static func value(_ text: String) -> String? {
        text.isEmpty || text.hasPrefix("-") ? nil : text
    }
}
