/// One commit read as a Conventional Commit (https://www.conventionalcommits.org/en/v1.0.0/).
///
/// A subject that does not follow the form is kept as it is, with no type: it goes under "Other" and does
/// not make a release on its own.
public struct ConventionalCommit: Sendable, Equatable {
    /// The commit's full hash.
    public var hash: String
    /// The first line of the message, as written.
    public var subject: String
    /// `feat`, `fix`, … in lower case; nil for a subject that is not conventional.
    public var type: String?
    public var scope: String?
    /// The text after `type(scope)!: ` (the whole subject when not conventional).
    public var description: String
    /// `!` before the colon, or a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer.
    public var isBreaking: Bool
    /// What the footer says breaks (nil when only `!` marks it).
    public var breakingNote: String?
    /// The hash named by `This reverts commit <hash>.` (git's revert message).
    public var revertedHash: String?

    public init(hash: String, message: String) {
        self.hash = hash
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        let subject = lines.first.map { String($0).trimmingTrailingWhitespace() } ?? ""
        self.subject = subject
        let header = Self.parseHeader(subject)
        type = header?.type
        scope = header?.scope
        description = header?.description ?? subject
        let footer = Self.breakingFooter(lines.dropFirst())
        isBreaking = (header?.bang ?? false) || footer != nil
        breakingNote = footer
        revertedHash = Self.revertedHash(lines.dropFirst())
    }

    /// `revert: …`, or git's own `Revert "…"`.
    public var isRevert: Bool {
        type == "revert" || subject.hasPrefix("Revert \"")
    }

    /// How much this commit alone asks the version to grow.
    public var bump: ReleaseLevel? {
        if isBreaking { return .major }
        switch type {
        case "feat": return .minor
        case "fix", "perf": return .patch
        default: return isRevert ? .patch : nil
        }
    }

    // MARK: - Parsing

    struct Header { var type: String; var scope: String?; var bang: Bool; var description: String }

    /// `type(scope)!: description`: type is letters, digits and `-` starting with a letter; the scope is any
    /// text without parentheses; a colon and at least one space before a non-empty description.
    static func parseHeader(_ subject: String) -> Header? {
        let bytes = Array(subject.utf8)
        var index = 0
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        guard index < bytes.count, isLetter(bytes[index]) else { return nil }
        while index < bytes.count, isLetter(bytes[index]) || isDigit(bytes[index]) || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        let type = String(decoding: bytes[0..<index], as: UTF8.self).lowercased()
        var scope: String?
        if index < bytes.count, bytes[index] == UInt8(ascii: "(") {
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ")"), bytes[end] != UInt8(ascii: "(") { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: ")"), end > start else { return nil }
            scope = String(decoding: bytes[start..<end], as: UTF8.self).trimmingTrailingWhitespace()
            index = end + 1
        }
        var bang = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "!") { bang = true; index += 1 }
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: " ") else { return nil }
        index += 1
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        guard index < bytes.count else { return nil }
        let description = String(decoding: bytes[index...], as: UTF8.self)
        return Header(type: type, scope: scope, bang: bang, description: description)
    }

    /// The text of a `BREAKING CHANGE:` or `BREAKING-CHANGE:` footer (its continuation lines joined), if any.
    /// The spec puts footers in the last paragraph; a team that writes one mid-body means it too, so any
    /// line that starts with the token counts.
    static func breakingFooter(_ body: ArraySlice<Substring>) -> String? {
        var lines = Array(body)
        while let index = lines.firstIndex(where: { $0.hasPrefix("BREAKING CHANGE:") || $0.hasPrefix("BREAKING-CHANGE:") }) {
            let first = lines[index].dropFirst("BREAKING CHANGE:".count)
            var text = [String(first).trimmingLeadingWhitespace()]
            var next = index + 1
            // Continuation: following lines until a blank one or the next footer token.
            while next < lines.count, !lines[next].isEmpty, !isFooterToken(lines[next]) {
                text.append(String(lines[next]).trimmingLeadingWhitespace())
                next += 1
            }
            let joined = text.joined(separator: " ").trimmingTrailingWhitespace()
            if !joined.isEmpty { return joined }
            lines.removeSubrange(index..<next)
        }
        return nil
    }

    /// `Token: value` or `Token #value` where a token is a word with `-` in place of spaces.
    static func isFooterToken(_ line: Substring) -> Bool {
        if line.hasPrefix("BREAKING CHANGE:") { return true }
        guard let end = line.firstIndex(where: { $0 == ":" || $0 == " " }) else { return false }
        let token = line[..<end]
        guard !token.isEmpty, token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return false }
        let rest = line[end...]
        return rest.hasPrefix(": ") || rest.hasPrefix(" #")
    }

    static func revertedHash(_ body: ArraySlice<Substring>) -> String? {
        for line in body where line.hasPrefix("This reverts commit ") {
            let hash = line.dropFirst("This reverts commit ".count).prefix { $0.isHexDigit }
            if hash.count >= 7 { return String(hash) }
        }
        return nil
    }
}

/// How much a version grows: the three release increments.
public enum ReleaseLevel: Int, Comparable, Sendable, CustomStringConvertible {
    case patch = 0, minor, major

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .patch: "patch"
        case .minor: "minor"
        case .major: "major"
        }
    }

    public var increment: VersionIncrement {
        switch self {
        case .patch: .patch
        case .minor: .minor
        case .major: .major
        }
    }

    public var preIncrement: VersionIncrement {
        switch self {
        case .patch: .prepatch
        case .minor: .preminor
        case .major: .premajor
        }
    }

    public init?(name: String) {
        switch name {
        case "patch": self = .patch
        case "minor": self = .minor
        case "major": self = .major
        default: return nil
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var end = endIndex
        while end > startIndex, let last = self[..<end].last, last == " " || last == "\t" || last == "\r" {
            end = index(before: end)
        }
        return String(self[..<end])
    }

    func trimmingLeadingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" })
    }
}
