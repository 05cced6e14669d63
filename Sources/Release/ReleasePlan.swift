import OpsCore
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// What a release would do, computed without changing anything: `--dry-run` prints it, a real run carries
/// it out.
public struct ReleasePlan: Sendable {
    public var current: SemanticVersion
    /// Where the current version came from: "tag v1.2.3", "package.json", or "none (0.0.0)".
    public var currentSource: String
    public var lastTag: ReleaseTag?
    /// nil: nothing to release (auto with no releasable commit).
    public var next: SemanticVersion?
    /// Why this version, in words.
    public var reason: String
    /// The 0.x policy, when it applied.
    public var zeroMajorPolicy: String?
    /// The commits since the last tag, newest first, merges and reverted pairs left out.
    public var commits: [ConventionalCommit]
    /// Every non-merge subject since the last tag, for the tag message (what `git log` shows).
    public var subjects: [String]
    public var tagName: String?
    public var files: [PlannedFile]
    public var changelogPath: String?
    /// The new CHANGELOG.md section (the whole file's sections with `--changelog-all`).
    public var changelog: String?
    public var commitMessage: String?
    public var tagMessage: String?
    /// Why a real run would refuse (dirty tree, detached HEAD, an existing tag …); empty when it can go.
    public var problems: [String]
    public var branch: String?
}

/// One file's change.
public struct PlannedFile: Sendable, Equatable {
    public var path: String
    public var kind: VersionFileKind
    public var from: String
    public var original: [UInt8]
    public var rewritten: [UInt8]
}

/// Computes a ``ReleasePlan`` from the repository and the settings.
public struct ReleasePlanner: Sendable {
    public var repository: GitRepository
    public var settings: ReleaseSettings

    public init(repository: GitRepository, settings: ReleaseSettings) {
        self.repository = repository
        self.settings = settings
    }

    /// The files version-tag keeps in step without being told: those of these names at the top.
    public static let wellKnownFiles = ["package.json", "package-lock.json", "npm-shrinkwrap.json", "Cargo.toml", "pyproject.toml", "VERSION"]

