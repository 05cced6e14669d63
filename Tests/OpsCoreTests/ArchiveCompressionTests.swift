import OpsCore
import Shell
import Testing
import TestSupport

@Suite struct ArchiveCompressionTests {
    static let data = ArchiveFixture.pattern(3 << 20 + 12345)

    /// Compresses `data` through `sink`-making code into a file.
    func compress(_ data: [UInt8], into path: String, _ make: (ByteSink) throws -> ByteSink) throws {
        let file = try FileSink(path: path)
        let sink = try make(file)
        // Uneven chunks, as the tar writer produces them.
        var offset = 0
        var step = 1
        while offset < data.count {
            let end = min(data.count, offset + step)
            try data[offset..<end].withUnsafeBytes { try sink.write($0) }
            offset = end
            step = step * 7 % 300_007 + 1
        }
        try sink.finish()
        #expect(file.finished)
    }

    @Test(arguments: [0, 1, 2])
    func zstdCLIDecompressesOurStream(workers: Int) async throws {
        let tmp = try TempDirectory(prefix: "opskit-zstd")
        defer { tmp.remove() }
        let path = tmp.file("data.zst")
        try compress(Self.data, into: path) { try ZstdCompressingSink(level: 3, workers: workers, next: $0) }
        let out = try await Runner().capture(Command("zstd", "-d", "-c", path), limit: 64 << 20)
        #expect(out.stdout == Self.data)
        _ = try await Runner().capture(Command("zstd", "-t", path))  // checksums included and valid
        #expect(try ArchiveFixture.readFile(path).count < Self.data.count)
    }

    @Test(arguments: [1, 2, 3])
    func smallBlocksMakeManyFramesInOrderThatZstdReadsAsOneStream(workers: Int) async throws {
        let tmp = try TempDirectory(prefix: "opskit-zstd")
        defer { tmp.remove() }
        let path = tmp.file("data.zst")
        try compress(Self.data, into: path) {
            try ZstdCompressingSink(level: 3, workers: workers, blockSize: 64 << 10, next: $0)
        }
        let out = try await Runner().capture(Command("zstd", "-d", "-c", path), limit: 64 << 20)
        #expect(out.stdout == Self.data)
        // One frame per 64 KiB block, each with its checksum.
        let listing = try await Runner().capture(Command("zstd", "-lv", path))
        let frames = listing.stdoutText.split(separator: "\n").first { $0.contains("# Zstandard Frames") }
        let expected = (Self.data.count + (64 << 10) - 1) / (64 << 10)
        #expect(frames?.hasSuffix(" \(expected)") == true, "\(listing.stdoutText)")
        #expect(try ZstdDecompressingSource(FileSource(path: path)).readAll() == Self.data)
    }

    @Test func anEmptyStreamIsOneEmptyFrame() async throws {
        for workers in [0, 2] {
            let sink = BytesSink()
            let zstd = try ZstdCompressingSink(level: 3, workers: workers, next: sink)
            try zstd.finish()
            #expect(sink.isFinished)
            #expect(!sink.bytes.isEmpty)
            #expect(try ZstdDecompressingSource(BytesSource(sink.bytes)).readAll() == [])
        }
    }

    struct Refused: Error {}

    /// A sink that takes `allowed` writes, then fails.
    final class FailingSink: ByteSink {
        var allowed: Int
        init(allowed: Int) { self.allowed = allowed }
        func write(_ chunk: UnsafeRawBufferPointer) throws {
            if allowed == 0 { throw Refused() }
            allowed -= 1
        }
        func finish() throws {}
    }

