// Cargo.toml and pyproject.toml. The scanner tracks table headers and walks values far enough to skip them
// whole (strings of all four kinds, arrays over several lines, inline tables), so a `[` that starts a line
// inside an array or a multi-line string is never taken for a header. It records every key's full path
// (table + dotted key, and keys inside inline tables), which is how `[dependencies.bar] version` and
// `foo = { version = "1" }` stay apart from `[package] version`.

enum TOMLVersionFile {
    static func locateCargo(_ bytes: [UInt8], role: String) throws -> LocatedVersion {
        let document = try scan(bytes, role: role)
        if document.definesTable(["package"]) {
            if !document.entries(["package", "version", "workspace"]).isEmpty {
                if let inherited = try document.version(at: ["workspace", "package"], role: role, bytes: bytes) {
                    // The root manifest of a workspace whose own package inherits: the version is in this file.
                    return inherited
                }
                throw VersionFileError(
                    "\(role): [package] inherits its version from the workspace (version.workspace = true); the version lives in the workspace root's [workspace.package], bump it there")
            }
            if let located = try document.version(at: ["package"], role: role, bytes: bytes) { return located }
            throw VersionFileError("\(role): no version = \"…\" in [package]")
        }
        if let located = try document.version(at: ["workspace", "package"], role: role, bytes: bytes) { return located }
        throw VersionFileError("\(role): no [package] table with a version = \"…\" (nor a [workspace.package] one)")
    }

    static func locatePyproject(_ bytes: [UInt8], role: String) throws -> LocatedVersion {
        let document = try scan(bytes, role: role)
        // Looked up only when [project] has no version, so a stale [tool.poetry] cannot fail a [project] read.
        func poetry() throws -> LocatedVersion? { try document.version(at: ["tool", "poetry"], role: role, bytes: bytes) }
        guard document.definesTable(["project"]) else {
            if let poetry = try poetry() { return poetry }
            throw VersionFileError("\(role): no version = \"…\" in [project] or [tool.poetry]")
        }
        let dynamic = document.entries(["project", "dynamic"]).contains {
            if case .array(let strings) = $0.value { return strings.contains("version") }
            return false
        }
        if let project = try document.version(at: ["project"], role: role, bytes: bytes) {
            guard !dynamic else {
                throw VersionFileError("\(role): [project] sets version and also lists \"version\" in dynamic; PEP 621 allows only one")
            }
            return project
        }
        if let poetry = try poetry() {
            // Poetry 2 reads a dynamic version from [tool.poetry]; PEP 621 allows [project] without version then.
            return poetry
        }
        if dynamic {
            throw VersionFileError(
                "\(role): [project] lists \"version\" in dynamic = [...], so the build backend computes it; there is no version = \"…\" to change in this file")
        }
        throw VersionFileError("\(role): no version = \"…\" in [project] (nor in [tool.poetry])")
    }

    static func scan(_ bytes: [UInt8], role: String) throws -> TOMLDocument {
        var scanner = TOMLScanner(bytes: bytes)
        do {
            try scanner.scanDocument()
        } catch let error as VersionScanError {
            throw error.fileError(role: role, in: bytes, syntax: "TOML")
        }
        return TOMLDocument(entries: scanner.entries, headers: scanner.headers)
    }
}

/// The keys of a TOML document by full path, and the tables its headers open.
struct TOMLDocument {
    var entries: [TOMLEntry]
    var headers: [TOMLHeader]

    func entries(_ path: [String]) -> [TOMLEntry] {
        entries.filter { !$0.inArrayTable && $0.path == path }
    }

    /// Whether a header or a dotted key creates `table` (headers of its subtables do too).
    func definesTable(_ table: [String]) -> Bool {
        headers.contains { !$0.isArray && $0.path.starts(with: table) }
            || entries.contains { !$0.inArrayTable && $0.path.count > table.count && $0.path.starts(with: table) }
    }

    /// The `version` key of `table`, nil when it has none.
    func version(at table: [String], role: String, bytes: [UInt8]) throws -> LocatedVersion? {
        let found = entries(table + ["version"])
        let name = "[\(table.joined(separator: "."))]"
        guard let entry = found.first else { return nil }
        guard found.count == 1 else {
            throw VersionFileError("\(role): version appears twice in \(name) (lines \(found.map { String($0.line) }.joined(separator: ", ")))")
        }
        guard case .string(let content, let quote, let multiline) = entry.value, !multiline else {
            throw VersionFileError("\(role): version in \(name) (line \(entry.line)) is not a one-line quoted string")
        }
        let version: String
        let encoding: VersionEncoding
        if quote == UInt8(ascii: "\"") {
            version = VersionBytes.decodeTOMLBasicString(bytes[content])
            encoding = .tomlBasicString
        } else {
            version = String(decoding: bytes[content], as: UTF8.self)
            encoding = .tomlLiteralString
        }
        return LocatedVersion(version: version, fields: [VersionField(range: content, encoding: encoding)])
    }
}

/// One key = value, by full path from the document root.
struct TOMLEntry {
    var path: [String]
    /// Keys under `[[…]]` repeat per element and are never the version we look for.
    var inArrayTable: Bool
    var value: TOMLValue
    var line: Int
}

