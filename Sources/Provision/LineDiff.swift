/// A unified diff of two texts, line by line (what `--check` prints for every file it would change).
public enum LineDiff {
    /// `--- path` / `+++ path` and hunks with `context` unchanged lines around each change; empty when equal.
    /// `old` nil means the file does not exist yet (`/dev/null`).
    public static func unified(old: String?, new: String?, path: String, context: Int = 3) -> String {
        let a = old.map(lines) ?? []
        let b = new.map(lines) ?? []
        guard a != b || (old == nil) != (new == nil) else { return "" }
        let edits = script(a, b)
        var out = "--- \(old == nil ? "/dev/null" : path)\n+++ \(new == nil ? "/dev/null" : path)\n"
        // Group edits into hunks: runs of changes with up to 2*context equal lines between them.
        var index = 0
        while index < edits.count {
            guard let firstChange = edits[index...].firstIndex(where: { $0.kind != .same }) else { break }
            var last = firstChange
            var scan = firstChange
            while scan < edits.count {
                if edits[scan].kind != .same { last = scan; scan += 1; continue }
                var run = scan
                while run < edits.count, edits[run].kind == .same { run += 1 }
                if run < edits.count, run - scan <= 2 * context { scan = run } else { break }
            }
            let start = max(index, firstChange - context)
            let end = min(edits.count, last + 1 + context)
            let slice = edits[start..<end]
            let oldStart = slice.first.map { $0.oldLine } ?? 0
            let newStart = slice.first.map { $0.newLine } ?? 0
            let oldCount = slice.filter { $0.kind != .insert }.count
            let newCount = slice.filter { $0.kind != .delete }.count
            out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for edit in slice {
                switch edit.kind {
                case .same: out += " \(edit.text)\n"
                case .delete: out += "-\(edit.text)\n"
                case .insert: out += "+\(edit.text)\n"
                }
            }
            index = end
        }
        return out
    }

    static func range(_ start: Int, _ count: Int) -> String {
        // 1-based; an empty range names the line before it, as diff -u does.
        count == 0 ? "\(start),0" : count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }

    struct Edit: Equatable {
        enum Kind { case same, delete, insert }
        var kind: Kind
        var text: String
        /// Lines of the old and new text before this edit (0-based positions).
        var oldLine: Int
        var newLine: Int
    }

    /// The shortest edit script by longest common subsequence (configuration files are small).
    static func script(_ a: [String], _ b: [String]) -> [Edit] {
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] {
                edits.append(Edit(kind: .same, text: a[i], oldLine: i, newLine: j)); i += 1; j += 1
            } else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] {
                // Deletions before insertions, as diff -u prints a changed line.
                edits.append(Edit(kind: .delete, text: a[i], oldLine: i, newLine: j)); i += 1
            } else {
                edits.append(Edit(kind: .insert, text: b[j], oldLine: i, newLine: j)); j += 1
            }
        }
        return edits
    }
}
