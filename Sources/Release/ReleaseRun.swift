import Shell
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a ``ReleasePlan``: version files and CHANGELOG.md, the release commit, the annotated tag,
/// the atomic push. Any failure before the tag exists puts every file and the branch back as they were.
public struct ReleaseRun: Sendable {
    public var repository: GitRepository
    public var settings: ReleaseSettings

    public init(repository: GitRepository, settings: ReleaseSettings) {
        self.repository = repository
        self.settings = settings
    }

    /// What was done.
    public struct Outcome: Sendable, Equatable {
        public var tag: String
        public var committed: Bool
        public var pushed: Bool
        public var changedFiles: [String]
    }

    public func execute(_ plan: ReleasePlan) async throws -> Outcome {
        guard plan.next != nil, let tag = plan.tagName else {
            throw ReleaseError("there is nothing to release: \(plan.reason)")
        }
        if let problem = plan.problems.first { throw ReleaseError(problem) }
        let head = try await repository.headCommit()

        var written: [(path: String, original: [UInt8]?)] = []
        var changed: [String] = []
        do {
            if settings.commit {
                for file in plan.files where file.rewritten != file.original {
                    let path = absolute(file.path)
                    try AtomicFile.write(file.rewritten, to: path, permissions: mode(of: path) ?? 0o644)
                    written.append((path, file.original))
                    changed.append(file.path)
                }
                if let changelogPath = plan.changelogPath, let section = plan.changelog {
                    let path = absolute(changelogPath)
                    let existing = AtomicFile.read(path, limit: 1 << 30)
                    let text: String
                    if settings.changelogAll {
                        text = ChangelogFile.header + section
                    } else {
                        text = ChangelogFile.prepend(section, to: existing.map { String(decoding: $0, as: UTF8.self) })
                    }
                    try AtomicFile.write(text, to: path, permissions: mode(of: path) ?? 0o644)
                    written.append((path, existing))
                    changed.append(changelogPath)
                }
                if !changed.isEmpty, let message = plan.commitMessage {
                    try await repository.commit(paths: changed, message: message)
                }
            }
        } catch {
            restore(written)
            // A commit that half happened (hooks are skipped, but a full disk is not): back to where we were.
            if (try? await repository.headCommit()) != head { try? await repository.resetHard(to: head) }
            throw ReleaseError("\(Self.reason(error)); nothing was changed (files and branch as before)")
        }
        let committed = settings.commit && !changed.isEmpty
        do {
            try await repository.createAnnotatedTag(tag, message: plan.tagMessage ?? "Release \(tag)")
        } catch {
            if committed { try? await repository.resetHard(to: head) }
            restore(written)
            throw ReleaseError("\(Self.reason(error)); the release commit was undone, nothing was changed")
        }
        var pushed = false
        if settings.push {
            guard let branch = plan.branch else { throw ReleaseError("HEAD is detached; nothing was pushed") }
            do {
                try await repository.pushAtomic(remote: settings.remote, branch: branch, tag: tag)
                pushed = true
            } catch {
                throw ReleaseError("\(Self.reason(error)); \(tag) and the release commit are here but on no remote: `git push --atomic \(settings.remote) \(branch) \(tag)` once it works")
            }
        }
        return Outcome(tag: tag, committed: committed, pushed: pushed, changedFiles: changed)
    }

    func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : repository.root + "/" + path }

    /// Puts files back as they were (removing the ones that did not exist).
    func restore(_ written: [(path: String, original: [UInt8]?)]) {
        for (path, original) in written.reversed() {
            if let original { try? AtomicFile.write(original, to: path, permissions: mode(of: path) ?? 0o644) } else { unlink(path) }
        }
    }

    func mode(of path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? ReleaseError { return error.message }
        return "\(error)"
    }
}
