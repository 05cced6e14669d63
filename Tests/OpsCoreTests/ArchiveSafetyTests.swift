#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Testing
import TestSupport

/// Archives crafted with python3's tarfile to escape the target directory; each must be refused, naming the
/// entry, with nothing written outside.
@Suite struct ArchiveSafetyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// tarfile calls (see ArchiveFixture.craftTar); `OUTSIDE` is replaced by an absolute path outside.
        let entries: String
        let refused: String
        /// Paths (relative to the target directory) that must exist afterwards: the entries before the bad one.
        var extracted: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "dot-dot", entries: "file('ok.txt')\nfile('../evil')", refused: "../evil", extracted: ["ok.txt"]),
        Case(name: "nested dot-dot", entries: "directory('a')\nfile('a/../../evil')", refused: "a/../../evil", extracted: ["a"]),
        Case(name: "absolute path", entries: "file('OUTSIDE/abs-evil')", refused: "OUTSIDE/abs-evil"),
        Case(name: "symlink to /etc, then through it", entries: "symlink('link', '/etc')\nfile('link/passwd')", refused: "link"),
        Case(name: "symlink leading up and out", entries: "symlink('up', '../../outside')", refused: "up"),
        Case(name: "symlink one level too far", entries: "directory('d')\nsymlink('d/s', '../..')", refused: "d/s", extracted: ["d"]),
        Case(name: "symlink climbing after descending", entries: "directory('d')\nsymlink('d/s', 'x/../..')", refused: "d/s"),
        Case(
            name: "write through an inside symlink", entries: "directory('sub')\nsymlink('alias', 'sub')\nfile('alias/f')",
            refused: "alias/f", extracted: ["sub", "alias"]),
        Case(
            name: "directory over an inside symlink", entries: "directory('sub')\nsymlink('alias', 'sub')\ndirectory('alias')",
            refused: "alias/", extracted: ["sub", "alias"]),
        Case(name: "hard link to dot-dot", entries: "hardlink('hl', '../x')", refused: "hl"),
        Case(name: "hard link to an absolute path", entries: "hardlink('hl', '/etc/passwd')", refused: "hl"),
        Case(
            name: "hard link through an inside symlink", entries: "directory('sub')\nfile('sub/f')\nsymlink('alias', 'sub')\nhardlink('hl', 'alias/f')",
            refused: "hl", extracted: ["sub/f", "alias"]),
    ]

    @Test(arguments: cases)
    func refusedNamingTheEntryWithNothingWrittenOutside(_ testCase: Case) async throws {
        let tmp = try TempDirectory(prefix: "opskit-evil")
        defer { tmp.remove() }
        // tmp/archive.tar, tmp/outside/ (must stay empty), tmp/work/target/ (the extraction directory).
        try ArchiveFixture.mkdir(tmp.file("outside"))
        try ArchiveFixture.mkdir(tmp.file("work"))
        try ArchiveFixture.mkdir(tmp.file("work/target"))
        let outside = tmp.file("outside")
        let entries = testCase.entries.replacing("OUTSIDE", with: outside)
        let refused = testCase.refused.replacing("OUTSIDE", with: outside)
        try await ArchiveFixture.craftTar(tmp.file("archive.tar"), entries)

        let reader = try TarReader(source: FileSource(path: tmp.file("archive.tar")))
        let error = #expect(throws: ArchiveError.self) { try reader.extract(into: tmp.file("work/target")) }
        guard case .unsafeEntry(let path, let reason) = error else {
            Issue.record("expected unsafeEntry, got \(String(describing: error))")
            return
        }
        #expect(path == refused)
        #expect(error?.description.contains("\"\(refused)\"") == true)
        #expect(!reason.isEmpty && error?.description.contains("\n") == false)
        #expect(try ArchiveFixture.names(in: tmp.path) == ["archive.tar", "outside", "work"])
        #expect(try ArchiveFixture.names(in: tmp.file("outside")).isEmpty)
        #expect(try ArchiveFixture.names(in: tmp.file("work")) == ["target"])
        if !testCase.extracted.contains(where: { refused.hasPrefix($0) }) && !refused.hasPrefix("/") {
            #expect(!ArchiveFixture.exists(tmp.file("work/target/\(refused)")))
        }
        for path in testCase.extracted {
            #expect(ArchiveFixture.exists(tmp.file("work/target/\(path)")), "\(path) before the bad entry")
        }
        // Listing (no extraction) reads such an archive without complaint: it writes nothing.
        #expect(try TarReader(source: FileSource(path: tmp.file("archive.tar"))).list().entries > 0)
    }

    /// Restoring one's own backup: symlinks come back as they were, pointing anywhere, but nothing is ever
    /// written through one, and hard links still stay inside.
    @Test func asArchivedRecreatesAnySymlinkButStillNeverWritesThroughOne() async throws {
        let tmp = try TempDirectory(prefix: "opskit-links")
        defer { tmp.remove() }
        try ArchiveFixture.mkdir(tmp.file("outside"))
        try ArchiveFixture.mkdir(tmp.file("target"))
        try await ArchiveFixture.craftTar(
            tmp.file("good.tar"),
            """
            symlink('current', '/opt/app/releases/5')
            symlink('up', '../../elsewhere')
            file('data', b'payload')
            """)
        let summary = try TarReader(source: FileSource(path: tmp.file("good.tar")))
            .extract(into: tmp.file("target"), symlinks: .asArchived)
        #expect(summary.entries == 3)
        func target(_ path: String) -> String {
            var buffer = [CChar](repeating: 0, count: 256)
            let count = readlink(path, &buffer, buffer.count)
            return count < 0 ? "" : String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #expect(target(tmp.file("target/current")) == "/opt/app/releases/5")
        #expect(target(tmp.file("target/up")) == "../../elsewhere")

        try ArchiveFixture.mkdir(tmp.file("target2"))
        let outside = tmp.file("outside")
        try await ArchiveFixture.craftTar(tmp.file("evil.tar"), "symlink('link', '\(outside)')\nfile('link/evil')\nhardlink('hl', '/etc/passwd')")
        let error = #expect(throws: ArchiveError.self) {
            try TarReader(source: FileSource(path: tmp.file("evil.tar"))).extract(into: tmp.file("target2"), symlinks: .asArchived)
        }
        guard case .unsafeEntry(let path, _) = error else {
            Issue.record("expected unsafeEntry, got \(String(describing: error))")
            return
        }
        #expect(path == "link/evil")
        #expect(try ArchiveFixture.names(in: outside).isEmpty)
    }

    @Test func safeLinksInsideAreExtracted() async throws {
        let tmp = try TempDirectory(prefix: "opskit-links")
        defer { tmp.remove() }
        try ArchiveFixture.mkdir(tmp.file("target"))
        try await ArchiveFixture.craftTar(
            tmp.file("archive.tar"),
            """
            directory('./')
            directory('a')
            directory('a/b')
            file('a/b/data', b'payload')
            symlink('a/b/up', '../../a/b/data')
            symlink('a/here', './b/./data')
            symlink('top', 'a/b')
            hardlink('a/copy', 'a/b/data')
            file('a/b/data2', b'second')
            """)
        let summary = try TarReader(source: FileSource(path: tmp.file("archive.tar"))).extract(into: tmp.file("target"))
        #expect(summary.entries == 9)
        #expect(try ArchiveFixture.readFile(tmp.file("target/a/b/up")) == Array("payload".utf8))
        #expect(try ArchiveFixture.readFile(tmp.file("target/a/here")) == Array("payload".utf8))
        #expect(try ArchiveFixture.readFile(tmp.file("target/top/data2")) == Array("second".utf8))
        var first = stat()
        var second = stat()
        #expect(stat(tmp.file("target/a/copy"), &first) == 0 && stat(tmp.file("target/a/b/data"), &second) == 0)
        #expect(first.st_ino == second.st_ino)
    }
}
