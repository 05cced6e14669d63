/// One dot-separated part of a prerelease. Numbers are kept as numbers because §11 compares them numerically
/// (`beta.2` < `beta.11`) and ranks them below any text.
public enum PrereleaseIdentifier: Hashable, Sendable, CustomStringConvertible {
    case numeric(UInt64)
    case alphanumeric(String)

    public var description: String {
        switch self {
        case .numeric(let n): String(n)
        case .alphanumeric(let s): s
        }
    }

    /// One `<pre-release identifier>` of the semver.org grammar: digits without a leading zero, or a non-empty
    /// run of `[0-9A-Za-z-]` with at least one non-digit (which may then start with zeros: `0A`).
    init?(_ bytes: ArraySlice<UInt8>) {
        if bytes.allSatisfy(SemverGrammar.isDigit) {
            guard let n = SemverGrammar.number(bytes) else { return nil }
            self = .numeric(n)
        } else {
            guard bytes.allSatisfy(SemverGrammar.isIdentifierByte) else { return nil }
            self = .alphanumeric(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// §11.4: numbers below text; text in ASCII order. `String.<` is ASCII order on ASCII text and, unlike a
    /// byte comparison, agrees with `String.==` on anything else a caller might construct.
    func precedes(_ other: Self) -> Bool {
        switch (self, other) {
        case (.numeric(let m), .numeric(let n)): m < n
        case (.numeric, .alphanumeric): true
        case (.alphanumeric, .numeric): false
        case (.alphanumeric(let s), .alphanumeric(let t)): s < t
        }
    }
}

/// A semantic version (semver.org 2.0.0), parsed strictly.
///
/// `==` and `hash` look at precedence only (major, minor, patch, prerelease) and ignore build metadata. §10
/// says build metadata must be ignored for precedence, so `<` ignores it; Comparable needs `==` to mean
/// "neither is less", so `==` must ignore it too. The alternative — a `<` that breaks ties on build — would
/// order `1.0.0+b` after `1.0.0+a`, which §10 forbids. So `1.0.0+a == 1.0.0+b` even though their
/// `description`s differ; compare `build` yourself when the exact text matters.
///
/// The memberwise initializer does not validate: a `.alphanumeric` identifier that the grammar rejects
/// (empty, all digits, a dot) gives a `description` that does not parse back.
public struct SemanticVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var major: UInt64
    public var minor: UInt64
    public var patch: UInt64
    public var prerelease: [PrereleaseIdentifier]
    public var build: [String]

    public init(major: UInt64, minor: UInt64, patch: UInt64, prerelease: [PrereleaseIdentifier] = [], build: [String] = []) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
    }

    /// The semver.org BNF exactly: no `v`, no surrounding spaces, numbers without leading zeros that fit in
    /// 64 bits. Unlike node-semver there is no 256-character limit and numbers may exceed 2^53: the spec has
    /// neither limit and we are not bound by JavaScript's doubles.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        // The core has no `-` or `+`, and a prerelease has no `+`, so the first of each ends the part before.
        let plus = bytes.firstIndex(of: UInt8(ascii: "+"))
        let beforeBuild = bytes[..<(plus ?? bytes.endIndex)]
        let dash = beforeBuild.firstIndex(of: UInt8(ascii: "-"))

        let core = beforeBuild[..<(dash ?? beforeBuild.endIndex)].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard core.count == 3,
              let major = SemverGrammar.number(core[0]),
              let minor = SemverGrammar.number(core[1]),
              let patch = SemverGrammar.number(core[2])
        else { return nil }

        var prerelease: [PrereleaseIdentifier] = []
        if let dash {
            guard let identifiers = SemverGrammar.prerelease(beforeBuild[(dash + 1)...]) else { return nil }
            prerelease = identifiers
        }

        var build: [String] = []
        if let plus {
            // Build identifiers may have leading zeros (`<build identifier> ::= <alphanumeric identifier> | <digits>`).
            for part in bytes[(plus + 1)...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                guard !part.isEmpty, part.allSatisfy(SemverGrammar.isIdentifierByte) else { return nil }
                build.append(String(decoding: part, as: UTF8.self))
            }
        }
        self.init(major: major, minor: minor, patch: patch, prerelease: prerelease, build: build)
    }