struct TOMLHeader {
    var path: [String]
    var isArray: Bool
}

enum TOMLValue {
    /// `content` is between the delimiters; `quote` is `"` or `'`.
    case string(content: Range<Int>, quote: UInt8, multiline: Bool)
    /// The array's string elements, decoded (enough for `dynamic = ["version"]`).
    case array([String])
    case inlineTable
    case other
}

/// A TOML scanner that validates structure (not every value's grammar) and records every key's full path.
struct TOMLScanner {
    let bytes: [UInt8]
    var pos = 0
    var line = 1
    var entries: [TOMLEntry] = []
    var headers: [TOMLHeader] = []
    private var table: [String] = []
    private var inArrayTable = false

    /// Deeper values are rejected rather than risking the stack.
    static let maxDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    private func error(_ message: String) -> VersionScanError { VersionScanError(message: message, offset: pos) }

    mutating func scanDocument() throws {
        pos = VersionBytes.byteOrderMarkLength(bytes)
        while true {
            skipBlankLinesAndComments()
            guard let byte = current else { return }
            if byte == UInt8(ascii: "[") {
                try scanHeader()
            } else {
                let keyLine = line
                let key = try scanKey()
                skipSpaces()
                guard current == UInt8(ascii: "=") else { throw error("expected '=' after a key, found \(VersionBytes.describeByte(current))") }
                pos += 1
                skipSpaces()
                let path = table + key
                let value = try scanValue(path: path, depth: 0)
                entries.append(TOMLEntry(path: path, inArrayTable: inArrayTable, value: value, line: keyLine))
            }
            try expectEndOfLine()
        }
    }

