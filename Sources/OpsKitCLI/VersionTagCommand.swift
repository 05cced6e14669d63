import ArgumentParser
import OpsCore
import Release
import Shell

/// `version-tag`: the next semantic version from the commit history, version files, CHANGELOG.md, an
/// annotated tag in the scripts' format.
struct VersionTagCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "version-tag",
        abstract: "Bump the version, write the changelog and create the annotated release tag.",
        discussion: """
        Without a bump argument (auto) the next version follows the Conventional Commits since the last tag: \
        feat → minor, fix/perf → patch, `!` or a BREAKING CHANGE: footer → major. While the major version is \
        0: breaking → minor, feat → minor, fix → patch (version_tag.zero_major in opskit.yml changes it). \
        Nothing releasable → it says so and exits 0.

        The current version is the highest <prefix>X.Y.Z tag HEAD contains, else package.json/VERSION, else \
        0.0.0. The new version goes into package.json (and package-lock.json), Cargo.toml, pyproject.toml, \
        VERSION and any --file; CHANGELOG.md gets a section; the release commit is \
        "chore(release): vX.Y.Z", the tag message "Release vX.Y.Z", a blank line, "Changes:" and a \
        "- subject" line per commit.

        EXIT CODES:
          0  tagged, or nothing to release
          1  refused or failed (nothing was changed)
          2  bad arguments or configuration

        EXAMPLES:
          version-tag --dry-run                # what would happen, and why
          version-tag patch                    # what version-tag.sh patch did
          version-tag --yes --push             # CI: auto bump, commit, tag, push
          version-tag prerelease --preid rc
        """
    )

    @Argument(help: ArgumentHelp("major, minor, patch, premajor, preminor, prepatch, prerelease or auto.", valueName: "bump"))
    var bump: String = "auto"

    @Option(help: ArgumentHelp("Prerelease identifier: prerelease --preid rc gives 1.2.4-rc.0.", valueName: "id"))
    var preid: String?

    @OptionGroup var change: ChangeOptions

    @Flag(help: "Push the branch and the tag in one `git push --atomic`.")
    var push = false

    @Flag(name: .customLong("no-commit"), help: "Change no file and make no commit: tag HEAD as it is.")
    var noCommit = false

    @Flag(name: .customLong("no-changelog"), help: "Do not write CHANGELOG.md.")
    var noChangelog = false

    @Flag(name: .customLong("changelog-all"), help: "Write CHANGELOG.md anew with a section for every release in the history.")
    var changelogAll = false

    @Option(name: .customLong("file"), help: ArgumentHelp("Another file to write the version into (package.json, Cargo.toml, pyproject.toml, VERSION by name; others need a pattern in opskit.yml). Repeatable.", valueName: "path"))
    var files: [String] = []

    @Option(name: .customLong("tag-prefix"), help: ArgumentHelp("Tag names are this plus the version (default: v).", valueName: "prefix"))
    var tagPrefix: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard BumpRequest(argument: bump) != nil else {
            throw ValidationError("'\(bump)' is not a bump; use major, minor, patch, premajor, preminor, prepatch, prerelease or auto")
        }
    }

    mutating func execute() async -> Int32 {
        let env = ProcessEnvironment.current()
        let repository: GitRepository
        var settings: ReleaseSettings
        do {
            let config = try OpsConfig.load(explicitPath: output.config, environment: env)
            settings = try ReleaseSettings.resolve(config: config, today: String(Timestamp.now().prefix(10)))
            settings.request = BumpRequest(argument: bump) ?? .auto
            settings.preid = preid
            if let tagPrefix { settings.tagPrefix = tagPrefix }
            if push { settings.push = true }
            if noCommit { settings.commit = false }
            if noChangelog { settings.changelog = false }
            if changelogAll { settings.changelogAll = true }
            for file in files { settings.extraFiles.append(try ReleaseSettings.fileSpec(path: file, pattern: nil)) }
            repository = try await GitRepository.open(at: ".")
        } catch {
            return fail(error, usage: true)
        }

        let plan: ReleasePlan
        do {
            plan = try await ReleasePlanner(repository: repository, settings: settings).plan()
        } catch {
            return fail(error, usage: false)
        }
        if change.dryRun || plan.next == nil {
            if output.json {
                writeStdout(plan.json(dryRun: change.dryRun).serialized(pretty: true))
            } else if !(output.quiet && plan.next == nil) {
                var text = plan.text(dryRun: true)
                if change.dryRun, let changelog = plan.changelog, output.verbose { text += "\n" + changelog }
                writeStdout(String(text.dropLast()))
            }
            return 0
        }
        if let problem = plan.problems.first {
            writeStderr("version-tag: refusing: \(problem); nothing was changed\n")
            return 1
        }
        if !change.yes {
            guard StandardStreams.isTerminal(0), StandardStreams.isTerminal(2) else {
                writeStderr("version-tag: refusing to tag \(plan.tagName ?? "") without a terminal to confirm on; add --yes (or --dry-run to only look); nothing was changed\n")
                return 1
            }
            writeStderr(plan.text(dryRun: false))
            guard (try? Prompt(assumeYes: false).confirm("Create \(plan.tagName ?? "the tag")?")) == true else {
                writeStderr("version-tag: not confirmed; nothing was changed\n")
                return 1
            }
        }
        do {
            let outcome = try await ReleaseRun(repository: repository, settings: settings).execute(plan)
            if output.json {
                writeStdout(plan.json(dryRun: false, outcome: outcome).serialized(pretty: true))
            } else if !output.quiet {
                var line = "tagged \(outcome.tag) (\(plan.current) → \(plan.next?.description ?? ""))"
                if outcome.committed { line += ", committed \(outcome.changedFiles.joined(separator: ", "))" }
                line += outcome.pushed ? ", pushed to \(settings.remote)" : (settings.push ? "" : "; push with: git push --atomic \(settings.remote) \(plan.branch ?? "HEAD") \(outcome.tag)")
                writeStdout(line)
            }
            return 0
        } catch {
            return fail(error, usage: false)
        }
    }

    func fail(_ error: any Error, usage: Bool) -> Int32 {
        let release = error as? ReleaseError
        let message = release?.message ?? "\(error)"
        let code = release?.exitCode ?? (usage ? 2 : 1)
        let kept = message.contains("nothing was changed") || message.contains("nothing was pushed") || message.contains("are here but") ? "" : "; nothing was changed"
        writeStderr("version-tag: \(message)\(kept)\n")
        return code
    }
}