    public var description: String {
        var text = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.map(\.description).joined(separator: ".") }
        if !build.isEmpty { text += "+" + build.joined(separator: ".") }
        return text
    }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    public static func == (a: Self, b: Self) -> Bool {
        a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.prerelease == b.prerelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(prerelease)
    }

    /// semver.org §11.
    public static func < (a: Self, b: Self) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        // §11.3: a prerelease comes before its release.
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, _): return false
        case (false, true): return true
        case (false, false): break
        }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            return x.precedes(y)
        }
        return a.prerelease.count < b.prerelease.count
    }

    /// node-semver's `inc(version, release, identifier, identifierBase)`, step for step (classes/semver.js),
    /// nil where it returns null. The result has no build metadata: node returns `.version`, which omits it.
    ///
    /// - `preid`: node's `identifier`. `""` counts as absent, as it is falsy in JavaScript. It is checked
    ///   against the prerelease grammar only for the `pre*` kinds, as node does; `major` ignores it.
    /// - `identifierBase`: `nil` is node's `false` (a preid without a number after it). A string is read as
    ///   JavaScript's `Number()` would: any non-zero number starts the counter at 1, anything else at 0.
    ///
    /// Where we differ, and only because node cannot hold the number: node refuses versions above 2^53−1 and
    /// leaves prerelease numbers from 2^53−1 up uncounted; we count up to UInt64.max and return nil on
    /// overflow.
    public func incremented(_ kind: VersionIncrement, preid: String? = nil, identifierBase: String? = "0") -> SemanticVersion? {
        let identifierText = preid.flatMap { $0.isEmpty ? nil : $0 }
        var identifier: [PrereleaseIdentifier]?
        if kind.startsWithPre {
            if identifierText == nil && identifierBase == nil { return nil }
            if let identifierText {
                guard let parsed = SemverGrammar.prerelease(Array(identifierText.utf8)[...]) else { return nil }
                identifier = parsed
            }
        }

        var next = SemanticVersion(major: major, minor: minor, patch: patch, prerelease: prerelease)
        switch kind {
        case .premajor:
            guard let major = SemverGrammar.successor(major) else { return nil }
            next = SemanticVersion(major: major, minor: 0, patch: 0)
            return next.incrementedPre(identifier, identifierText: identifierText, identifierBase: identifierBase)
        case .preminor:
            guard let minor = SemverGrammar.successor(minor) else { return nil }
            next = SemanticVersion(major: major, minor: minor, patch: 0)
            return next.incrementedPre(identifier, identifierText: identifierText, identifierBase: identifierBase)
        case .prepatch:
            guard let patch = SemverGrammar.successor(patch) else { return nil }
            next = SemanticVersion(major: major, minor: minor, patch: patch)
            return next.incrementedPre(identifier, identifierText: identifierText, identifierBase: identifierBase)
        case .prerelease:
            // On a release this is prepatch.
            if prerelease.isEmpty {
                guard let patch = SemverGrammar.successor(patch) else { return nil }
                next.patch = patch
            }
            return next.incrementedPre(identifier, identifierText: identifierText, identifierBase: identifierBase)
        case .major:
            // A pre-major (1.0.0-5) is released as its own major; anything else moves to the next.
            if minor != 0 || patch != 0 || prerelease.isEmpty {
                guard let major = SemverGrammar.successor(major) else { return nil }
                next.major = major
            }
            return SemanticVersion(major: next.major, minor: 0, patch: 0)
        case .minor:
            if patch != 0 || prerelease.isEmpty {
                guard let minor = SemverGrammar.successor(minor) else { return nil }
                next.minor = minor
            }
            return SemanticVersion(major: major, minor: next.minor, patch: 0)
        case .patch:
            if prerelease.isEmpty {
                guard let patch = SemverGrammar.successor(patch) else { return nil }
                next.patch = patch
            }
            return SemanticVersion(major: major, minor: minor, patch: next.patch)
        }
    }

    /// node-semver's internal `inc('pre', identifier, identifierBase)`.
    private func incrementedPre(_ identifier: [PrereleaseIdentifier]?, identifierText: String?, identifierBase: String?) -> SemanticVersion? {
        var next = self
        let base: UInt64 = identifierBase.map(SemverGrammar.isNonZeroJavaScriptNumber) == true ? 1 : 0

        if next.prerelease.isEmpty {
            next.prerelease = [.numeric(base)]
        } else if let last = next.prerelease.lastIndex(where: { if case .numeric = $0 { true } else { false } }),
                  case .numeric(let n) = next.prerelease[last] {
            guard let m = SemverGrammar.successor(n) else { return nil }
            next.prerelease[last] = .numeric(m)
        } else {
            // With no number to count and none to add, `1.2.3-dev` + `dev` would give itself back.
            if identifierBase == nil, identifierText == next.prerelease.map(\.description).joined(separator: ".") {
                return nil
            }
            next.prerelease.append(.numeric(base))
        }

        if let identifier {
            let replacement = identifierBase == nil ? identifier : identifier + [.numeric(base)]
            // Keep the counted prerelease when it already is `<identifier>.<number>…` (beta.1 + beta → beta.2);
            // otherwise start over at the identifier.
            if next.prerelease.starts(with: identifier), identifier.count < next.prerelease.count,
               case .numeric = next.prerelease[identifier.count] {
                return next
            }
            next.prerelease = replacement
        }
        return next
    }
}

