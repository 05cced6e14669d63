#if canImport(Glibc)
import Glibc
#endif
import CZstd

/// Why a context allocation failed: libzstd is loaded on first use (CLazyLoad), so a missing library shows up
/// as a failed allocation and is named here with the package to install; otherwise `fallback`.
func libzstdMissing(or fallback: String) -> String {
    opskit_zstd_unavailable().map { String(cString: $0) } ?? fallback
}

/// Compresses into zstd frames with checksums (`zstd -d` and `zstd -t` read them).
///
/// Level 1...19. With `workers` 0 it compresses on the calling thread into one frame; otherwise (`nil` is one
/// worker per online CPU) it cuts the stream into blocks of `blockSize` bytes and compresses each on a worker
/// thread of its own into an independent frame, written in order (what `pzstd` does; `zstd -d` reads
/// concatenated frames as one stream).
///
/// Why not libzstd's own multithreading: its jobs must be small for its memory to stay small, and small jobs
/// cost time. Measured on the 1 GiB bench set, 2 cores: `zstd -T2 -3 -B2M` 6.8 s CPU at 25 MiB RSS,
/// `-B8M` (its default) 5.6 s at 72 MiB. Independent 4 MiB frames here hold exactly workers × (block + bound)
/// + one block being filled: 21 MiB with two workers, at the speed of the large jobs, for a ratio ~1 % lower.
public final class ZstdCompressingSink: ByteSink {
    private let next: ByteSink
    private let single: SingleFrame?
    private let blocks: ZstdBlockCompressor?
    private var finished = false

    /// Input per frame when compressing on workers.
    public static let defaultBlockSize = 4 << 20

    /// The workers a `nil` asks for: one per online CPU.
    static var onlineCPUs: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    public init(level: Int = 3, workers: Int? = nil, blockSize: Int = ZstdCompressingSink.defaultBlockSize,
                next: ByteSink) throws {
        guard (1...19).contains(level) else {
            throw ArchiveError.invalidArgument(
                "zstd level \(level) is outside 1...19: use 3 (the default, fast) up to 19 (smallest, slowest)")
        }
        guard blockSize >= 4096 else {
            throw ArchiveError.invalidArgument("zstd block size \(blockSize) is below 4096 bytes")
        }
        self.next = next
        let threads = min(max(0, workers ?? Self.onlineCPUs), 64)
        if threads == 0 {
            single = try SingleFrame(level: level)
            blocks = nil
        } else {
            single = nil
            blocks = try ZstdBlockCompressor(level: level, workers: threads, blockSize: blockSize, next: next)
        }
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ArchiveError.compression("zstd: write after the stream was finished") }
        guard chunk.count > 0 else { return }
        if let blocks {
            try blocks.write(chunk)
        } else if let single {
            try single.write(chunk, to: next)
        }
    }

    public func finish() throws {
        guard !finished else { return }
        if let blocks {
            try blocks.finish()
        } else if let single {
            try single.finish(to: next)
        }
        finished = true
        try next.finish()
    }

    /// One streaming frame on the calling thread.
    final class SingleFrame {
        private let context: OpaquePointer
        private let output: UnsafeMutableRawBufferPointer

        init(level: Int) throws {
            guard let context = ZSTD_createCCtx() else {
                throw ArchiveError.compression(libzstdMissing(or: "zstd could not allocate a compression context (out of memory?)"))
            }
            self.context = context
            output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
            try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)))
            try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        }

        deinit {
            ZSTD_freeCCtx(context)
            output.deallocate()
        }

        func write(_ chunk: UnsafeRawBufferPointer, to next: ByteSink) throws {
            var input = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
            while input.pos < input.size {
                _ = try step(&input, ZSTD_e_continue, next)
            }
        }

        func finish(to next: ByteSink) throws {
            var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            while try step(&input, ZSTD_e_end, next) != 0 {}
        }

        /// One ZSTD_compressStream2 call; passes on what it produced and returns what remains to flush.
        private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective, _ next: ByteSink) throws -> Int {
            var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, directive)
            try zstdCheck(remaining)
            if out.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
            return remaining
        }
    }
}

