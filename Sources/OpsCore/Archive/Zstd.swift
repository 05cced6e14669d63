#if canImport(Glibc)
import Glibc
#endif
import CZstd

/// Compresses into zstd frames (`zstd -d` reads them), on `workers` threads of libzstd's own.
///
/// Level 1...19; `workers` 0 compresses on the calling thread, `nil` uses every online CPU. Each frame carries
/// a checksum. Memory stays bounded: the default window for the level, and 2 MiB jobs when multithreaded
/// (libzstd's default job is four windows, which at level 3 costs ~60 MiB across two workers).
public final class ZstdCompressingSink: ByteSink {
    private let context: OpaquePointer
    private let next: ByteSink
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    /// Input per zstd job. libzstd's default at level 3 (8 MiB) made a backup's peak RSS 141 MiB with two
    /// workers, 4 MiB 88 MiB, 2 MiB 61 MiB — at the same speed within noise (bench/backup, 1 GiB, 2 cores).
    static let jobSize = 2 << 20

    /// The workers a `nil` asks for: one per online CPU.
    static var onlineCPUs: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    public init(level: Int = 3, workers: Int? = nil, next: ByteSink) throws {
        guard (1...19).contains(level) else {
            throw ArchiveError.invalidArgument(
                "zstd level \(level) is outside 1...19: use 3 (the default, fast) up to 19 (smallest, slowest)")
        }
        guard let context = ZSTD_createCCtx() else {
            throw ArchiveError.compression("zstd could not allocate a compression context (out of memory?)")
        }
        self.context = context
        self.next = next
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)))
        try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        let threads = min(max(0, workers ?? Self.onlineCPUs), 64)
        // A libzstd built without threads refuses nbWorkers > 0; compressing on this thread is still right.
        if threads > 0, ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(threads))) == 0 {
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Int32(Self.jobSize))
        }
    }

    deinit {
        ZSTD_freeCCtx(context)  // joins libzstd's worker threads
        output.deallocate()
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ArchiveError.compression("zstd: write after the stream was finished") }
        guard chunk.count > 0 else { return }
        var input = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        while input.pos < input.size {
            _ = try step(&input, ZSTD_e_continue)
        }
    }

    public func finish() throws {
        guard !finished else { return }
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
        finished = true
        try next.finish()
    }

    /// One ZSTD_compressStream2 call; passes on what it produced and returns what libzstd says remains to flush.
    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws -> Int {
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &out, &input, directive)
        try Self.check(remaining)
        if out.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
        return remaining
    }

    private static func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw ArchiveError.compression("zstd compression failed: \(String(cString: ZSTD_getErrorName(code)))")
        }
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
            throw ArchiveError.compression("zstd could not allocate a decompression context (out of memory?)")
        }
        self.context = context
        self.source = source
        input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
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
                inputEnd = try source.read(into: input)
                inputPosition = 0
                if inputEnd == 0 { sourceEnded = true } else { sawInput = true }
            }
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: inputEnd, pos: inputPosition)
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
