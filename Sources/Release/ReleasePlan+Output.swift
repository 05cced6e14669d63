import OpsCore

extension ReleasePlan {
    /// The plan as people read it: current, next, why, commits by group, files to change.
    public func text(dryRun: Bool) -> String {
        var out = ""
        out += "current  \(current) (\(currentSource))\n"
        if let next {
            out += "next     \(next) — \(reason)\n"
        } else {
            out += "next     none — \(reason)\n"
        }
        if let zeroMajorPolicy { out += "         \(zeroMajorPolicy)\n" }
        let groups = ChangelogSection.grouped(commits)
        if !groups.isEmpty {
            out += "\ncommits since \(lastTag?.name ?? "the first commit") (\(commits.count)):\n"
            for (group, list) in groups {
                out += "  \(group.rawValue) (\(list.count))\n"
                for commit in list.prefix(20) {
                    out += "    \(commit.hash.prefix(7)) \(commit.subject)\n"
                }
                if list.count > 20 { out += "    … and \(list.count - 20) more\n" }
            }
        }
        if let tagName {
            out += "\n"
            if commitMessage != nil {
                for file in files {
                    out += "  \(dryRun ? "would change" : "change") \(file.path): \(file.from) → \(next?.description ?? "")\n"
                }
                if let changelogPath { out += "  \(dryRun ? "would prepend" : "prepend") \(changelogPath): ## [\(next?.description ?? "")]\n" }
                out += "  \(dryRun ? "would commit" : "commit") \"\(commitMessage ?? "")\"\n"
            }
            out += "  \(dryRun ? "would tag" : "tag") \(tagName) (annotated: \"Release \(tagName)\", \(subjects.count) change\(subjects.count == 1 ? "" : "s"))\n"
        }
        for problem in problems { out += "\(dryRun ? "a real run would refuse" : "refusing"): \(problem)\n" }
        return out
    }

    /// The plan as one document (`--json`).
    public func json(dryRun: Bool, outcome: ReleaseRun.Outcome? = nil) -> JSONValue {
        var document: [String: JSONValue] = [
            "current": .string(current.description),
            "currentSource": .string(currentSource),
            "next": next.map { .string($0.description) } ?? .null,
            "reason": .string(reason),
            "dryRun": .bool(dryRun),
            "tag": tagName.map { .string($0) } ?? .null,
            "lastTag": lastTag.map { .string($0.name) } ?? .null,
            "problems": .array(problems.map { .string($0) }),
            "zeroMajorPolicy": zeroMajorPolicy.map { .string($0) } ?? .null,
        ]
        var groups: [String: JSONValue] = [:]
        for (group, list) in ChangelogSection.grouped(commits) {
            groups[group.key] = .array(list.map { commit in
                var entry: [String: JSONValue] = ["hash": .string(commit.hash), "subject": .string(commit.subject)]
                if let type = commit.type { entry["type"] = .string(type) }
                if let scope = commit.scope { entry["scope"] = .string(scope) }
                if commit.isBreaking { entry["breaking"] = .bool(true) }
                if let note = commit.breakingNote { entry["breakingNote"] = .string(note) }
                return .object(entry)
            })
        }
        document["commits"] = .object(groups)
        document["commitCount"] = .number(Double(commits.count))
        document["files"] = .array(files.map { .object(["path": .string($0.path), "from": .string($0.from), "to": next.map { .string($0.description) } ?? .null]) })
        document["changelog"] = changelog.map { .string($0) } ?? .null
        document["changelogPath"] = changelogPath.map { .string($0) } ?? .null
        document["commitMessage"] = commitMessage.map { .string($0) } ?? .null
        document["tagMessage"] = tagMessage.map { .string($0) } ?? .null
        if let outcome {
            document["committed"] = .bool(outcome.committed)
            document["pushed"] = .bool(outcome.pushed)
            document["changedFiles"] = .array(outcome.changedFiles.map { .string($0) })
        }
        return .object(document)
    }
}