public enum VersionIncrement: String, CaseIterable, Sendable {
    case major, minor, patch, premajor, preminor, prepatch, prerelease

    /// node-semver validates the identifier (and refuses an absent one with `identifierBase: false`) for
    /// release types whose name starts with "pre", and only for those.
    var startsWithPre: Bool {
        switch self {
        case .premajor, .preminor, .prepatch, .prerelease: true
        case .major, .minor, .patch: false
        }
    }
}

/// The lexical pieces of the semver.org BNF, on UTF-8 bytes so that no grapheme cluster can hide a `.` or a
/// digit behind a combining mark.
enum SemverGrammar {
    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || b == UInt8(ascii: "-")
    }

    /// `<numeric identifier>`: `0` or digits not starting with `0`, within UInt64.
    static func number(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard let first = bytes.first, bytes.allSatisfy(isDigit), first != UInt8(ascii: "0") || bytes.count == 1 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = shifted.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// `<dot-separated pre-release identifiers>`.
    static func prerelease(_ bytes: ArraySlice<UInt8>) -> [PrereleaseIdentifier]? {
        var identifiers: [PrereleaseIdentifier] = []
        for part in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !part.isEmpty, let identifier = PrereleaseIdentifier(part) else { return nil }
            identifiers.append(identifier)
        }
        return identifiers
    }

    static func successor(_ n: UInt64) -> UInt64? { n == .max ? nil : n + 1 }

    /// Whether JavaScript's `Number(text)` is truthy (non-zero and not NaN): node-semver starts the counter at
    /// `Number(identifierBase) ? 1 : 0`, so "1", "2" and " 1e0 " all mean 1 there.
    static func isNonZeroJavaScriptNumber(_ text: String) -> Bool {
        // StrWhiteSpaceChar: WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP, Zs) and LineTerminator.
        let whitespace: Set<UInt32> = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                       0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF]
        let scalars = Array(text.unicodeScalars)
        guard let start = scalars.firstIndex(where: { !whitespace.contains($0.value) }),
              let end = scalars.lastIndex(where: { !whitespace.contains($0.value) })
        else { return false }  // "" and all-space are 0
        let trimmed = String(String.UnicodeScalarView(scalars[start...end]))
        let bytes = Array(trimmed.utf8)

        // 0x / 0o / 0b literals: unsigned, digits of the radix only.
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let radix: UInt8? = switch bytes[1] | 0x20 {
            case UInt8(ascii: "x"): 16
            case UInt8(ascii: "o"): 8
            case UInt8(ascii: "b"): 2
            default: nil
            }
            if let radix {
                let digits = bytes[2...].map { b -> UInt8? in
                    let lower = b | 0x20
                    let value: UInt8
                    if isDigit(b) { value = b - UInt8(ascii: "0") }
                    else if lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "f") { value = lower - UInt8(ascii: "a") + 10 }
                    else { return nil }
                    return value < radix ? value : nil
                }
                guard digits.allSatisfy({ $0 != nil }) else { return false }  // NaN
                return digits.contains { $0 != 0 }
            }
        }

        var body = bytes[...]
        if let sign = body.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { body = body.dropFirst() }
        if body.elementsEqual("Infinity".utf8) { return true }

        // StrUnsignedDecimalLiteral: digits [. digits] | . digits, then an optional exponent.
        var i = body.startIndex
        let integerStart = i
        while i < body.endIndex, isDigit(body[i]) { i += 1 }
        var mantissaDigits = i - integerStart
        if i < body.endIndex, body[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < body.endIndex, isDigit(body[i]) { i += 1 }
            mantissaDigits += i - fractionStart
        }
        guard mantissaDigits > 0 else { return false }
        if i < body.endIndex, body[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < body.endIndex, body[i] == UInt8(ascii: "+") || body[i] == UInt8(ascii: "-") { i += 1 }
            let exponentStart = i
            while i < body.endIndex, isDigit(body[i]) { i += 1 }
            guard i > exponentStart else { return false }
        }
        guard i == body.endIndex else { return false }
        // The grammar is checked; Double reads it as JavaScript does, underflow to 0 included.
        return (Double(String(decoding: body, as: UTF8.self)) ?? 0) != 0
    }
}
