@testable import Release
import Testing

@Suite struct ConventionalCommitTests {
    func parse(_ message: String) -> ConventionalCommit { ConventionalCommit(hash: "abcdef1234567", message: message) }

    @Test func headerForms() {
        let plain = parse("feat: add search")
        #expect(plain.type == "feat" && plain.scope == nil && plain.description == "add search" && !plain.isBreaking)
        #expect(plain.bump == .minor)

        let scoped = parse("fix(api/v2): handle 404")
        #expect(scoped.type == "fix" && scoped.scope == "api/v2" && scoped.description == "handle 404")
        #expect(scoped.bump == .patch)

        let bang = parse("refactor(db)!: drop the legacy table")
        #expect(bang.type == "refactor" && bang.scope == "db" && bang.isBreaking && bang.breakingNote == nil)
        #expect(bang.bump == .major)

        let bangNoScope = parse("feat!: new config format")
        #expect(bangNoScope.isBreaking && bangNoScope.scope == nil)

        #expect(parse("perf: cache pages").bump == .patch)
        #expect(parse("Feat: capital type").type == "feat")            // types are case-insensitive
        #expect(parse("docs: readme").bump == nil)
        #expect(parse("chore(release): v1.2.0").bump == nil)
    }

    @Test func notConventional() {
        for subject in ["Update readme", "feat add search", "feat:missing space", "feat(: broken", "feat(): empty scope",
                        "WIP", "", "fix:   ", "2024: year in review", "feat (api): space before scope"] {
            let commit = parse(subject)
            #expect(commit.type == nil, "\(subject)")
            #expect(commit.bump == nil, "\(subject)")
            #expect(commit.description == commit.subject)  // the whole subject, trailing blanks trimmed
            #expect(ChangelogGroup(commit) == .other)
        }
    }

    @Test func breakingFooters() {
        let footer = parse("feat(auth): sessions\n\nLonger body text.\n\nBREAKING CHANGE: tokens from 1.x are invalid\nand must be renewed\nRefs: #12")
        #expect(footer.isBreaking)
        #expect(footer.breakingNote == "tokens from 1.x are invalid and must be renewed")
        #expect(footer.bump == .major)

        let hyphen = parse("fix: x\n\nBREAKING-CHANGE: y")
        #expect(hyphen.isBreaking && hyphen.breakingNote == "y")

        // Not a footer: the words in running text, or lower case.
        #expect(!parse("fix: x\n\nThis is a BREAKING CHANGE: not really").isBreaking)
        #expect(!parse("fix: x\n\nbreaking change: no").isBreaking)
        // A non-conventional subject with the footer is still breaking (the footer is the signal).
        #expect(parse("Rework auth\n\nBREAKING CHANGE: new tokens").bump == .major)
    }

    @Test func reverts() {
        let revert = parse("Revert \"feat: shiny\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.")
        #expect(revert.isRevert)
        #expect(revert.revertedHash == "0123456789abcdef0123456789abcdef01234567")
        #expect(revert.bump == .patch)
        #expect(parse("revert: feat: shiny").isRevert)

        let target = ConventionalCommit(hash: "0123456789abcdef0123456789abcdef01234567", message: "feat: shiny")
        let other = ConventionalCommit(hash: "ffff", message: "fix: other")
        let cancelled = ReleasePlanner.cancellingReverts([revert, other, target])
        #expect(cancelled == [other])
        // A revert of something outside the range stays (it changes what was released).
        #expect(ReleasePlanner.cancellingReverts([revert, other]) == [revert, other])
    }

    @Test func changelogSectionAndLinks() {
        let commits = [parse("feat(api): add items"), parse("fix: crash"), parse("feat!: v2 config"), parse("chore: deps"), parse("perf: faster")]
        let section = ChangelogSection(version: "2.0.0", date: "2026-11-21", commits: commits)
        #expect(section.groups.map(\.0) == [.breaking, .features, .fixes, .performance, .other])
        let linker = CommitLinker(remoteURL: "git@github.com:acme/app.git")
        #expect(section.markdown(linker: nil) == """
            ## [2.0.0] - 2026-11-21

            ### Breaking Changes

            - v2 config (abcdef1)

            ### Features

            - **api:** add items (abcdef1)

            ### Bug Fixes

            - crash (abcdef1)

            ### Performance

            - faster (abcdef1)

            ### Other

            - deps (abcdef1)


            """)
        #expect(section.markdown(linker: linker).contains("- **api:** add items ([abcdef1](https://github.com/acme/app/commit/abcdef1234567))"))
    }

    @Test func remotes() {
        #expect(CommitLinker(remoteURL: "https://github.com/acme/app.git")?.link("h") == "https://github.com/acme/app/commit/h")
        #expect(CommitLinker(remoteURL: "ssh://git@github.com:22/acme/app")?.link("h") == "https://github.com/acme/app/commit/h")
        #expect(CommitLinker(remoteURL: "git@gitlab.com:group/sub/app.git")?.link("h") == "https://gitlab.com/group/sub/app/-/commit/h")
        #expect(CommitLinker(remoteURL: "https://gitlab.example.org/team/app")?.link("h") == "https://gitlab.example.org/team/app/-/commit/h")
        #expect(CommitLinker(remoteURL: "/srv/git/app.git") == nil)
        #expect(CommitLinker(remoteURL: "https://bitbucket.org/acme/app") == nil)
        #expect(CommitLinker(remoteURL: nil) == nil)
    }

    @Test func changelogFilePrepend() {
        let section = "## [1.1.0] - 2026-11-21\n\n### Features\n\n- x (abc1234)\n\n"
        #expect(ChangelogFile.prepend(section, to: nil) == ChangelogFile.header + section)
        let existing = "# Changelog\n\n## [Unreleased]\n\n- notes\n\n## [1.0.0] - 2026-01-01\n\n- first\n"
        #expect(ChangelogFile.prepend(section, to: existing)
                == "# Changelog\n\n## [Unreleased]\n\n- notes\n\n" + section + "## [1.0.0] - 2026-01-01\n\n- first\n")
        #expect(ChangelogFile.prepend(section, to: "# Changelog\n") == "# Changelog\n\n" + section)
    }
}
