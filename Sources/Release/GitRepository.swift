import Shell

/// The git work tree version-tag reads and writes, through the `git` program (argv, never a shell line).
public struct GitRepository: Sendable {
    /// The top of the work tree.
    public let root: String
    let runner = Runner()

    /// The repository that holds `directory`; throws ``ReleaseError`` when there is none.
    public static func open(at directory: String) async throws -> GitRepository {
        let output: CapturedOutput
        do {
            output = try await Runner().capture(Command("git", "rev-parse", "--show-toplevel",
                                                        workingDirectory: directory, allowedExitCodes: [0, 128]))
        } catch {
            throw ReleaseError("git could not be run (\(error)); install git")
        }
        guard output.termination == .exited(0), !output.stdoutText.isEmpty else {
            throw ReleaseError("\(directory == "." ? "this directory" : directory) is not in a git repository; run version-tag inside one (git init)")
        }
        return GitRepository(root: output.stdoutText)
    }

    init(root: String) { self.root = root }

    func git(_ arguments: [String], allowed: Set<Int32> = [0], limit: Int = 16 << 20) async throws -> CapturedOutput {
        do {
            return try await runner.capture(Command(argv: ["git"] + arguments, environment: ["LC_ALL": "C", "GIT_PAGER": "cat"],
                                                    workingDirectory: root, allowedExitCodes: allowed), limit: limit)
        } catch let error as CommandError {
            let tail = error.stderrTail.last(where: { !$0.isEmpty }) ?? "exit status \(error.termination.map { "\($0)" } ?? "unknown")"
            throw ReleaseError("`git \(ShellQuote.join(arguments))` failed: \(tail)")
        }
    }

    /// The branch HEAD is on; nil when HEAD is detached.
    public func currentBranch() async throws -> String? {
        let out = try await git(["symbolic-ref", "--quiet", "--short", "HEAD"], allowed: [0, 1, 128])
        return out.termination == .exited(0) ? out.stdoutText : nil
    }