    public func plan() async throws -> ReleasePlan {
        guard try await repository.hasCommits() else {
            throw ReleaseError("the repository has no commits yet; commit something before tagging a release")
        }
        let branch = try await repository.currentBranch()
        var problems: [String] = []
        if branch == nil { problems.append("HEAD is detached; check out the branch to release (git switch main)") }
        let changed = try await repository.changedTrackedFiles()
        if !changed.isEmpty {
            let names = changed.prefix(3).joined(separator: ", ") + (changed.count > 3 ? " and \(changed.count - 3) more" : "")
            problems.append("the work tree has uncommitted changes (\(names)); commit or stash them first")
        }

        // The current version: the highest release tag HEAD contains, else the files, else 0.0.0.
        let tags = try await repository.releaseTags(prefix: settings.tagPrefix)
        let lastTag = try await repository.newestReleaseTag(in: tags)
        let files = try readFiles()
        var current = SemanticVersion(major: 0, minor: 0, patch: 0)
        var currentSource = "none (0.0.0)"
        if let lastTag {
            current = lastTag.version
            currentSource = "tag \(lastTag.name)"
        } else if let file = files.first(where: { $0.kind == .packageJSON || $0.kind == .plainVersion }) ?? files.first {
            guard let version = SemanticVersion(file.from) else {
                throw ReleaseError("\(file.path) holds version '\(file.from)', which is not a semantic version (like 1.2.3); fix it first")
            }
            current = version
            currentSource = file.path
        }
        for file in files where SemanticVersion(file.from) == nil {
            problems.append("\(file.path) holds version '\(file.from)', which is not a semantic version (like 1.2.3); fix it first")
        }

        let log = try await repository.commits(since: lastTag?.commit)
        let nonMerges = log.filter { !$0.isMerge }
        let commits = Self.cancellingReverts(nonMerges.map { ConventionalCommit(hash: $0.hash, message: $0.message) })
        let subjects = nonMerges.map { $0.message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" }

        let (next, reason, policy) = try decide(current: current, commits: commits)
        var tagName: String?
        if let version = next {
            let name = settings.tagPrefix + version.description
            tagName = name
            // `tags` lists every tag of the prefix, reachable or not: a name taken anywhere is in it.
            if tags.contains(where: { $0.name == name }) {
                problems.append("tag \(name) already exists; delete it (git tag -d \(name)) or choose another bump")
            }
        }

        var plan = ReleasePlan(current: current, currentSource: currentSource, lastTag: lastTag, next: next, reason: reason,
                               zeroMajorPolicy: policy, commits: commits, subjects: subjects, tagName: tagName, files: [],
                               changelogPath: nil, changelog: nil, commitMessage: nil, tagMessage: nil,
                               problems: problems, branch: branch)
        guard let version = next, let tagName else { return plan }

        let linker = CommitLinker(remoteURL: try await repository.originURL())
        if settings.commit {
            for file in files {
                var changedFile = file
                changedFile.rewritten = try rewrite(file, to: version.description)
                plan.files.append(changedFile)
            }
            if settings.changelog {
                plan.changelogPath = settings.changelogPath
                let section = ChangelogSection(version: version.description, date: settings.today, commits: commits)
                if settings.changelogAll {
                    plan.changelog = try await wholeHistory(newSection: section, tags: tags, linker: linker)
                } else {
                    plan.changelog = section.markdown(linker: linker)
                }
            }
            plan.commitMessage = "chore(release): \(tagName)"
        }
        plan.tagMessage = "Release \(tagName)\n\nChanges:\n" + subjects.map { "- \($0)" }.joined(separator: "\n")
        return plan
    }

    /// The next version and why; nil when auto finds nothing releasable.
    func decide(current: SemanticVersion, commits: [ConventionalCommit]) throws -> (SemanticVersion?, String, String?) {
        switch settings.request {
        case .explicit(let increment):
            guard let next = current.incremented(increment, preid: settings.preid) else {
                throw ReleaseError("cannot apply \(increment.rawValue)\(settings.preid.map { " --preid \($0)" } ?? "") to \(current) (a preid is letters, digits and hyphens)", exitCode: 2)
            }
            return (next, "\(increment.rawValue) was asked for", nil)
        case .auto:
            let wanted = commits.compactMap(\.bump).max()
            guard let wanted else {
                let count = commits.count
                return (nil, count == 0 ? "no commits since \(current)" : "no releasable commits since \(current) (\(count) without feat, fix, perf or a breaking change)", nil)
            }
            var level = wanted
            var policy: String?
            if current.major == 0 {
                level = settings.zeroMajor.level(for: wanted)
                policy = "0.x policy: \(settings.zeroMajor.summary) (version_tag.zero_major in opskit.yml changes it)"
            }
            let why = commits.first { $0.bump == wanted }.map { "\(Self.name(of: wanted)) since \(current): \($0.subject)" } ?? ""
            let increment: VersionIncrement
            if settings.preid != nil {
                increment = current.isPrerelease ? .prerelease : level.preIncrement
            } else {
                increment = level.increment
            }
            guard let next = current.incremented(increment, preid: settings.preid) else {
                throw ReleaseError("cannot apply \(increment.rawValue)\(settings.preid.map { " --preid \($0)" } ?? "") to \(current)", exitCode: 2)
            }
            let count = commits.filter { $0.bump == wanted }.count
            return (next, "\(increment.rawValue): \(why)\(count > 1 ? " (and \(count - 1) more)" : "")", policy)
        }
    }

    static func name(of level: ReleaseLevel) -> String {
        switch level {
        case .major: "a breaking change"
        case .minor: "a feature"
        case .patch: "a fix"
        }
    }

    /// A revert and the commit it reverts, both in the range, cancel out (neither is in the changelog).
    static func cancellingReverts(_ commits: [ConventionalCommit]) -> [ConventionalCommit] {
        var drop = Set<String>()
        for commit in commits {
            guard let reverted = commit.revertedHash, !drop.contains(commit.hash) else { continue }
            if let target = commits.first(where: { $0.hash.hasPrefix(reverted) && !drop.contains($0.hash) }) {
                drop.insert(target.hash)
                drop.insert(commit.hash)
            }
        }
        return drop.isEmpty ? commits : commits.filter { !drop.contains($0.hash) }
    }

    /// The well-known files at the top and the configured ones, with the version each holds now.
    func readFiles() throws -> [PlannedFile] {
        var specs: [VersionFileSpec] = []
        for name in Self.wellKnownFiles where access(repository.root + "/" + name, F_OK) == 0 {
            if let kind = VersionFileKind.forFileName(name) { specs.append(VersionFileSpec(path: name, kind: kind)) }
        }
        for spec in settings.extraFiles where !specs.contains(where: { $0.path == spec.path }) { specs.append(spec) }
        return try specs.map { spec in
            let path = spec.path.hasPrefix("/") ? spec.path : repository.root + "/" + spec.path
            guard let bytes = AtomicFile.read(path, limit: 1 << 30) else {
                throw ReleaseError("cannot read \(spec.path) (named with --file or in opskit.yml)", exitCode: 2)
            }
            let version: String
            do { version = try VersionFiles.read(spec.kind, bytes) } catch {
                throw ReleaseError(Self.naming(spec.path, error))
            }
            return PlannedFile(path: spec.path, kind: spec.kind, from: version, original: bytes, rewritten: bytes)
        }
    }

    func rewrite(_ file: PlannedFile, to version: String) throws -> [UInt8] {
        do { return try VersionFiles.rewrite(file.kind, file.original, to: version) } catch {
            throw ReleaseError(Self.naming(file.path, error))
        }
    }

    /// The error with the file's path in front, unless its message already starts with it.
    static func naming(_ path: String, _ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix(path + ":") ? text : "\(path): \(text)"
    }

    /// Every release's section, newest first: the new one, then one per tag HEAD contains, each holding the
    /// commits up to that tag and after the previous one (one walk of the whole history; a tag whose commit
    /// the walk never meets is not in HEAD's history and gets no section).
    func wholeHistory(newSection: ChangelogSection, tags: [ReleaseTag], linker: CommitLinker?) async throws -> String {
        var tagsByCommit: [String: ReleaseTag] = [:]
        for tag in tags {
            // Several tags on one commit (v1.0.0-rc.3 and v1.0.0): the release gets the section.
            if let existing = tagsByCommit[tag.commit], tag.version < existing.version { continue }
            tagsByCommit[tag.commit] = tag
        }
        let log = try await repository.commits(since: nil)
        var sections: [String] = [newSection.markdown(linker: linker)]
        var currentTag: ReleaseTag?
        var currentDate = ""
        var bucket: [ConventionalCommit] = []
        func flush() {
            if let tag = currentTag {
                let section = ChangelogSection(version: tag.version.description, date: currentDate,
                                               commits: Self.cancellingReverts(bucket))
                sections.append(section.markdown(linker: linker))
            }
            bucket.removeAll(keepingCapacity: true)
        }
        var reachedLastTag = false
        for commit in log {
            if let tag = tagsByCommit[commit.hash] {
                if reachedLastTag { flush() }
                reachedLastTag = true
                currentTag = tag
                currentDate = String(commit.date.prefix(10))
            }
            // Commits above the newest tag are the new section's (already made from the plan's range).
            guard reachedLastTag, !commit.isMerge else { continue }
            bucket.append(ConventionalCommit(hash: commit.hash, message: commit.message))
        }
        flush()
        return sections.joined()
    }
}
