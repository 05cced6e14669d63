// VERSION files and user patterns: no syntax to walk, so the version is a run of version characters and what
// surrounds it is kept byte for byte.

enum PlainVersionFile {
    static func locate(_ bytes: [UInt8], role: String) throws -> LocatedVersion {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var start = VersionBytes.byteOrderMarkLength(bytes)
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        var end = bytes.count
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { throw VersionFileError("\(role): empty, expected a version") }
        let text = bytes[start..<end]
        if let stray = text.firstIndex(where: { !VersionBytes.isVersionByte($0) }) {
            let (line, column) = VersionBytes.lineAndColumn(of: stray, in: bytes)
            throw VersionFileError(
                "\(role): expected only a version, found \(VersionBytes.describeByte(bytes[stray])) at line \(line), column \(column)")
        }
        return LocatedVersion(
            version: String(decoding: text, as: UTF8.self), fields: [VersionField(range: start..<end, encoding: .bare)])
    }
}

enum PatternVersionFile {
    static let placeholder = Array("{version}".utf8)

    /// Every place the pattern matches; they must agree on the version, and a rewrite changes them all.
    static func locate(_ bytes: [UInt8], pattern: String, role: String) throws -> LocatedVersion {
        let (prefix, suffix) = try split(pattern, role: role)
        let matches = find(prefix: prefix, suffix: suffix, in: bytes)
        guard let first = matches.first else {
            throw VersionFileError("\(role): no match in the file (with a version in place of {version})")
        }
        let versions = matches.map { String(decoding: bytes[$0], as: UTF8.self) }
        let distinct = versions.reduce(into: [String]()) { seen, version in
            if !seen.contains(version) { seen.append(version) }
        }
        guard distinct.count == 1 else {
            let lines = matches.map { String(VersionBytes.lineAndColumn(of: $0.lowerBound, in: bytes).line) }
            throw VersionFileError(
                "\(role): matches \(matches.count) places with different versions (\(distinct.joined(separator: ", ")) on lines \(lines.joined(separator: ", ")))")
        }
        return LocatedVersion(
            version: String(decoding: bytes[first], as: UTF8.self),
            fields: matches.map { VersionField(range: $0, encoding: .bare) })
    }

    static func split(_ pattern: String, role: String) throws -> (prefix: [UInt8], suffix: [UInt8]) {
        let bytes = Array(pattern.utf8)
        let positions = occurrences(of: placeholder, in: bytes)
        guard positions.count == 1, let at = positions.first else {
            throw VersionFileError("\(role): the pattern must contain {version} exactly once (it does \(positions.count) times)")
        }
        let prefix = Array(bytes[..<at])
        let suffix = Array(bytes[(at + placeholder.count)...])
        // Without any literal text every run of letters and digits in the file would be "the version".
        guard !prefix.isEmpty || !suffix.isEmpty else {
            throw VersionFileError("\(role): the pattern needs literal text around {version}")
        }
        return (prefix, suffix)
    }

    /// Non-overlapping matches, each the range of the version: the longest run of version characters after
    /// the prefix that the suffix still follows, so `{version}.` finds "1.2.3" in "1.2.3." and not "1".
    static func find(prefix: [UInt8], suffix: [UInt8], in bytes: [UInt8]) -> [Range<Int>] {
        var matches: [Range<Int>] = []
        var index = 0
        while index + prefix.count <= bytes.count {
            guard hasPrefix(prefix, in: bytes, at: index) else {
                index += 1
                continue
            }
            let start = index + prefix.count
            // An empty prefix would otherwise match inside a run, from each of its characters.
            if prefix.isEmpty, index > 0, VersionBytes.isVersionByte(bytes[index - 1]) {
                index += 1
                continue
            }
            var runEnd = start
            while runEnd < bytes.count, VersionBytes.isVersionByte(bytes[runEnd]) { runEnd += 1 }
            var end = runEnd
            while end > start, !hasPrefix(suffix, in: bytes, at: end) { end -= 1 }
            if end > start {
                matches.append(start..<end)
                index = end + suffix.count
            } else {
                index += 1
            }
        }
        return matches
    }

    static func hasPrefix(_ needle: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard index + needle.count <= bytes.count else { return false }
        for offset in 0..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    static func occurrences(of needle: [UInt8], in bytes: [UInt8]) -> [Int] {
        var found: [Int] = []
        var index = 0
        while index + needle.count <= bytes.count {
            if hasPrefix(needle, in: bytes, at: index) {
                found.append(index)
                index += needle.count
            } else {
                index += 1
            }
        }
        return found
    }
}
