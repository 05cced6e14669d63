// package.json and npm lockfiles. The whole document is scanned (strings with escapes, nesting) so that only
// members of the top-level object count: a regex would also find "version" in dependencies, scripts or inside
// a string value.

enum JSONVersionFile {
    static let versionPath = ["version"]
    static let lockfileVersionPath = ["lockfileVersion"]
    static let rootPackagePath = ["packages", ""]
    static let rootPackageVersionPath = ["packages", "", "version"]

    static func locate(_ bytes: [UInt8], lockfile: Bool, role: String) throws -> LocatedVersion {
        let wanted = lockfile ? [versionPath, lockfileVersionPath, rootPackagePath, rootPackageVersionPath] : [versionPath]
        var scanner = JSONScanner(bytes: bytes, wanted: wanted)
        let top: JSONShape
        do {
            top = try scanner.scanDocument()
        } catch let error as VersionScanError {
            throw error.fileError(role: role, in: bytes, syntax: "JSON")
        }
        guard case .object = top else { throw VersionFileError("\(role): the top level is not a JSON object") }
        let members = scanner.members

        func only(_ path: [String]) throws -> JSONShape? {
            let found = members.filter { $0.path == path }
            guard found.count <= 1 else { throw VersionFileError("\(role): \(describe(path)) appears twice") }
            return found.first?.shape
        }
        func versionField(_ path: [String]) throws -> (String, VersionField)? {
            guard let shape = try only(path) else { return nil }
            guard case .string(let content, _) = shape else {
                throw VersionFileError("\(role): \(describe(path)) is not a string")
            }
            return (VersionBytes.decodeJSONString(bytes, content), VersionField(range: content, encoding: .jsonString))
        }

        guard let (version, topField) = try versionField(versionPath) else {
            throw VersionFileError("\(role): no \(describe(versionPath)) field")
        }
        var fields = [topField]
        if lockfile {
            let rootPackage = try only(rootPackagePath)
            if let rootPackage, case .object = rootPackage, let (_, rootField) = try versionField(rootPackageVersionPath) {
                fields.append(rootField)
            } else if let lockfileVersion = try only(lockfileVersionPath), case .number(let range) = lockfileVersion,
                let number = Int(String(decoding: bytes[range], as: UTF8.self)), number >= 2
            {
                // npm reads the root package's version from packages[""] in these lockfiles; bumping only the
                // top-level one would leave the two disagreeing.
                throw VersionFileError(
                    "\(role): lockfileVersion \(number) but no \(describe(rootPackageVersionPath)); regenerate the lockfile with npm install")
            }
        }
        return LocatedVersion(version: version, fields: fields)
    }

    static func describe(_ path: [String]) -> String {
        guard path.count > 1 else { return "top-level \"\(path.first ?? "")\"" }
        return path.dropFirst().reduce(path[0]) { text, key in
            key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !key.isEmpty
                ? "\(text).\(key)" : "\(text)[\(String(reflecting: key))]"
        }
    }
}

/// What a JSON value is; for strings, where their content is (between the quotes).
enum JSONShape {
    case string(content: Range<Int>, escaped: Bool)
    case number(Range<Int>)
    case literal
    case object
    case array
}

/// A member of an object on one of the wanted paths from the top-level object.
struct JSONMember {
    var path: [String]
    var shape: JSONShape
}

/// A validating JSON scanner that records the members on a few key paths (objects only; array elements have
/// no path) and skips everything else.
struct JSONScanner {
    let bytes: [UInt8]
    let wanted: [[String]]
    var pos = 0
    var members: [JSONMember] = []

    /// Deeper documents are rejected rather than risking the stack: no package.json nests like this.
    static let maxDepth = 512

    init(bytes: [UInt8], wanted: [[String]]) {
        self.bytes = bytes
        self.wanted = wanted
    }