    @Test func aFailingNextStageStopsTheWorkersAndEveryLaterWriteFails() throws {
        let zstd = try ZstdCompressingSink(level: 1, workers: 2, blockSize: 4096, next: FailingSink(allowed: 3))
        #expect(throws: Refused.self) {
            for _ in 0..<100 { try zstd.write(Array(Self.data[0..<5000])) }
        }
        #expect(throws: ArchiveError.self) { try zstd.write([1, 2, 3]) }
        #expect(throws: ArchiveError.self) { try zstd.finish() }
        // Dropping it joins the workers (the test would hang otherwise).
    }

    @Test func blockSizeBelowAPageIsRefused() {
        #expect(throws: ArchiveError.self) { try ZstdCompressingSink(blockSize: 100, next: BytesSink()) }
    }

    @Test func weDecompressZstdCLIOutputIncludingConcatenatedFrames() async throws {
        let tmp = try TempDirectory(prefix: "opskit-zstd")
        defer { tmp.remove() }
        let first = Array(Self.data[0..<1_000_000])
        let second = Array(Self.data[1_000_000...])
        try ArchiveFixture.writeFile(tmp.file("one"), first)
        try ArchiveFixture.writeFile(tmp.file("two"), second)
        _ = try await Runner().capture(Command("zstd", "-q", "-19", tmp.file("one"), "-o", tmp.file("one.zst")))
        _ = try await Runner().capture(Command("zstd", "-q", "-1", tmp.file("two"), "-o", tmp.file("two.zst")))
        let joined = try ArchiveFixture.readFile(tmp.file("one.zst")) + ArchiveFixture.readFile(tmp.file("two.zst"))
        let source = try ZstdDecompressingSource(BytesSource(joined))
        #expect(try source.readAll() == Self.data)
        // Small reads exercise the output the decoder still holds between calls.
        let again = try ZstdDecompressingSource(BytesSource(joined))
        var collected: [UInt8] = []
        var small = [UInt8](repeating: 0, count: 777)
        while true {
            let count = try small.withUnsafeMutableBytes { try again.read(into: $0) }
            if count == 0 { break }
            collected += small[0..<count]
        }
        #expect(collected == Self.data)
    }

    @Test func aFrameWithAHugeWindowIsRefusedWithAHint() async throws {
        let tmp = try TempDirectory(prefix: "opskit-zstd")
        defer { tmp.remove() }
        try ArchiveFixture.writeFile(tmp.file("data"), Array(Self.data[0..<100_000]))
        // From a pipe the size is unknown, so the frame declares the whole 64 MiB window.
        _ = try await Runner().capture(
            Command("sh", "-c", "cat data | zstd -q --long=26 -c > data.zst", workingDirectory: tmp.path))
        let error = #expect(throws: ArchiveError.self) {
            _ = try ZstdDecompressingSource(FileSource(path: tmp.file("data.zst"))).readAll()
        }
        #expect(error?.description.contains("--long") == true)
        let plain = try await Runner().capture(Command("zstd", "-d", "-c", "--memory=128MB", tmp.file("data.zst")))
        #expect(plain.stdout == Array(Self.data[0..<100_000]))
    }

    @Test func damagedZstdIsACompressionErrorAndACutOneIsTruncated() throws {
        let sink = BytesSink()
        let zstd = try ZstdCompressingSink(level: 3, workers: 0, next: sink)
        try zstd.write(Self.data)
        try zstd.finish()
        let good = sink.bytes

        var damaged = good
        for index in stride(from: 100, to: damaged.count, by: 4096) { damaged[index] ^= 0x5a }
        let damagedError = #expect(throws: ArchiveError.self) {
            _ = try ZstdDecompressingSource(BytesSource(damaged)).readAll()
        }
        guard case .compression(let text) = damagedError else {
            Issue.record("expected a compression error, got \(String(describing: damagedError))")
            return
        }
        #expect(text.contains("zstd"))

        let garbage = ArchiveFixture.pattern(10_000, seed: 7)
        #expect(throws: ArchiveError.self) { _ = try ZstdDecompressingSource(BytesSource(garbage)).readAll() }

        let cut = Array(good[0..<good.count / 2])
        #expect(throws: ArchiveError.truncated("the zstd stream stops inside a frame")) {
            _ = try ZstdDecompressingSource(BytesSource(cut)).readAll()
        }
        #expect(throws: ArchiveError.truncated("the zstd stream is empty")) {
            _ = try ZstdDecompressingSource(BytesSource([])).readAll()
        }
    }

    @Test func gzipCLIDecompressesOurStream() async throws {
        let tmp = try TempDirectory(prefix: "opskit-gzip")
        defer { tmp.remove() }
        let path = tmp.file("data.gz")
        try compress(Self.data, into: path) { try GzipCompressingSink(level: 6, next: $0) }
        let out = try await Runner().capture(Command("gzip", "-d", "-c", path), limit: 64 << 20)
        #expect(out.stdout == Self.data)
        #expect(out.stderrText == "")  // no "trailing garbage"
    }

    @Test func weDecompressGzipCLIOutputIncludingConcatenatedMembers() async throws {
        let tmp = try TempDirectory(prefix: "opskit-gzip")
        defer { tmp.remove() }
        try ArchiveFixture.writeFile(tmp.file("one"), Array(Self.data[0..<1_000_000]))
        try ArchiveFixture.writeFile(tmp.file("two"), Array(Self.data[1_000_000...]))
        _ = try await Runner().capture(Command("gzip", "-q", "-9", tmp.file("one")))
        _ = try await Runner().capture(Command("gzip", "-q", "-1", tmp.file("two")))
        let joined = try ArchiveFixture.readFile(tmp.file("one.gz")) + ArchiveFixture.readFile(tmp.file("two.gz"))
        #expect(try GzipDecompressingSource(BytesSource(joined)).readAll() == Self.data)
    }

    @Test func notGzipAndCutGzipAreErrors() throws {
        let sink = BytesSink()
        let gzip = try GzipCompressingSink(next: sink)
        try gzip.write(Self.data)
        try gzip.finish()
        #expect(throws: ArchiveError.self) {
            _ = try GzipDecompressingSource(BytesSource(ArchiveFixture.pattern(10_000, seed: 3))).readAll()
        }
        #expect(throws: ArchiveError.self) {
            _ = try GzipDecompressingSource(BytesSource(Array(sink.bytes[0..<sink.bytes.count / 2]))).readAll()
        }
        #expect(try GzipDecompressingSource(BytesSource(sink.bytes)).readAll() == Self.data)
    }

    @Test func compressionFactoryAndLevels() throws {
        #expect(CompressionKind.allCases.map(\.fileSuffix) == [".tar.zst", ".tar.gz", ".tar"])
        for kind in CompressionKind.allCases {
            let sink = BytesSink()
            let compressing = try Compression.compressingSink(kind, level: nil, next: sink)
            try compressing.write(Self.data)
            try compressing.finish()
            #expect(sink.isFinished)
            let back = try Compression.decompressingSource(kind, BytesSource(sink.bytes)).readAll()
            #expect(back == Self.data, "\(kind)")
        }
        #expect(throws: ArchiveError.self) { try ZstdCompressingSink(level: 0, next: BytesSink()) }
        #expect(throws: ArchiveError.self) { try ZstdCompressingSink(level: 20, next: BytesSink()) }
        #expect(throws: ArchiveError.self) { try GzipCompressingSink(level: 10, next: BytesSink()) }
    }
}
