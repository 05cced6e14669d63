/// Long flags and options in their plain forms, read without swift-argument-parser, for tools whose whole
/// run costs less than argument-parser's set-up (see `MonitorOptions.quickParse`).
///
/// Deliberately narrow: it accepts `--flag`, `-f` (listed short flags), `--option VALUE` and `--option=VALUE`,
/// each name at most once, values non-empty and not starting with `-`. Anything else (help, unknown names,
/// positionals, `--`, repeats, combined short flags) makes it nil, and the caller lets argument-parser parse
/// — which also produces every error message, so those stay argument-parser's.
struct QuickArguments {
    // Arrays, not sets: a handful of names, and hashing's first use costs more than these comparisons.
    private(set) var flags: [String] = []
    private(set) var values: [(name: String, value: String)] = []

    func value(_ name: String) -> String? { values.first { $0.name == name }?.value }

    init?(_ arguments: [String], flags knownFlags: [String], options knownOptions: [String],
          shortFlags: [(short: String, long: String)] = []) {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    let name = String(body[..<equals])
                    guard knownOptions.contains(name), value(name) == nil,
                          let text = Self.checked(String(body[body.index(after: equals)...]))
                    else { return nil }
                    values.append((name, text))
                } else if knownFlags.contains(String(body)) {
                    guard !flags.contains(String(body)) else { return nil }
                    flags.append(String(body))
                } else if knownOptions.contains(String(body)) {
                    guard i < arguments.count, value(String(body)) == nil, let text = Self.checked(arguments[i]) else {
                        return nil
                    }
                    values.append((String(body), text))
                    i += 1
                } else {
                    return nil
                }
            } else if argument.hasPrefix("-"), let long = shortFlags.first(where: { "-" + $0.short == argument })?.long {
                guard !flags.contains(long) else { return nil }
                flags.append(long)
            } else {
                return nil
            }
        }
    }

    private static func checked(_ text: String) -> String? {
        text.isEmpty || text.hasPrefix("-") ? nil : text
    }
}