    mutating func scanDocument() throws -> JSONShape {
        pos = VersionBytes.byteOrderMarkLength(bytes)
        skipWhitespace()
        let shape = try scanValue(path: [], depth: 0)
        skipWhitespace()
        guard pos == bytes.count else { throw VersionScanError(message: "unexpected text after the top-level value", offset: pos) }
        return shape
    }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { pos += 1 }
    }

    /// `path` is where this value sits when it is on the way to a wanted member, nil when nothing below matters.
    private mutating func scanValue(path: [String]?, depth: Int) throws -> JSONShape {
        guard depth < Self.maxDepth else { throw VersionScanError(message: "nested more than \(Self.maxDepth) levels deep", offset: pos) }
        guard let byte = current else { throw VersionScanError(message: "unexpected end of input, expected a value", offset: pos) }
        switch byte {
        case UInt8(ascii: "{"):
            try scanObject(path: path, depth: depth)
            return .object
        case UInt8(ascii: "["):
            try scanArray(depth: depth)
            return .array
        case UInt8(ascii: "\""):
            let (content, escaped) = try scanString()
            return .string(content: content, escaped: escaped)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanNumber())
        case UInt8(ascii: "t"): try scanLiteral("true"); return .literal
        case UInt8(ascii: "f"): try scanLiteral("false"); return .literal
        case UInt8(ascii: "n"): try scanLiteral("null"); return .literal
        default:
            throw VersionScanError(message: "expected a value, found \(VersionBytes.describeByte(byte))", offset: pos)
        }
    }

    private mutating func scanObject(path: [String]?, depth: Int) throws {
        pos += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return }
        while true {
            guard current == UInt8(ascii: "\"") else {
                throw VersionScanError(message: "expected a string key, found \(VersionBytes.describeByte(current))", offset: pos)
            }
            let (keyRange, _) = try scanString()
            var childPath: [String]? = nil
            if let path {
                let candidate = path + [VersionBytes.decodeJSONString(bytes, keyRange)]
                if wanted.contains(where: { $0.starts(with: candidate) }) { childPath = candidate }
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw VersionScanError(message: "expected ':' after a key, found \(VersionBytes.describeByte(current))", offset: pos)
            }
            pos += 1
            skipWhitespace()
            let shape = try scanValue(path: childPath, depth: depth + 1)
            if let childPath, wanted.contains(childPath) { members.append(JSONMember(path: childPath, shape: shape)) }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                pos += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                pos += 1
                return
            default:
                throw VersionScanError(message: "expected ',' or '}' after an object member, found \(VersionBytes.describeByte(current))", offset: pos)
            }
        }
    }

    private mutating func scanArray(depth: Int) throws {
        pos += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return }
        while true {
            _ = try scanValue(path: nil, depth: depth + 1)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                pos += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                pos += 1
                return
            default:
                throw VersionScanError(message: "expected ',' or ']' after an array element, found \(VersionBytes.describeByte(current))", offset: pos)
            }
        }
    }

    /// The range between the quotes, and whether it holds escapes (then it must be decoded to compare).
    private mutating func scanString() throws -> (Range<Int>, Bool) {
        let start = pos
        pos += 1
        var escaped = false
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                return (start + 1..<pos - 1, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                pos += 1
                guard let next = current else { break }
                switch next {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos += 1
                case UInt8(ascii: "u"):
                    pos += 1
                    for _ in 0..<4 {
                        guard let digit = current, VersionBytes.hexValue(digit) != nil else {
                            throw VersionScanError(message: "\\u must be followed by four hex digits", offset: pos)
                        }
                        pos += 1
                    }
                default:
                    throw VersionScanError(message: "invalid escape \\\(VersionBytes.describeByte(next, quoted: false)) in a string", offset: pos - 1)
                }
            case 0..<0x20:
                let (line, column) = VersionBytes.lineAndColumn(of: start, in: bytes)
                throw VersionScanError(
                    message: "unescaped control character in the string that starts at line \(line), column \(column)", offset: pos)
            default:
                pos += 1
            }
        }
        let (line, column) = VersionBytes.lineAndColumn(of: start, in: bytes)
        throw VersionScanError(message: "unterminated string that starts at line \(line), column \(column)", offset: pos)
    }

    private mutating func scanNumber() throws -> Range<Int> {
        let start = pos
        func digits() -> Int {
            let from = pos
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { pos += 1 }
            return pos - from
        }
        if current == UInt8(ascii: "-") { pos += 1 }
        if current == UInt8(ascii: "0") {
            pos += 1
        } else if digits() == 0 {
            throw VersionScanError(message: "invalid number", offset: start)
        }
        if current == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw VersionScanError(message: "invalid number", offset: start) }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw VersionScanError(message: "invalid number", offset: start) }
        }
        return start..<pos
    }

    private mutating func scanLiteral(_ word: String) throws {
        let expected = Array(word.utf8)
        guard pos + expected.count <= bytes.count, Array(bytes[pos..<pos + expected.count]) == expected else {
            throw VersionScanError(message: "expected a value", offset: pos)
        }
        pos += expected.count
    }
}

extension VersionBytes {
    /// The text of a scanned (so already validated) JSON string's content, escapes decoded.
    static func decodeJSONString(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        guard bytes[range].contains(UInt8(ascii: "\\")) else { return String(decoding: bytes[range], as: UTF8.self) }
        var out: [UInt8] = []
        var index = range.lowerBound
        func hex4(at start: Int) -> UInt32? {
            guard start + 4 <= range.upperBound else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                guard let digit = VersionBytes.hexValue(bytes[start + offset]) else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < range.upperBound else {
                out.append(byte)
                index += 1
                continue
            }
            let kind = bytes[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(at: index) else {
                    out.append(contentsOf: "\u{FFFD}".utf8)
                    continue
                }
                index += 4
                // A surrogate pair spells one scalar outside the BMP; a lone surrogate cannot be text.
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= range.upperBound, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u"), let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: out.append(kind)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A byte for an error message: printable ASCII as itself, anything else by name or code.
    static func describeByte(_ byte: UInt8?, quoted: Bool = true) -> String {
        guard let byte else { return "the end of the file" }
        switch byte {
        case 0x0A: return "a line break"
        case 0x0D: return "a carriage return"
        case 0x09: return "a tab"
        case 0x20: return "a space"
        case 0x21...0x7E: return quoted ? "'\(Character(Unicode.Scalar(byte)))'" : String(Character(Unicode.Scalar(byte)))
        default: return "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }
    }
}
