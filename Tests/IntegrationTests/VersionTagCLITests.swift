#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// A real git repository in a temporary directory, written commit by commit.
struct GitSandbox {
    let directory: TempDirectory
    var path: String { directory.path }
    static let identity: [String: String?] = [
        "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    ]

    init(_ name: String = "repo") async throws {
        directory = try TempDirectory(prefix: "opskit-vt-\(name)")
        try await git("init", "--quiet", "--initial-branch=main")
    }

    @discardableResult
    func git(_ arguments: String...) async throws -> String {
        try await git(arguments)
    }

    @discardableResult
    func git(_ arguments: [String], allowed: Set<Int32> = [0]) async throws -> String {
        let out = try await Runner().capture(Command(argv: ["git"] + arguments, environment: Self.identity,
                                                     workingDirectory: path, allowedExitCodes: allowed))
        return out.stdoutText
    }

    func write(_ name: String, _ text: String) throws {
        if let slash = name.lastIndex(of: "/") { mkdir(directory.file(String(name[..<slash])), 0o755) }
        try text.write(toFile: directory.file(name))
    }

    func read(_ name: String) -> String? {
        AtomicFile.read(directory.file(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A commit touching its own file, with `message` (subject, and body after a blank line).
    @discardableResult
    func commit(_ message: String) async throws -> String {
        let count = Int(try await git(["rev-list", "--count", "--all"], allowed: [0, 128])) ?? 0
        try write("changes/\(count).txt", message)
        try await git("add", "-A")
        try await git("commit", "--quiet", "-m", message)
        return try await git("rev-parse", "HEAD")
    }

    func tag(_ name: String) async throws {
        try await git("tag", "-a", name, "-m", "Release \(name)")
    }

    func versionTag(_ arguments: [String], environment: [String: String?] = [:]) async throws -> OpsKitBinary.Output {
        var env = Self.identity
        for (key, value) in environment { env[key] = value }
        return try await OpsKitBinary.run("version-tag", arguments, environment: env, workingDirectory: path, asLink: true)
    }

    func tags() async throws -> [String] {
        try await git("tag", "--list").split(separator: "\n").map(String.init)
    }

    func status() async throws -> String { try await git("status", "--porcelain") }
}

@Suite struct VersionTagCLITests {
    static let packageJSON = "{\n  \"name\": \"memoryloop\",\n  \"version\": \"1.2.3\",\n  \"dependencies\": {\n    \"left-pad\": {\n      \"version\": \"1.2.3\"\n    }\n  }\n}\n"

    /// After v1.2.3: a feature, a fix, docs, a subject that is not conventional and a merge → v1.3.0, with
    /// package.json, CHANGELOG.md, the release commit and the scripts' tag message exactly as expected.
    @Test func autoReleaseAfterAFeature() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("package.json", Self.packageJSON)
        try await repo.commit("chore: start")
        try await repo.tag("v1.2.3")
        try await repo.commit("fix: handle empty input")
        try await repo.git("switch", "--quiet", "-c", "topic")
        try await repo.commit("feat(api): add /v2/items")
        try await repo.git("switch", "--quiet", "main")
        try await repo.commit("docs: explain the cache")
        try await repo.git("merge", "--quiet", "--no-ff", "-m", "Merge branch 'topic'", "topic")
        try await repo.commit("Update readme")
        let before = try await repo.git("rev-parse", "HEAD")

        let out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("tagged v1.3.0 (1.2.3 → 1.3.0)"), "\(out.stdout)")

        #expect(repo.read("package.json") == Self.packageJSON.replacingFirst("\"version\": \"1.2.3\"", with: "\"version\": \"1.3.0\""))
        #expect(try await repo.git("log", "-1", "--format=%s") == "chore(release): v1.3.0")
        #expect(try await repo.git("rev-parse", "HEAD~1") == before)
        #expect(try await repo.git("cat-file", "-t", "v1.3.0") == "tag")
        #expect(try await repo.git("rev-parse", "v1.3.0^{commit}") == (try await repo.git("rev-parse", "HEAD")))
        // The scripts' format, with git's own list of the commits since the last tag as the oracle.
        let subjects = try await repo.git("log", "--topo-order", "--no-merges", "--format=- %s", "v1.2.3..HEAD~1")
        let message = try await repo.git("tag", "-l", "--format=%(contents)", "v1.3.0")
        #expect(message == "Release v1.3.0\n\nChanges:\n" + subjects + "\n", "\(message)")  // %(contents) ends with a newline
        #expect(subjects.split(separator: "\n").count == 4)
        let changelog = try #require(repo.read("CHANGELOG.md"))
        func hash(_ subject: String) async throws -> String {
            try await repo.git("log", "--all", "--format=%h", "--fixed-strings", "--grep", subject, "-n", "1")
        }
        let today = String(Timestamp.now().prefix(10))
        let others = try await repo.git("log", "--topo-order", "--no-merges", "--format=%s", "v1.2.3..HEAD~1")
            .split(separator: "\n").filter { $0 == "Update readme" || $0.hasPrefix("docs:") }
        var expected = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\n"
        expected += "## [1.3.0] - \(today)\n\n"
        expected += "### Features\n\n- **api:** add /v2/items (\(try await hash("feat(api)")))\n\n"
        expected += "### Bug Fixes\n\n- handle empty input (\(try await hash("fix: handle")))\n\n"
        expected += "### Other\n\n"
        for subject in others {
            let text = subject.hasPrefix("docs: ") ? String(subject.dropFirst(6)) : String(subject)
            expected += "- \(text) (\(try await hash(String(subject))))\n"
        }
        expected += "\n"
        #expect(changelog == expected, "\(changelog)")
        #expect(try await repo.status().isEmpty)
    }

    /// Before 1.0 the policy is printed and applied: a breaking change makes a minor release.
    @Test func breakingChangeBeforeOnePointZeroIsMinor() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try await repo.commit("feat: first")
        try await repo.tag("v0.4.1")
        try await repo.commit("feat(db)!: drop the old schema")
        let plan = try await repo.versionTag(["--dry-run"])
        #expect(plan.exitCode == 0)
        #expect(plan.stdout.contains("next     0.5.0"), "\(plan.stdout)")
        #expect(plan.stdout.contains("0.x policy: breaking → minor, feat → minor, fix → patch"))
        #expect(try await repo.tags() == ["v0.4.1"])

        // The policy is configurable.
        try repo.write("opskit.yml", "version_tag:\n  zero_major: {breaking: major}\n")
        try await repo.git("add", "opskit.yml")
        try await repo.git("commit", "--quiet", "-m", "chore: config")
        let major = try await repo.versionTag(["--dry-run", "--json"])
        let document = try #require(JSONValue.parse(Array(major.stdout.utf8)))
        #expect(document["next"] == .string("1.0.0"))
    }

    /// After 1.0 a `BREAKING CHANGE:` footer (or `BREAKING-CHANGE:`) is a major release, and its text is what
    /// the changelog says.
    @Test func breakingFooterAfterOnePointZeroIsMajor() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try await repo.commit("feat: first")
        try await repo.tag("v1.4.0")
        try await repo.commit("fix: smaller pages")
        try await repo.commit("refactor(auth): new sessions\n\nBREAKING-CHANGE: sessions from 1.x are logged out")
        let out = try await repo.versionTag(["--yes", "--json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let document = try #require(JSONValue.parse(Array(out.stdout.utf8)))
        #expect(document["next"] == .string("2.0.0"))
        #expect(try await repo.tags().contains("v2.0.0"))
        let changelog = try #require(repo.read("CHANGELOG.md"))
        #expect(changelog.contains("### Breaking Changes\n\n- **auth:** sessions from 1.x are logged out ("))
    }

    @Test func nothingReleasableTagsNothing() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try await repo.commit("feat: first")
        try await repo.tag("v1.0.0")
        try await repo.commit("docs: typo")
        try await repo.commit("chore(deps): bump")
        let reverted = try await repo.commit("feat: shiny")
        try await repo.git("revert", "--no-edit", reverted)   // a revert and its commit cancel out
        let out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 0)
        #expect(out.stdout.contains("no releasable commits since 1.0.0"), "\(out.stdout)")
        #expect(try await repo.tags() == ["v1.0.0"])
        #expect(try await repo.git("log", "-1", "--format=%s").hasPrefix("Revert"))
    }

