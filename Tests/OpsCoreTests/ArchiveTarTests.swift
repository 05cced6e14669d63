#if canImport(Glibc)
import Glibc
#endif
@testable import OpsCore
import Shell
import Testing
import TestSupport

@Suite struct ArchiveTarTests {
    static func tarFlags(_ kind: CompressionKind) -> [String] {
        switch kind {
        case .zstd: ["--zstd"]
        case .gzip: ["-z"]
        case .none: []
        }
    }

    /// Writes an archive of `build` into `path`, compressed as `kind`.
    @discardableResult
    func writeArchive(_ path: String, _ kind: CompressionKind, _ build: (TarWriter) throws -> Void) throws -> FileSink {
        let file = try FileSink(path: path)
        let writer = try TarWriter(sink: Compression.compressingSink(kind, level: nil, next: file))
        try build(writer)
        try writer.finish()
        #expect(file.finished)
        return file
    }

    @Test(arguments: CompressionKind.allCases)
    func gnuTarExtractsOurArchiveIdentically(kind: CompressionKind) async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        try await ArchiveFixture.makeTree(at: tmp.file("src"))
        let archive = tmp.file("backup" + kind.fileSuffix)
        var summary = TarTreeSummary()
        var lastProgress = 0
        try writeArchive(archive, kind) { writer in
            summary = try writer.addTree(at: tmp.file("src"), as: "files/tree") { lastProgress = $0 }
            try writer.addBytes(Array("{\"v\":1}\n".utf8), as: "manifest.json", mode: 0o600, modified: 1_700_000_000)
        }
        #expect(summary.files == 8)
        #expect(summary.directories == 7)
        #expect(summary.symlinks == 3)
        #expect(summary.skipped.isEmpty && summary.changedFiles.isEmpty)
        #expect(summary.bytes == lastProgress && summary.bytes > 5 << 20)