/// Throws libzstd's error for a failed call.
func zstdCheck(_ code: Int) throws {
    if ZSTD_isError(code) != 0 {
        throw ArchiveError.compression("zstd compression failed: \(String(cString: ZSTD_getErrorName(code)))")
    }
}

/// Decompresses a zstd stream (one or more concatenated frames, as `zstd -d` accepts).
///
/// Damaged or non-zstd input, and a stream that stops inside a frame, throw ``ArchiveError``; errors of the
/// underlying source pass through unchanged. Frames may use windows up to 16 MiB (every level up to 19
/// without `--long`), which bounds the memory a hostile or foreign stream can make this allocate.
public final class ZstdDecompressingSource: ByteSource {
    private let context: OpaquePointer
    private let source: ByteSource
    private let input: UnsafeMutableRawBufferPointer
    /// Where the current input is: `input`, or a chunk the source lent.
    private var inputStart: UnsafeRawPointer?
    private let chunked: ChunkedByteSource?
    private var inputEnd = 0
    private var inputPosition = 0
    private var sourceEnded = false
    private var sawInput = false
    private var mayHoldOutput = false
    /// libzstd's last answer after progress: 0 when the frame so far is complete.
    private var frameRemainder = 0
    private var done = false

    public init(_ source: ByteSource) throws {
        guard let context = ZSTD_createDCtx() else {
            throw ArchiveError.compression(libzstdMissing(or: "zstd could not allocate a decompression context (out of memory?)"))
        }
        self.context = context
        self.source = source
        chunked = source as? ChunkedByteSource
        input = .allocate(byteCount: chunked == nil ? ZSTD_DStreamInSize() : 0, alignment: 16)
        inputStart = UnsafeRawPointer(input.baseAddress)
        _ = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
    }

    static let windowLogMax: Int32 = 24

    deinit {
        ZSTD_freeDCtx(context)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !done, buffer.count > 0 else { return 0 }
        while true {
            if inputPosition == inputEnd && !sourceEnded && !mayHoldOutput {
                if let chunked {
                    // The lent chunk stays valid until the next call: exactly until it is used up.
                    let chunk = try chunked.nextChunk()
                    inputStart = chunk?.baseAddress
                    inputEnd = chunk?.count ?? 0
                } else {
                    inputEnd = try source.read(into: input)
                }
                inputPosition = 0
                if inputEnd == 0 { sourceEnded = true } else { sawInput = true }
            }
            var inBuffer = ZSTD_inBuffer(src: inputStart, size: inputEnd, pos: inputPosition)
            var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
            if ZSTD_isError(result) != 0 {
                done = true
                if ZSTD_getErrorCode(result) == ZSTD_error_frameParameter_windowTooLarge {
                    throw ArchiveError.compression(
                        "the zstd stream needs a window over \(1 << (Self.windowLogMax - 20)) MiB (made with --long or "
                            + "--ultra?), more memory than a restore may take; nothing was read — decompress it with "
                            + "`zstd -d --memory=2GB` and restore from the plain tar")
                }
                throw ArchiveError.compression(
                    "the zstd stream is damaged or is not zstd data (zstd: \(String(cString: ZSTD_getErrorName(result)))); "
                        + "nothing after that point was read — restore an older backup, or check the file with `zstd -t`")
            }
            let progressed = inBuffer.pos > inputPosition || outBuffer.pos > 0
            inputPosition = inBuffer.pos
            if progressed { frameRemainder = result }
            mayHoldOutput = outBuffer.pos == outBuffer.size
            if outBuffer.pos > 0 { return outBuffer.pos }
            if sourceEnded && inputPosition == inputEnd {
                done = true
                if !sawInput {
                    throw ArchiveError.truncated("the zstd stream is empty")
                }
                if frameRemainder != 0 {
                    throw ArchiveError.truncated("the zstd stream stops inside a frame")
                }
                return 0
            }
        }
    }
}