    /// Whether HEAD points at a commit at all (a fresh `git init` has none).
    public func hasCommits() async throws -> Bool {
        try await git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], allowed: [0, 1, 128]).termination == .exited(0)
    }

    /// Tracked files with changes, staged or not (`git status --porcelain`, untracked files left out: they
    /// are not part of the release commit).
    public func changedTrackedFiles() async throws -> [String] {
        let out = try await git(["status", "--porcelain", "--untracked-files=no"])
        return out.stdoutText.split(separator: "\n").map { String($0.dropFirst(3)) }
    }

    /// Every tag named `prefix` + a semantic version, with the commit it points at. All of them, reachable
    /// or not: `git tag --merged HEAD` costs ~90 ms on a 100,000-commit history (it walks it for every tag),
    /// while listing the refs is one read of packed-refs; ``newestReleaseTag(in:)`` checks reachability for
    /// the few candidates that matter.
    public func releaseTags(prefix: String) async throws -> [ReleaseTag] {
        let out = try await git(["for-each-ref", "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)",
                                 "refs/tags/" + prefix + "*"], limit: 64 << 20)
        return Self.parseTags(out.stdout, prefix: prefix)
    }

    /// The highest-versioned of `tags` that HEAD contains (`git merge-base --is-ancestor`, which the
    /// commit-graph's generation numbers make cheap), trying the highest first.
    public func newestReleaseTag(in tags: [ReleaseTag]) async throws -> ReleaseTag? {
        for tag in tags.sorted(by: { $1.version < $0.version }) {
            let out = try await git(["merge-base", "--is-ancestor", tag.commit, "HEAD"], allowed: [0, 1])
            if out.termination == .exited(0) { return tag }
        }
        return nil
    }

    static func parseTags(_ bytes: [UInt8], prefix: String) -> [ReleaseTag] {
        var tags: [ReleaseTag] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 3, fields[0].hasPrefix(prefix),
                  let version = SemanticVersion(String(fields[0].dropFirst(prefix.count))) else { continue }
            tags.append(ReleaseTag(name: fields[0], version: version, commit: fields[2].isEmpty ? fields[1] : fields[2]))
        }
        return tags
    }

    /// Commits reachable from HEAD and not from `since` (every commit when nil), newest first, merges left out
    /// of the list but their parents walked. One `git log` for any history length.
    public func commits(since: String?) async throws -> [GitCommit] {
        var arguments = ["log", "--topo-order", "--format=%H%x1f%P%x1f%aI%x1f%B%x1e"]
        arguments.append(since.map { "\($0)..HEAD" } ?? "HEAD")
        let out = try await git(arguments, limit: 2 << 30)
        return Self.parseLog(out.stdout)
    }

    static func parseLog(_ bytes: [UInt8]) -> [GitCommit] {
        var commits: [GitCommit] = []
        commits.reserveCapacity(bytes.count / 120)
        var start = 0
        let count = bytes.count
        bytes.withUnsafeBufferPointer { buffer in
            while start < count {
                // A record: hash 0x1f parents 0x1f date 0x1f message 0x1e, then git's newline.
                while start < count, buffer[start] == UInt8(ascii: "\n") { start += 1 }
                guard start < count else { break }
                var fieldEnds: [Int] = []
                var index = start
                while index < count, buffer[index] != 0x1e {
                    if buffer[index] == 0x1f, fieldEnds.count < 3 { fieldEnds.append(index) }
                    index += 1
                }
                if fieldEnds.count == 3 {
                    let hash = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<fieldEnds[0]]), as: UTF8.self)
                    let parentsBytes = buffer[(fieldEnds[0] + 1)..<fieldEnds[1]]
                    let parentCount = parentsBytes.isEmpty ? 0 : parentsBytes.split(separator: UInt8(ascii: " ")).count
                    let date = String(decoding: UnsafeBufferPointer(rebasing: buffer[(fieldEnds[1] + 1)..<fieldEnds[2]]), as: UTF8.self)
                    var messageEnd = index
                    while messageEnd > fieldEnds[2] + 1, buffer[messageEnd - 1] == UInt8(ascii: "\n") { messageEnd -= 1 }
                    let message = String(decoding: UnsafeBufferPointer(rebasing: buffer[(fieldEnds[2] + 1)..<messageEnd]), as: UTF8.self)
                    commits.append(GitCommit(hash: hash, parentCount: parentCount, date: date, message: message))
                }
                start = index + 1
            }
        }
        return commits
    }

    /// The URL of `origin` (nil without one).
    public func originURL() async throws -> String? {
        let out = try await git(["remote", "get-url", "origin"], allowed: [0, 1, 2, 128])
        return out.termination == .exited(0) && !out.stdoutText.isEmpty ? out.stdoutText : nil
    }

    /// Stages `paths` and commits them with `message`.
    public func commit(paths: [String], message: String) async throws {
        _ = try await git(["add", "--"] + paths)
        _ = try await git(["commit", "--quiet", "--no-verify", "-m", message, "--"] + paths)
    }

    /// Creates the annotated tag `name` on HEAD.
    public func createAnnotatedTag(_ name: String, message: String) async throws {
        _ = try await git(["tag", "--annotate", name, "--message", message])
    }

    /// Moves the branch back to `commit`, keeping nothing of what came after (undoing our own release commit).
    public func resetHard(to commit: String) async throws {
        _ = try await git(["reset", "--quiet", "--hard", commit])
    }

    public func headCommit() async throws -> String {
        try await git(["rev-parse", "HEAD"]).stdoutText
    }

    /// Pushes the branch and the tag in one atomic push: both land, or neither does.
    public func pushAtomic(remote: String, branch: String, tag: String) async throws {
        _ = try await git(["push", "--atomic", "--quiet", remote, "refs/heads/\(branch):refs/heads/\(branch)", "refs/tags/\(tag)"])
    }
}

/// A `git log` record.
public struct GitCommit: Sendable, Equatable {
    public var hash: String
    public var parentCount: Int
    /// The author date, ISO 8601 with its offset.
    public var date: String
    public var message: String

    public var isMerge: Bool { parentCount > 1 }
}

/// A tag whose name is the prefix and a semantic version.
public struct ReleaseTag: Sendable, Equatable {
    public var name: String
    public var version: SemanticVersion
    /// The commit it points at (peeled through an annotated tag object).
    public var commit: String
}

/// Why version-tag did nothing: one line, what was left untouched is said by the caller.
public struct ReleaseError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    /// 2 for a usage or configuration problem, 1 for a job that could not be done.
    public var exitCode: Int32
    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
    public var description: String { message }
}