    private mutating func scanHeader() throws {
        pos += 1
        let isArray = current == UInt8(ascii: "[")
        if isArray { pos += 1 }
        skipSpaces()
        let path = try scanKey()
        skipSpaces()
        guard current == UInt8(ascii: "]"), !isArray || peek(1) == UInt8(ascii: "]") else {
            throw error("expected '\(isArray ? "]]" : "]")' to close the table header, found \(VersionBytes.describeByte(current))")
        }
        pos += isArray ? 2 : 1
        table = path
        inArrayTable = isArray
        headers.append(TOMLHeader(path: path, isArray: isArray))
    }

    /// After a header or a key/value: spaces, an optional comment, then a line break or the end.
    private mutating func expectEndOfLine() throws {
        skipSpaces()
        if current == UInt8(ascii: "#") { skipComment() }
        switch current {
        case nil: return
        case UInt8(ascii: "\n"):
            pos += 1
            line += 1
        case UInt8(ascii: "\r") where peek(1) == UInt8(ascii: "\n"):
            pos += 2
            line += 1
        default:
            throw error("expected the end of the line, found \(VersionBytes.describeByte(current))")
        }
    }

    private mutating func skipSpaces() {
        while current == 0x20 || current == 0x09 { pos += 1 }
    }

    private mutating func skipComment() {
        while let byte = current, byte != UInt8(ascii: "\n") { pos += 1 }
    }

    /// Whitespace, line breaks and comments: what may stand between values in arrays, and between lines.
    private mutating func skipBlankLinesAndComments() {
        while let byte = current {
            switch byte {
            case 0x20, 0x09, 0x0D: pos += 1
            case 0x0A:
                pos += 1
                line += 1
            case UInt8(ascii: "#"): skipComment()
            default: return
            }
        }
    }

    /// A dotted key: bare, "basic" or 'literal' parts, spaces allowed around the dots.
    private mutating func scanKey() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            switch current {
            case UInt8(ascii: "\""):
                let content = try scanSingleLineString(quote: UInt8(ascii: "\""))
                parts.append(VersionBytes.decodeTOMLBasicString(bytes[content]))
            case UInt8(ascii: "'"):
                let content = try scanSingleLineString(quote: UInt8(ascii: "'"))
                parts.append(String(decoding: bytes[content], as: UTF8.self))
            default:
                let start = pos
                while let byte = current, isBareKeyByte(byte) { pos += 1 }
                guard pos > start else { throw error("expected a key, found \(VersionBytes.describeByte(current))") }
                parts.append(String(decoding: bytes[start..<pos], as: UTF8.self))
            }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return parts }
            pos += 1
        }
    }

    private func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// `path` is the key the value belongs to, so keys inside an inline table get full paths; nil inside arrays.
    private mutating func scanValue(path: [String]?, depth: Int) throws -> TOMLValue {
        guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
        switch current {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            guard let quote = current else { return .other }
            if peek(1) == quote && peek(2) == quote {
                return .string(content: try scanMultiLineString(quote: quote), quote: quote, multiline: true)
            }
            return .string(content: try scanSingleLineString(quote: quote), quote: quote, multiline: false)
        case UInt8(ascii: "["):
            return .array(try scanArray(depth: depth))
        case UInt8(ascii: "{"):
            try scanInlineTable(path: path, depth: depth)
            return .inlineTable
        default:
            try scanBareValue()
            return .other
        }
    }

    private mutating func scanSingleLineString(quote: UInt8) throws -> Range<Int> {
        let startLine = line
        pos += 1
        let start = pos
        while let byte = current {
            if byte == quote {
                pos += 1
                return start..<pos - 1
            }
            if byte == UInt8(ascii: "\n") { break }
            // Basic strings escape; a backslash in a literal string is just a character.
            pos += byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") && peek(1) != UInt8(ascii: "\n") ? 2 : 1
        }
        throw error("unterminated string that starts on line \(startLine)")
    }

    private mutating func scanMultiLineString(quote: UInt8) throws -> Range<Int> {
        let startLine = line
        pos += 3
        let start = pos
        while let byte = current {
            if byte == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    // Up to two quotes may end the content right before the closing three.
                    guard run <= 5 else { throw error("too many quotes closing a multi-line string") }
                    pos += run
                    return start..<pos - 3
                }
                pos += run
                continue
            }
            if byte == UInt8(ascii: "\n") { line += 1 }
            if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                pos += 1
                if current == UInt8(ascii: "\n") { line += 1 }
            }
            pos += 1
        }
        throw error("unterminated multi-line string that starts on line \(startLine)")
    }

    private mutating func scanArray(depth: Int) throws -> [String] {
        pos += 1
        var strings: [String] = []
        while true {
            skipBlankLinesAndComments()
            if current == UInt8(ascii: "]") {
                pos += 1
                return strings
            }
            let element = try scanValue(path: nil, depth: depth + 1)
            if case .string(let content, let quote, _) = element {
                strings.append(
                    quote == UInt8(ascii: "\"") ? VersionBytes.decodeTOMLBasicString(bytes[content]) : String(decoding: bytes[content], as: UTF8.self))
            }
            skipBlankLinesAndComments()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                return strings
            default: throw error("expected ',' or ']' in an array, found \(VersionBytes.describeByte(current))")
            }
        }
    }

    /// Line breaks inside are accepted (TOML 1.1 allows them); the keys are recorded under `path`.
    private mutating func scanInlineTable(path: [String]?, depth: Int) throws {
        pos += 1
        while true {
            skipBlankLinesAndComments()
            if current == UInt8(ascii: "}") {
                pos += 1
                return
            }
            let keyLine = line
            let key = try scanKey()
            skipSpaces()
            guard current == UInt8(ascii: "=") else { throw error("expected '=' after a key, found \(VersionBytes.describeByte(current))") }
            pos += 1
            skipSpaces()
            let childPath = path.map { $0 + key }
            let value = try scanValue(path: childPath, depth: depth + 1)
            if let childPath {
                entries.append(TOMLEntry(path: childPath, inArrayTable: inArrayTable, value: value, line: keyLine))
            }
            skipBlankLinesAndComments()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                return
            default: throw error("expected ',' or '}' in an inline table, found \(VersionBytes.describeByte(current))")
            }
        }
    }

    /// Numbers, booleans, dates: their grammar does not matter here, only where they end.
    private mutating func scanBareValue() throws {
        let start = pos
        func isEnd(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#"): true
            default: false
            }
        }
        while let byte = current, !isEnd(byte) { pos += 1 }
        // A date-time may separate date and time with a space: 1979-05-27 07:32:00Z.
        if pos - start == 10, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
            current == 0x20, let next = peek(1), next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9")
        {
            pos += 1
            while let byte = current, !isEnd(byte) { pos += 1 }
        }
        guard pos > start else { throw error("expected a value, found \(VersionBytes.describeByte(current))") }
    }
}

extension VersionBytes {
    /// The text of a one-line basic string's content (validated by the scanner only as far as its end).
    static func decodeTOMLBasicString(_ content: ArraySlice<UInt8>) -> String {
        guard content.contains(UInt8(ascii: "\\")) else { return String(decoding: content, as: UTF8.self) }
        var out: [UInt8] = []
        var index = content.startIndex
        func hex(_ count: Int, at start: Int) -> UInt32? {
            guard start + count <= content.endIndex else { return nil }
            var value: UInt32 = 0
            for offset in 0..<count {
                guard let digit = VersionBytes.hexValue(content[start + offset]) else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < content.endIndex {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.endIndex else {
                out.append(byte)
                index += 1
                continue
            }
            let kind = content[index + 1]
            index += 2
            let digits: Int
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08); continue
            case UInt8(ascii: "t"): out.append(0x09); continue
            case UInt8(ascii: "n"): out.append(0x0A); continue
            case UInt8(ascii: "f"): out.append(0x0C); continue
            case UInt8(ascii: "r"): out.append(0x0D); continue
            case UInt8(ascii: "e"): out.append(0x1B); continue
            case UInt8(ascii: "x"): digits = 2
            case UInt8(ascii: "u"): digits = 4
            case UInt8(ascii: "U"): digits = 8
            default: out.append(kind); continue
            }
            guard let value = hex(digits, at: index), let scalar = Unicode.Scalar(value) else {
                out.append(contentsOf: "\u{FFFD}".utf8)
                continue
            }
            index += digits
            out.append(contentsOf: String(Character(scalar)).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
