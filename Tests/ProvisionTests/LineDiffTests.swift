import Provision
import Shell
import Testing
import TestSupport

/// `--check`'s diffs against GNU diff's `diff -u` on the same two files.
@Suite struct LineDiffTests {
    func gnuDiff(_ old: String, _ new: String) async throws -> String {
        let dir = try TempDirectory(prefix: "opskit-diff")
        defer { dir.remove() }
        try old.write(toFile: dir.file("a"))
        try new.write(toFile: dir.file("b"))
        let out = try await Runner().capture(Command(argv: ["diff", "-u", "--label", "f", "--label", "f", dir.file("a"), dir.file("b")],
                                                     allowedExitCodes: [0, 1]))
        return out.stdoutText.isEmpty ? "" : out.stdoutText + "\n"
    }

    @Test(arguments: [
        ("a\nb\nc\n", "a\nb\nc\n"),
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("", "one\ntwo\n"),
        ("one\ntwo\n", ""),
        ("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n", "1\n2\nx\n4\n5\n6\n7\n8\n9\n10\n11\n12\ny\n14\n15\n"),
        ("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n5\n6\n7\n8\n9\n"),
        ("PasswordAuthentication yes\nPermitRootLogin yes\n", "PasswordAuthentication no\nPermitRootLogin no\nMaxAuthTries 3\n"),
    ])
    func matchesGNUDiff(old: String, new: String) async throws {
        #expect(LineDiff.unified(old: old, new: new, path: "f") == (try await gnuDiff(old, new)))
    }

    @Test func randomEditsMatchGNUDiff() async throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let words = ["a", "b", "c", "d", "e"]
            let old = (0..<Int.random(in: 0...14, using: &generator)).map { _ in words.randomElement(using: &generator)! }
            var new = old
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                switch Int.random(in: 0...2, using: &generator) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &generator))
                case 1: new.insert("n\(Int.random(in: 0...9))", at: Int.random(in: 0...new.count, using: &generator))
                default: if !new.isEmpty { new[Int.random(in: 0..<new.count, using: &generator)] = "z" }
                }
            }
            let a = old.map { $0 + "\n" }.joined(), b = new.map { $0 + "\n" }.joined()
            // GNU diff may pick another edit script of the same length; both must apply to the same result.
            let ours = LineDiff.unified(old: a, new: b, path: "f")
            let theirs = try await gnuDiff(a, b)
            #expect(ours.isEmpty == theirs.isEmpty)
            if !ours.isEmpty { #expect(try await applies(ours, old: a, new: b), "\(ours)") }
        }
    }

    /// `patch` turns the old text into the new one with our diff.
    func applies(_ diff: String, old: String, new: String) async throws -> Bool {
        let dir = try TempDirectory(prefix: "opskit-patch")
        defer { dir.remove() }
        try old.write(toFile: dir.file("f"))
        try diff.write(toFile: dir.file("d"))
        _ = try await Runner().capture(Command(argv: ["patch", "-s", dir.file("f"), dir.file("d")]))
        return OpsKitProcess.read(dir.file("f")) == new
    }

    @Test func aNewFileIsAgainstDevNull() {
        let diff = LineDiff.unified(old: nil, new: "x\n", path: "/etc/x")
        #expect(diff.hasPrefix("--- /dev/null\n+++ /etc/x\n@@ -0,0 +1 @@\n+x\n"))
        #expect(LineDiff.unified(old: "same\n", new: "same\n", path: "p") == "")
    }
}
