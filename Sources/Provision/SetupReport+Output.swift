import OpsCore

extension SetupReport {
    /// The run as text: one line per step (`ok`, `changed`, `failed`, `skipped`) with what changed, the
    /// diffs of files (always with `--check`, or when `diffs` is set), notes, and the recap line.
    public func text(diffs showDiffs: Bool = false, color: Bool = false) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = ""
        var heading = "setup-vps on \(host)"
        if let facts { heading += " (\(facts.distribution) \(facts.codename)\(facts.systemd ? "" : ", no systemd")\(facts.container ? ", container" : ""))" }
        if check { heading += " — check only: nothing is changed" }
        out += heading + "\n"
        if let error {
            out += paint("failed", "31") + "   \(error)\n"
            return out
        }
        for result in results {
            let label: String
            switch result.status {
            case .ok: label = paint("ok     ", "32")
            case .changed: label = paint(check ? "change " : "changed", "33")
            case .failed: label = paint("failed ", "31")
            case .skipped: label = paint("skipped", "36")
            }
            var line = "\(label)  \(result.step)"
            if !result.changes.isEmpty { line += ": " + result.changes.joined(separator: "; ") }
            if let error = result.error { line += ": " + error }
            out += line + "\n"
            if showDiffs || check {
                for diff in result.diffs {
                    out += diff.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "           \($0)\n" }.joined()
                }
            }
            for note in result.notes where result.status != .skipped || !note.isEmpty {
                out += "           note: \(note)\n"
            }
        }
        if !notRun.isEmpty { out += "           not run: \(notRun.joined(separator: ", "))\n" }
        out += "\nRECAP \(host): ok=\(count(.ok)) \(check ? "would change" : "changed")=\(count(.changed)) failed=\(count(.failed)) skipped=\(count(.skipped))\n"
        return out
    }

    /// One JSON document (`--json`).
    public var json: JSONValue {
        var document: [String: JSONValue] = [
            "host": .string(host),
            "check": .bool(check),
            "ok": .bool(!failed),
            "steps": .array(results.map { result in
                var step: [String: JSONValue] = [
                    "step": .string(result.step),
                    "status": .string(result.status.rawValue),
                    "changes": .array(result.changes.map(JSONValue.string)),
                    "diffs": .array(result.diffs.map(JSONValue.string)),
                    "notes": .array(result.notes.map(JSONValue.string)),
                ]
                if let error = result.error { step["error"] = .string(error) }
                return .object(step)
            }),
            "notRun": .array(notRun.map(JSONValue.string)),
            "summary": .object([
                "ok": .number(Double(count(.ok))), "changed": .number(Double(count(.changed))),
                "failed": .number(Double(count(.failed))), "skipped": .number(Double(count(.skipped))),
            ]),
        ]
        if let error { document["error"] = .string(error) }
        if let facts {
            document["facts"] = .object([
                "distribution": .string(facts.distribution), "codename": .string(facts.codename),
                "systemd": .bool(facts.systemd), "container": .bool(facts.container),
                "memoryBytes": .number(Double(facts.memoryBytes)), "swapBytes": .number(Double(facts.swapBytes)),
                "sshPorts": .array(facts.sshPorts.map { .number(Double($0)) }),
            ])
        }
        return .object(document)
    }
}
