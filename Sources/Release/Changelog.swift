/// The sections of a release in the changelog, in the order they are printed.
public enum ChangelogGroup: String, CaseIterable, Sendable {
    case breaking = "Breaking Changes"
    case features = "Features"
    case fixes = "Bug Fixes"
    case performance = "Performance"
    case other = "Other"

    /// Where a commit goes: breaking changes only under Breaking Changes, whatever their type.
    public init(_ commit: ConventionalCommit) {
        if commit.isBreaking { self = .breaking; return }
        switch commit.type {
        case "feat": self = .features
        case "fix": self = .fixes
        case "perf": self = .performance
        default: self = .other
        }
    }

    /// The key in `--json` documents.
    public var key: String {
        switch self {
        case .breaking: "breaking"
        case .features: "features"
        case .fixes: "fixes"
        case .performance: "performance"
        case .other: "other"
        }
    }
}

/// Where a short hash links to: the commit page of the GitHub or GitLab project `origin` names.
public struct CommitLinker: Sendable, Equatable {
    public var base: String
    public var commitPath: String

    /// nil for a remote that is neither GitHub nor GitLab (hashes are then printed without a link).
    public init?(remoteURL: String?) {
        guard var url = remoteURL else { return nil }
        if url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix(".git") { url.removeLast(4) }
        var host: Substring
        var path: Substring
        if let scheme = url.firstRange(of: "://") {
            // https://host/path, ssh://git@host:port/path
            let rest = url[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            host = rest[..<slash]
            path = rest[rest.index(after: slash)...]
            if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
            if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        } else if let colon = url.firstIndex(of: ":") {
            // scp-like: git@host:owner/repo
            host = url[..<colon]
            if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
            path = url[url.index(after: colon)...]
        } else {
            return nil
        }
        guard !path.isEmpty, path.contains("/") else { return nil }
        let lowerHost = host.lowercased()
        if lowerHost == "github.com" || lowerHost.hasPrefix("github.") {
            commitPath = "/commit/"
        } else if lowerHost.contains("gitlab") {
            commitPath = "/-/commit/"
        } else {
            return nil
        }
        base = "https://\(host)/\(path)"
    }

    public func link(_ hash: String) -> String { base + commitPath + hash }
}

/// One release's section of CHANGELOG.md, Keep a Changelog style.
public struct ChangelogSection: Sendable {
    public var version: String
    /// YYYY-MM-DD.
    public var date: String
    public var groups: [(ChangelogGroup, [ConventionalCommit])]

    public init(version: String, date: String, commits: [ConventionalCommit]) {
        self.version = version
        self.date = date
        groups = Self.grouped(commits)
    }

    /// The commits by section, in print order, empty sections left out (newest first within each).
    public static func grouped(_ commits: [ConventionalCommit]) -> [(ChangelogGroup, [ConventionalCommit])] {
        var byGroup: [ChangelogGroup: [ConventionalCommit]] = [:]
        for commit in commits { byGroup[ChangelogGroup(commit), default: []].append(commit) }
        return ChangelogGroup.allCases.compactMap { group in byGroup[group].map { (group, $0) } }
    }

    /// The section as Markdown, ending with a blank line.
    public func markdown(linker: CommitLinker?) -> String {
        var out = "## [\(version)] - \(date)\n\n"
        if groups.isEmpty { out += "No changes.\n\n" }
        for (group, commits) in groups {
            out += "### \(group.rawValue)\n\n"
            for commit in commits { out += Self.line(commit, group: group, linker: linker) }
            out += "\n"
        }
        return out
    }

    static func line(_ commit: ConventionalCommit, group: ChangelogGroup, linker: CommitLinker?) -> String {
        var text = "- "
        if let scope = commit.scope { text += "**\(scope):** " }
        let description = group == .breaking ? (commit.breakingNote ?? commit.description) : commit.description
        text += description
        let short = String(commit.hash.prefix(7))
        if let linker { text += " ([\(short)](\(linker.link(commit.hash))))" } else { text += " (\(short))" }
        return text + "\n"
    }
}

/// CHANGELOG.md as a file: sections go in above the newest release.
public enum ChangelogFile {
    public static let header = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n"

    /// `existing` with `section` inserted before the first release heading (after an `## [Unreleased]`
    /// section, which stays on top); a new file when there is none.
    public static func prepend(_ section: String, to existing: String?) -> String {
        guard let existing, !existing.isEmpty else { return header + section }
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false)
        var insertAt: Int?
        for (index, line) in lines.enumerated() where line.hasPrefix("## ") {
            if line.lowercased().hasPrefix("## [unreleased]") || line.lowercased().hasPrefix("## unreleased") { continue }
            insertAt = index
            break
        }
        if let insertAt {
            let sectionLines = section.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            lines.insert(contentsOf: sectionLines, at: insertAt)
            return lines.joined(separator: "\n")
        }
        // No release yet: after everything there is (the title, an Unreleased section).
        var text = existing
        if !text.hasSuffix("\n") { text += "\n" }
        if !text.hasSuffix("\n\n") { text += "\n" }
        return text + section
    }
}