    /// node-semver's prerelease walk: 1.2.3 → 1.2.4-rc.0 → 1.2.4-rc.1 → (patch) 1.2.4.
    @Test func prereleasesThenTheRelease() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("VERSION", "1.2.3\n")
        try await repo.commit("feat: first")
        try await repo.tag("v1.2.3")
        try await repo.commit("fix: one")
        #expect(try await repo.versionTag(["prerelease", "--preid", "rc", "--yes", "--quiet"]).exitCode == 0)
        #expect(repo.read("VERSION") == "1.2.4-rc.0\n")
        try await repo.commit("fix: two")
        #expect(try await repo.versionTag(["prerelease", "--preid", "rc", "--yes", "--quiet"]).exitCode == 0)
        try await repo.commit("fix: three")
        let release = try await repo.versionTag(["patch", "--yes"])
        #expect(release.exitCode == 0, "\(release.stderr)")
        #expect(try await repo.tags() == ["v1.2.3", "v1.2.4", "v1.2.4-rc.0", "v1.2.4-rc.1"])
        #expect(repo.read("VERSION") == "1.2.4\n")
    }

    /// Every refusal leaves files, branch and tags as they were, says why, and exits 1.
    @Test func refusals() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("package.json", Self.packageJSON)
        try await repo.commit("feat: first")
        try await repo.tag("v1.2.3")
        try await repo.commit("feat: second")
        let head = try await repo.git("rev-parse", "HEAD")

        // A dirty work tree.
        try repo.write("package.json", Self.packageJSON + " ")
        var out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("uncommitted changes (package.json)") && out.stderr.contains("nothing was changed"), "\(out.stderr)")
        #expect(repo.read("package.json") == Self.packageJSON + " ")
        try await repo.git("checkout", "--", "package.json")

        // No terminal and no --yes.
        out = try await repo.versionTag([])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("without a terminal") && out.stderr.contains("--yes"), "\(out.stderr)")

        // An existing tag (on another branch, so HEAD does not contain it).
        try await repo.git("switch", "--quiet", "-c", "side", "HEAD~1")
        try await repo.commit("fix: side")
        try await repo.git("tag", "v1.3.0")
        try await repo.git("switch", "--quiet", "main")
        out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("tag v1.3.0 already exists"), "\(out.stderr)")
        try await repo.git("tag", "-d", "v1.3.0")

        // A detached HEAD.
        try await repo.git("switch", "--quiet", "--detach", "main")
        out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("HEAD is detached"), "\(out.stderr)")
        try await repo.git("switch", "--quiet", "main")

        #expect(try await repo.git("rev-parse", "HEAD") == head)
        #expect(try await repo.tags() == ["v1.2.3"])
        #expect(repo.read("package.json") == Self.packageJSON)
        #expect(repo.read("CHANGELOG.md") == nil)

        // No repository at all.
        let plain = try TempDirectory(prefix: "opskit-vt-plain")
        defer { plain.remove() }
        let none = try await OpsKitBinary.run("version-tag", ["--yes"], workingDirectory: plain.path, asLink: true)
        #expect(none.exitCode == 1)
        #expect(none.stderr.contains("not in a git repository"), "\(none.stderr)")

        // A bump that is not one.
        let bad = try await repo.versionTag(["huge"])
        #expect(bad.exitCode == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    /// A version in a file that is not semver stops the run before anything is written.
    @Test func malformedVersionInAFileIsRefused() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("package.json", "{\"name\": \"x\", \"version\": \"1.2\"}\n")
        try await repo.commit("feat: first")
        let out = try await repo.versionTag(["--yes"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.contains("package.json holds version '1.2', which is not a semantic version"), "\(out.stderr)")
        #expect(try await repo.tags().isEmpty)

        // A package.json that is not JSON at all: named once, one line.
        try repo.write("package.json", "{\"version\": \"1.2.0\"}\nlocal edit\n")
        try await repo.git("commit", "--quiet", "-am", "chore: break it")
        let broken = try await repo.versionTag(["--yes"])
        #expect(broken.exitCode == 1)
        #expect(broken.stderr.hasPrefix("version-tag: package.json: invalid JSON at line 2") && !broken.stderr.contains("package.json: package.json"), "\(broken.stderr)")
        #expect(broken.stderr.split(separator: "\n").count == 1)
        #expect(try await repo.tags().isEmpty)
    }

    /// Cargo.toml, pyproject.toml, VERSION and a patterned file change only in their version text.
    @Test func everyVersionFileChangesOnlyItsVersion() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        let cargo = "[package]\nname = \"svc\"\nversion = \"0.9.0\" # kept\n\n[dependencies]\nserde = { version = \"1.0\" }\n"
        let pyproject = "[project]\r\nname = 'svc'\r\nversion = '0.9.0'\r\n"
        let constant = "// generated\nexport const VERSION = \"0.9.0\";\n"
        try repo.write("Cargo.toml", cargo)
        try repo.write("pyproject.toml", pyproject)
        try repo.write("VERSION", "0.9.0")
        try repo.write("src/version.ts", constant)
        try repo.write("opskit.yml", "version_tag:\n  files:\n    - path: src/version.ts\n      pattern: 'export const VERSION = \"{version}\"'\n  changelog: false\n")
        try await repo.commit("feat: first")
        try await repo.tag("v0.9.0")
        try await repo.commit("fix: the thing")
        let out = try await repo.versionTag(["--yes", "--json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(repo.read("Cargo.toml") == cargo.replacingFirst("\"0.9.0\"", with: "\"0.9.1\""))
        #expect(repo.read("pyproject.toml") == pyproject.replacingFirst("'0.9.0'", with: "'0.9.1'"))
        #expect(repo.read("VERSION") == "0.9.1")
        #expect(repo.read("src/version.ts") == constant.replacingFirst("0.9.0", with: "0.9.1"))
        #expect(repo.read("CHANGELOG.md") == nil)
        #expect(try await repo.status().isEmpty)
    }

    /// --push lands the branch and the tag together; when the remote refuses one, it gets neither.
    @Test func pushIsAtomic() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        let remote = try TempDirectory(prefix: "opskit-vt-remote")
        defer { remote.remove() }
        _ = try await Runner().capture(Command("git", "init", "--quiet", "--bare", "--initial-branch=main", remote.path))
        try await repo.git("remote", "add", "origin", remote.path)
        try await repo.commit("feat: first")
        try await repo.tag("v1.0.0")
        try await repo.git("push", "--quiet", "origin", "main", "v1.0.0")
        try await repo.commit("feat: second")

        let out = try await repo.versionTag(["--yes", "--push"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("pushed to origin"))
        let remoteRefs = try await repo.git("ls-remote", "origin")
        let head = try await repo.git("rev-parse", "HEAD")
        #expect(remoteRefs.contains("\(head)\trefs/heads/main"))
        #expect(remoteRefs.contains("refs/tags/v1.1.0"))

        // The remote already has v1.2.0 (pushed from elsewhere): the atomic push fails and main stays.
        try await repo.commit("feat: third")
        _ = try await Runner().capture(Command("git", "--git-dir", remote.path, "tag", "v1.2.0", "v1.0.0^{commit}"))
        let failed = try await repo.versionTag(["--yes", "--push"])
        #expect(failed.exitCode == 1)
        #expect(failed.stderr.contains("git push --atomic origin main v1.2.0"), "\(failed.stderr)")
        #expect(try await repo.git("ls-remote", "origin", "refs/heads/main").hasPrefix(head))
    }

    /// --dry-run prints the plan and changes nothing; links point at GitHub when origin is there.
    @Test func dryRunChangesNothing() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("package.json", Self.packageJSON)
        try await repo.commit("feat: first")
        try await repo.tag("v1.2.3")
        try await repo.commit("perf(db): faster index")
        try await repo.git("remote", "add", "origin", "git@github.com:acme/memoryloop.git")
        let head = try await repo.git("rev-parse", "HEAD")
        let out = try await repo.versionTag(["--dry-run", "--json"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let document = try #require(JSONValue.parse(Array(out.stdout.utf8)))
        #expect(document["current"] == .string("1.2.3"))
        #expect(document["next"] == .string("1.2.4"))
        #expect(document.value(atPath: "commits.performance")?.arrayValue?.count == 1)
        #expect(document["changelog"]?.stringValue?.contains("- **db:** faster index ([\(head.prefix(7))](https://github.com/acme/memoryloop/commit/\(head)))") == true,
                "\(document["changelog"]?.stringValue ?? "")")
        #expect(try await repo.git("rev-parse", "HEAD") == head)
        #expect(try await repo.tags() == ["v1.2.3"])
        #expect(repo.read("package.json") == Self.packageJSON)
        #expect(try await repo.status().isEmpty)
    }

    /// --no-commit tags HEAD as it is; --changelog-all writes a section for every release.
    @Test func noCommitAndWholeHistoryChangelog() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try await repo.commit("feat: one")
        try await repo.tag("v0.1.0")
        try await repo.commit("fix: two")
        try await repo.tag("v0.1.1")
        try await repo.commit("feat: three")
        let head = try await repo.git("rev-parse", "HEAD")
        let dry = try await repo.versionTag(["--dry-run", "--json", "--changelog-all"])
        let changelog = try #require(JSONValue.parse(Array(dry.stdout.utf8))?["changelog"]?.stringValue)
        let headings = changelog.split(separator: "\n").filter { $0.hasPrefix("## [") }.map { $0.prefix(11) }
        #expect(headings == ["## [0.2.0] ", "## [0.1.1] ", "## [0.1.0] "], "\(changelog)")
        #expect(changelog.contains("## [0.1.1]") && changelog.contains("- two ("))

        let out = try await repo.versionTag(["--yes", "--no-commit"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(try await repo.git("rev-parse", "HEAD") == head)
        #expect(try await repo.git("rev-parse", "v0.2.0^{commit}") == head)
        #expect(repo.read("CHANGELOG.md") == nil)
    }

    /// On a terminal it asks: "n" (or end of input) changes nothing, "y" tags. `script` gives it a real pty.
    @Test func asksOnATerminal() async throws {
        let repo = try await GitSandbox()
        defer { repo.directory.remove() }
        try repo.write("VERSION", "1.0.0\n")
        try await repo.commit("feat: first")
        try await repo.tag("v1.0.0")
        try await repo.commit("fix: second")
        func onTerminal(answer: String) async throws -> String {
            let line = ShellQuote.join([OpsKitBinary.path, "version-tag"])
            let out = try await Runner().capture(Command(argv: ["sh", "-c", "printf '\(answer)' | script -qec \"$0\" /dev/null", line],
                                                         environment: GitSandbox.identity, workingDirectory: repo.path,
                                                         allowedExitCodes: [0, 1], timeout: .seconds(60)))
            return out.stdoutText
        }
        let declined = try await onTerminal(answer: "n\\n")
        #expect(declined.contains("Create v1.0.1? [y/N]") && declined.contains("not confirmed; nothing was changed"), "\(declined)")
        #expect(try await repo.tags() == ["v1.0.0"])
        #expect(repo.read("VERSION") == "1.0.0\n")
        let accepted = try await onTerminal(answer: "y\\n")
        #expect(accepted.contains("tagged v1.0.1"), "\(accepted)")
        #expect(try await repo.tags() == ["v1.0.0", "v1.0.1"])
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