        try ArchiveFixture.mkdir(tmp.file("out"))
        let listing = try await Runner().capture(Command(argv: ["tar"] + Self.tarFlags(kind) + ["-tf", archive]))
        #expect(listing.stderrText == "")
        #expect(listing.stdoutText.split(separator: "\n").contains("files/tree/ünïcødé-日本語-файл.txt"))
        let run = try await Runner().capture(
            Command(argv: ["tar"] + Self.tarFlags(kind) + ["-xf", archive, "-C", tmp.file("out")]))
        #expect(run.stderrText == "")
        let expected = try await ArchiveFixture.manifest(tmp.file("src"))
        #expect(expected.split(separator: "\n").count == 17)
        #expect(try await ArchiveFixture.manifest(tmp.file("out/files/tree")) == expected)
        #expect(try ArchiveFixture.readFile(tmp.file("out/manifest.json")) == Array("{\"v\":1}\n".utf8))
    }

    @Test(arguments: ["gnu", "posix"])
    func weExtractGNUTarArchivesIdentically(format: String) async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        try await ArchiveFixture.makeTree(at: tmp.file("src"))
        let archive = tmp.file("gnu.tar.zst")
        _ = try await Runner().capture(
            Command("tar", "--zstd", "--format=\(format)", "-cf", archive, "-C", tmp.file("src"), "."))
        let names = try await Runner().capture(Command("tar", "--zstd", "-tf", archive)).stdoutText
            .split(separator: "\n")

        try ArchiveFixture.mkdir(tmp.file("out"))
        var seen: [TarEntryInfo] = []
        let summary = try TarReader(source: ZstdDecompressingSource(FileSource(path: archive)))
            .extract(into: tmp.file("out")) { info in
                seen.append(info)
                return .extract
            }
        #expect(summary.entries == names.count)
        #expect(try await ArchiveFixture.manifest(tmp.file("out")) == ArchiveFixture.manifest(tmp.file("src")))
        #expect(seen.first?.path == "." && seen.first?.kind == .directory)
        #expect(seen.contains(TarEntryInfo(path: "rel-link", kind: .symlink, size: 0, mode: 0o777, linkTarget: "a/b/c/text.txt")))
        #expect(seen.contains { $0.path == "a/random.bin" && $0.kind == .file && $0.size == 5 << 20 })
        #expect(seen.contains { $0.path == "run.sh" && $0.mode == 0o755 })
        let hard = seen.filter { $0.kind == .hardlink }
        #expect(hard.count == 1)
        #expect(["hard", "a/b/c/text.txt"].contains(hard.first?.linkTarget ?? ""))
    }

    @Test func ourArchiveReadsBackWithListAndStream() async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        try await ArchiveFixture.makeTree(at: tmp.file("src"))
        let sink = BytesSink()
        let writer = try TarWriter(sink: sink)
        try writer.addTree(at: tmp.file("src"), as: "files/tree")
        try writer.addFile(at: tmp.file("src/run.sh"), as: "extra/run.sh")
        try writer.finish()
        #expect(sink.isFinished)

        var listed: [String] = []
        let listing = try TarReader(source: BytesSource(sink.bytes)).list { listed.append($0.path) }
        #expect(listing.entries == 19)
        #expect(listed.first == "files/tree")
        #expect(listed.last == "extra/run.sh")
        #expect(listed.contains("files/tree/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 70)
            + "/" + String(repeating: "f", count: 150)))

        try ArchiveFixture.mkdir(tmp.file("out"))
        let streamed = BytesSink()
        let summary = try TarReader(source: BytesSource(sink.bytes)).extract(into: tmp.file("out")) { info in
            if info.path == "files/tree/a/random.bin" { return .stream(streamed) }
            if info.path.hasPrefix("extra") { return .skip }
            return .extract
        }
        #expect(summary.entries == 19)
        #expect(summary.bytes == listing.bytes)
        #expect(!streamed.isFinished)
        #expect(streamed.bytes == (try ArchiveFixture.readFile(tmp.file("src/a/random.bin"))))
        #expect(!ArchiveFixture.exists(tmp.file("out/files/tree/a/random.bin")))
        #expect(!ArchiveFixture.exists(tmp.file("out/extra")))
        #expect(try ArchiveFixture.readFile(tmp.file("out/files/tree/a/b/c/text.txt")).count == 6000)
    }

    @Test func streamPartsConcatenateToTheOriginal() async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        let dump = ArchiveFixture.pattern(20 << 20 + 4321, seed: 11)
        let archive = tmp.file("parts.tar.zst")
        var names: [String] = []
        var empty: [String] = []
        var exact: [String] = []
        try writeArchive(archive, .zstd) { writer in
            names = try writer.addStream(from: BytesSource(dump), as: "db/dump.sql")
            empty = try writer.addStream(from: BytesSource([]), as: "db/empty.sql")
            exact = try writer.addStream(from: BytesSource(Array(dump[0..<(16 << 10)])), as: "db/exact", partSize: 8 << 10)
        }
        #expect(names == ["db/dump.sql.part-000000", "db/dump.sql.part-000001", "db/dump.sql.part-000002"])
        #expect(empty == ["db/empty.sql.part-000000"])
        #expect(exact == ["db/exact.part-000000", "db/exact.part-000001"])

        try ArchiveFixture.mkdir(tmp.file("out"))
        _ = try await Runner().capture(Command("tar", "--zstd", "-xf", archive, "-C", tmp.file("out")))
        _ = try await Runner().capture(
            Command("sh", "-c", "cat db/dump.sql.part-* > joined", workingDirectory: tmp.file("out")))
        #expect(try ArchiveFixture.readFile(tmp.file("out/joined")) == dump)
        #expect(try ArchiveFixture.readFile(tmp.file("out/db/dump.sql.part-000000")).count == 8 << 20)
        #expect(try ArchiveFixture.readFile(tmp.file("out/db/empty.sql.part-000000")).isEmpty)
        #expect(try ArchiveFixture.names(in: tmp.file("out/db")).count == 6)
    }

    @Test func aCutArchiveIsTruncatedWhereverItIsCut() throws {
        let sink = BytesSink()
        let writer = try TarWriter(sink: sink)
        try writer.addBytes(ArchiveFixture.pattern(100_000), as: "big")
        try writer.addBytes(Array("small\n".utf8), as: "small")
        try writer.finish()
        let whole = sink.bytes
        #expect(try TarReader(source: BytesSource(whole)).list().entries == 2)

        // Inside the first entry's data, inside the second header, and just before the end-of-archive blocks.
        for cut in [512 + 50_000, 512 + 100_352 + 100, whole.count - 1024] {
            let error = #expect(throws: ArchiveError.self) {
                try TarReader(source: BytesSource(Array(whole[0..<cut]))).list()
            }
            guard case .truncated = error else {
                Issue.record("cut at \(cut): expected truncated, got \(String(describing: error))")
                continue
            }
        }
        // Extracting notices it too.
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        #expect(throws: ArchiveError.self) {
            try TarReader(source: BytesSource(Array(whole[0..<(whole.count - 1024)]))).extract(into: tmp.path)
        }
        // Through zstd: a cut compressed stream fails in the decompressor.
        let compressed = BytesSink()
        let zstd = try ZstdCompressingSink(next: compressed)
        try zstd.write(whole)
        try zstd.finish()
        let cutSource = try ZstdDecompressingSource(BytesSource(Array(compressed.bytes.dropLast(20))))
        #expect(throws: ArchiveError.self) { try TarReader(source: cutSource).list() }
        #expect(throws: ArchiveError.self) { try TarReader(source: BytesSource([])).list() }
        #expect(throws: ArchiveError.self) { try TarReader(source: BytesSource(ArchiveFixture.pattern(20_000))).list() }
    }

    @Test func filesThatShrinkOrGrowWhileReadStillGiveAValidArchive() async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        try ArchiveFixture.mkdir(tmp.file("src"))
        let original = ArchiveFixture.pattern(3 << 20, seed: 5)
        try ArchiveFixture.writeFile(tmp.file("src/grows"), original)
        try ArchiveFixture.writeFile(tmp.file("src/shrinks"), original)
        try ArchiveFixture.writeFile(tmp.file("src/steady"), original)
        let archive = tmp.file("changing.tar.zst")
        var summary = TarTreeSummary()
        try writeArchive(archive, .zstd) { writer in
            writer.afterHeader = { path in
                if path.hasSuffix("/shrinks") { _ = truncate(path, 1000) }
                if path.hasSuffix("/grows") {
                    let fd = open(path, O_WRONLY | O_APPEND)
                    _ = write(fd, "more bytes", 10)
                    close(fd)
                }
            }
            summary = try writer.addTree(at: tmp.file("src"), as: "src")
        }
        #expect(summary.changedFiles == [tmp.file("src/grows"), tmp.file("src/shrinks")])
        #expect(summary.bytes == 3 * original.count)

        try ArchiveFixture.mkdir(tmp.file("out"))
        let run = try await Runner().capture(Command("tar", "--zstd", "-xf", archive, "-C", tmp.file("out")))
        #expect(run.stderrText == "")
        #expect(try ArchiveFixture.readFile(tmp.file("out/src/grows")) == original)
        #expect(try ArchiveFixture.readFile(tmp.file("out/src/steady")) == original)
        let shrunk = try ArchiveFixture.readFile(tmp.file("out/src/shrinks"))
        #expect(shrunk.count == original.count)
        #expect(Array(shrunk[0..<1000]) == Array(original[0..<1000]))
        #expect(shrunk[1000...].allSatisfy { $0 == 0 })
    }

    @Test func socketsFifosAndDevicesAreSkippedAndListed() async throws {
        let tmp = try TempDirectory(prefix: "opskit-tar")
        defer { tmp.remove() }
        try ArchiveFixture.mkdir(tmp.file("src"))
        #expect(mkfifo(tmp.file("src/fifo"), 0o644) == 0)
        try ArchiveFixture.writeFile(tmp.file("src/file"), [1, 2, 3])
        let sink = BytesSink()
        let writer = try TarWriter(sink: sink)
        let summary = try writer.addTree(at: tmp.file("src"), as: "x")
        try writer.finish()
        #expect(summary.skipped == [tmp.file("src/fifo")])
        #expect(summary.files == 1 && summary.directories == 1)
        var paths: [String] = []
        try TarReader(source: BytesSource(sink.bytes)).list { paths.append($0.path) }
        #expect(paths == ["x", "x/file"])
    }

    @Test func badNamesAndAMissingTreeAreErrorsThatSayWhat() throws {
        let writer = try TarWriter(sink: BytesSink())
        for name in ["", "/abs", "a/../b", "a//b"] {
            #expect(throws: ArchiveError.self) { try writer.addBytes([], as: name) }
        }
        let error = #expect(throws: ArchiveError.self) { try writer.addTree(at: "/nonexistent/opskit", as: "x") }
        #expect(error?.description.hasPrefix("/nonexistent/opskit: cannot read it (No such file or directory)") == true)
        #expect(error?.description.contains("\n") == false)
        // The stream is broken after a failure: later calls refuse.
        #expect(throws: ArchiveError.self) { try writer.finish() }
    }
}
