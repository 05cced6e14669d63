// Reading and rewriting the version a project's files hold, for version-tag. A rewrite changes only the bytes
// of the version text itself, so a bump leaves indentation, key order, line endings, comments and a missing
// final newline exactly as they were: the release commit's diff is one line per field.

/// Which kind of file a version lives in, and so where in it the version is.
public enum VersionFileKind: Hashable, Sendable {
    /// The top-level `"version"` string of a package.json.
    case packageJSON
    /// package-lock.json / npm-shrinkwrap.json: the top-level `"version"` and, from lockfileVersion 2 on,
    /// `packages[""].version` too (lockfile v1 has only the top-level one).
    case packageLock
    /// `version = "…"` in `[package]`; in `[workspace.package]` only when there is no `[package]`.
    case cargoToml
    /// `version = "…"` in `[project]`, else in `[tool.poetry]`.
    case pyproject
    /// A VERSION file: the version and nothing else but surrounding whitespace, which is kept.
    case plainVersion
    /// A file where the version appears in a fixed text: the pattern holds `{version}` once and is literal
    /// elsewhere, e.g. `export const VERSION = "{version}"`.
    case pattern(String)

    /// The kind a file name implies (package.json, package-lock.json, npm-shrinkwrap.json, Cargo.toml,
    /// pyproject.toml, VERSION), nil otherwise. A path is accepted too; only its last component counts.
    public static func forFileName(_ name: String) -> VersionFileKind? {
        let base = name.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? name
        switch base {
        case "package.json": return .packageJSON
        case "package-lock.json", "npm-shrinkwrap.json": return .packageLock
        case "Cargo.toml": return .cargoToml
        case "pyproject.toml": return .pyproject
        case "VERSION": return .plainVersion
        default: return nil
        }
    }

    /// How error messages name the file: the caller may not know which of several files it was reading.
    var role: String {
        switch self {
        case .packageJSON: "package.json"
        case .packageLock: "package-lock.json"
        case .cargoToml: "Cargo.toml"
        case .pyproject: "pyproject.toml"
        case .plainVersion: "VERSION file"
        case .pattern(let pattern): "pattern \(String(reflecting: pattern))"
        }
    }
}

/// Why a version could not be read from or written into a file: one line naming the file's role and the problem.
public struct VersionFileError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    /// Line breaks in `message` become spaces: the message is printed as one line of a tool's output.
    public init(_ message: String) {
        self.message = String(message.map { $0.isNewline ? " " : $0 })
    }
}

/// Reads and rewrites the version in the kinds of files ``VersionFileKind`` names.
public enum VersionFiles {
    /// The version text the file holds (for package-lock: the top-level one).
    ///
    /// Throws ``VersionFileError`` when the field is missing, appears twice where it must be once, or the file
    /// is not parseable enough to find it.
    public static func read(_ kind: VersionFileKind, _ contents: [UInt8]) throws -> String {
        try locate(kind, contents).version
    }

    /// `contents` with every version field of that kind set to `newVersion`; all other bytes unchanged.
    ///
    /// Throws ``VersionFileError`` when the field is missing (as ``read(_:_:)`` does) or `newVersion` cannot
    /// be written there (it is empty, or has characters the field's syntax cannot hold).
    public static func rewrite(_ kind: VersionFileKind, _ contents: [UInt8], to newVersion: String) throws -> [UInt8] {
        guard !newVersion.isEmpty else { throw VersionFileError("\(kind.role): the new version is empty") }
        let located = try locate(kind, contents)
        var edits: [(range: Range<Int>, bytes: [UInt8])] = []
        for field in located.fields {
            edits.append((field.range, try field.encoding.encode(newVersion, role: kind.role)))
        }
        return applying(edits, to: contents)
    }

    static func locate(_ kind: VersionFileKind, _ contents: [UInt8]) throws -> LocatedVersion {
        switch kind {
        case .packageJSON: try JSONVersionFile.locate(contents, lockfile: false, role: kind.role)
        case .packageLock: try JSONVersionFile.locate(contents, lockfile: true, role: kind.role)
        case .cargoToml: try TOMLVersionFile.locateCargo(contents, role: kind.role)
        case .pyproject: try TOMLVersionFile.locatePyproject(contents, role: kind.role)
        case .plainVersion: try PlainVersionFile.locate(contents, role: kind.role)
        case .pattern(let pattern): try PatternVersionFile.locate(contents, pattern: pattern, role: kind.role)
        }
    }

    static func applying(_ edits: [(range: Range<Int>, bytes: [UInt8])], to contents: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(contents.count + 16)
        var copied = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            result.append(contentsOf: contents[copied..<edit.range.lowerBound])
            result.append(contentsOf: edit.bytes)
            copied = edit.range.upperBound
        }
        result.append(contentsOf: contents[copied...])
        return result
    }
}

/// Where a file's version text is: the current version and every byte range a rewrite replaces.
struct LocatedVersion {
    var version: String
    var fields: [VersionField]
}

/// One place a version is written: the bytes between the quotes (or the bare text) and how to spell a new one.
struct VersionField {
    var range: Range<Int>
    var encoding: VersionEncoding
}

/// How a new version is spelled inside a field, so that the file parses back to exactly that version.
enum VersionEncoding {
    case jsonString
    case tomlBasicString
    case tomlLiteralString
    /// Bare text (VERSION files, patterns): only characters that end where the version ends when read back.
    case bare

    func encode(_ version: String, role: String) throws -> [UInt8] {
        switch self {
        case .jsonString, .tomlBasicString:
            // JSON and TOML basic strings share these escapes, \u00XX included.
            return escapingQuotesAndControls(version)
        case .tomlLiteralString:
            // A literal string has no escapes, so these could only be written by changing the quote style.
            guard !version.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 < 0x20 || $0 == 0x7F }) else {
                throw VersionFileError(
                    "\(role): cannot write \(String(reflecting: version)) into a '…' string (it has a ' or a control character)")
            }
            return Array(version.utf8)
        case .bare:
            guard version.utf8.allSatisfy(VersionBytes.isVersionByte) else {
                throw VersionFileError(
                    "\(role): cannot write \(String(reflecting: version)): only letters, digits, '.', '-' and '+' read back as a version here")
            }
            return Array(version.utf8)
        }
    }

    private func escapingQuotesAndControls(_ version: String) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in version.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        return out
    }
}

/// A syntax error at a byte offset; turned into a ``VersionFileError`` with a line and column.
struct VersionScanError: Error {
    var message: String
    var offset: Int

    func fileError(role: String, in bytes: [UInt8], syntax: String) -> VersionFileError {
        let (line, column) = VersionBytes.lineAndColumn(of: offset, in: bytes)
        return VersionFileError("\(role): invalid \(syntax) at line \(line), column \(column): \(message)")
    }
}

/// Byte helpers the version file scanners share, in a namespace so they cannot clash with the module's others.
enum VersionBytes {
    /// The characters of a semantic version (and of most other version schemes' common forms).
    static func isVersionByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"):
            true
        default:
            false
        }
    }

    /// 1-based line and byte column of `offset`, for messages a person looks up in an editor.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    /// The length of a UTF-8 byte order mark at the start, which editors on Windows write and parsers skip.
    static func byteOrderMarkLength(_ bytes: [UInt8]) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }
}
