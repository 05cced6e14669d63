/// Reads the YAML that `opskit.yml` needs: block mappings and sequences, plain and quoted scalars,
/// flow lists (`[a, b]`), comments. Anchors, tags and multi-line scalars are refused with a line number.
///
/// Why not Yams: it imports full Foundation, which makes every static binary ~40 MiB larger (measured);
/// a config file needs this much YAML and no more. Scalars stay strings; typed accessors convert.
public enum YAMLSubset {
    public static func parse(_ text: String, file: String = "opskit.yml") throws(ConfigError) -> JSONValue {
        var parser = Parser(lines: try tokenize(text, file: file), file: file)
        guard !parser.lines.isEmpty else { return .object([:]) }
        let value = try parser.block(indent: parser.lines[0].indent)
        if parser.index < parser.lines.count {
            let line = parser.lines[parser.index]
            throw ConfigError.syntax(file: file, line: line.number, "unexpected indentation")
        }
        return value
    }

    struct Line {
        var number: Int
        var indent: Int
        var content: String
    }

    static func tokenize(_ text: String, file: String) throws(ConfigError) -> [Line] {
        var out: [Line] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = i + 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let indentChars = line.prefix { $0 == " " || $0 == "\t" }
            if indentChars.contains("\t") {
                throw .syntax(file: file, line: number, "tabs are not allowed in indentation; use spaces")
            }
            let content = stripComment(line.dropFirst(indentChars.count))
            let trimmed = content.trimmingTrailingSpaces()
            if trimmed.isEmpty || trimmed == "---" { continue }
            if trimmed == "..." { break }
            out.append(Line(number: number, indent: indentChars.count, content: trimmed))
        }
        return out
    }

    /// Drops a `#` comment that starts the line or follows a space, unless it sits inside quotes.
    static func stripComment(_ s: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        for idx in s.indices {
            let c = s[idx]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                if previous == " " || previous == ":" || previous == "[" || previous == "," || previous == "-" { quote = c }
            } else if c == "#" && (previous == " " || previous == "\t") {
                return s[..<idx]
            }
            previous = c
        }
        return s
    }

    struct Parser {
        var lines: [Line]
        var index = 0
        let file: String

        mutating func block(indent: Int) throws(ConfigError) -> JSONValue {
            let first = lines[index]
            if first.content == "-" || first.content.hasPrefix("- ") {
                return try sequence(indent: indent)
            }
            return try mapping(indent: indent)
        }

        mutating func sequence(indent: Int) throws(ConfigError) -> JSONValue {
            var items: [JSONValue] = []
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                guard line.content == "-" || line.content.hasPrefix("- ") else {
                    throw .syntax(file: file, line: line.number, "expected a list item (`- …`) here")
                }
                let rest = line.content.dropFirst(1).drop { $0 == " " }
                if rest.isEmpty {
                    index += 1
                    items.append(try nested(after: line, parentIndent: indent))
                } else {
                    // `- key: value` opens a mapping whose column is where `key` starts.
                    let column = indent + (line.content.count - rest.count)
                    lines[index] = Line(number: line.number, indent: column, content: String(rest))
                    if isMappingEntry(String(rest)) {
                        items.append(try mapping(indent: column))
                    } else {
                        index += 1
                        items.append(try scalar(String(rest), line: line.number))
                    }
                }
            }
            return .array(items)
        }

        mutating func mapping(indent: Int) throws(ConfigError) -> JSONValue {
            var object: [String: JSONValue] = [:]
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                guard let (key, rest) = splitEntry(line.content) else {
                    throw .syntax(file: file, line: line.number, "expected `key: value`, found `\(line.content)`")
                }
                guard object[key] == nil else {
                    throw .syntax(file: file, line: line.number, "duplicate key `\(key)`")
                }
                index += 1
                if rest.isEmpty {
                    object[key] = try nested(after: line, parentIndent: indent)
                } else {
                    object[key] = try scalar(rest, line: line.number)
                }
            }
            if index < lines.count, lines[index].indent > indent {
                throw .syntax(file: file, line: lines[index].number, "unexpected indentation")
            }
            return .object(object)
        }

        /// The value of `key:` or `-` with nothing after it: an indented block, or null.
        mutating func nested(after line: Line, parentIndent: Int) throws(ConfigError) -> JSONValue {
            guard index < lines.count else { return .null }
            let next = lines[index]
            // YAML lets a list sit at the same indent as its parent key.
            let isListAtSameIndent = next.indent == parentIndent && (next.content == "-" || next.content.hasPrefix("- "))
            if next.indent > parentIndent || (isListAtSameIndent && !(line.content.hasPrefix("-"))) {
                return try block(indent: next.indent)
            }
            return .null
        }

        func isMappingEntry(_ content: String) -> Bool { splitEntry(content) != nil }

        /// Splits `key: value` at the first `: ` (or a trailing `:`) outside quotes.
        func splitEntry(_ content: String) -> (String, String)? {
            var quote: Character?
            let chars = Array(content)
            var i = 0
            if chars.first == "[" || chars.first == "{" { return nil }
            while i < chars.count {
                let c = chars[i]
                if let q = quote {
                    if c == q { quote = nil }
                } else if (c == "\"" || c == "'") && i == 0 {
                    quote = c
                } else if c == ":" && (i + 1 == chars.count || chars[i + 1] == " ") {
                    var key = String(chars[..<i]).trimmingTrailingSpaces()
                    if let unquoted = try? unquote(key, line: 0) { key = unquoted }
                    let value = String(chars[(i + 1)...]).drop { $0 == " " }
                    return key.isEmpty ? nil : (key, String(value))
                }
                i += 1
            }
            return nil
        }

        func scalar(_ text: String, line: Int) throws(ConfigError) -> JSONValue {
            guard let first = text.first else { return .null }
            switch first {
            case "&", "*", "!":
                throw .syntax(file: file, line: line, "anchors, aliases and tags are not supported in opskit.yml")
            case "|", ">":
                throw .syntax(file: file, line: line, "multi-line scalars (| and >) are not supported; use a quoted string")
            case "{":
                return try flowMapping(text, line: line)
            case "[":
                return try flowList(text, line: line)
            default:
                if text == "~" || text == "null" { return .null }
                return .string(try unquote(text, line: line))
            }
        }

        func flowList(_ text: String, line: Int) throws(ConfigError) -> JSONValue {
            guard text.hasSuffix("]") else { throw .syntax(file: file, line: line, "unterminated list: missing `]`") }
            return .array(try flowItems(text, line: line).map { item throws(ConfigError) in .string(try unquote(item, line: line)) })
        }

        /// `{daily: 7, weekly: 4}`: scalar values only, one level.
        func flowMapping(_ text: String, line: Int) throws(ConfigError) -> JSONValue {
            guard text.hasSuffix("}") else { throw .syntax(file: file, line: line, "unterminated mapping: missing `}`") }
            var object: [String: JSONValue] = [:]
            for item in try flowItems(text, line: line) {
                guard let (key, value) = splitEntry(item) else {
                    throw .syntax(file: file, line: line, "`\(item)` in {…} is not `key: value`")
                }
                guard object[key] == nil else { throw .syntax(file: file, line: line, "duplicate key `\(key)`") }
                object[key] = value.isEmpty ? .null : .string(try unquote(value.trimmingSpaces(), line: line))
            }
            return .object(object)
        }

        /// The comma-separated items between the brackets, trimmed, quotes kept.
        func flowItems(_ text: String, line: Int) throws(ConfigError) -> [String] {
            let inner = text.dropFirst().dropLast()
            var items: [String] = []
            var current = ""
            var quote: Character?
            for c in inner {
                if let q = quote {
                    current.append(c)
                    if c == q { quote = nil }
                } else if c == "\"" || c == "'" {
                    quote = c
                    current.append(c)
                } else if c == "," {
                    items.append(current.trimmingSpaces())
                    current = ""
                } else if c == "[" || c == "{" {
                    throw .syntax(file: file, line: line, "nested flow collections are not supported")
                } else {
                    current.append(c)
                }
            }
            let last = current.trimmingSpaces()
            if !last.isEmpty || !items.isEmpty { items.append(last) }
            return items
        }

        func unquote(_ text: String, line: Int) throws(ConfigError) -> String {
            guard let q = text.first, q == "\"" || q == "'" else { return text }
            guard text.count >= 2, text.last == q else {
                throw .syntax(file: file, line: line, "unterminated quoted string")
            }
            let body = text.dropFirst().dropLast()
            if q == "'" { return String(body.replacing("''", with: "'")) }
            var out = ""
            var escaping = false
            for c in body {
                if escaping {
                    switch c {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\": out.append("\\")
                    case "\"": out.append("\"")
                    case "0": out.append("\0")
                    default: throw .syntax(file: file, line: line, "unsupported escape `\\\(c)` in a quoted string")
                    }
                    escaping = false
                } else if c == "\\" {
                    escaping = true
                } else {
                    out.append(c)
                }
            }
            return out
        }
    }
}

extension StringProtocol {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }).trimmingTrailingSpaces()
    }
}
