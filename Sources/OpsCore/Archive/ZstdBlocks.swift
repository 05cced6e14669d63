#if canImport(Glibc)
import Glibc
#endif
import CZstd

/// Compresses fixed-size blocks into independent zstd frames on worker threads; the frames leave in the
/// order the blocks came in, on the caller's thread.
///
/// Worker `k` owns slot `k` (its context, an input block and an output buffer) and block `n` goes to slot
/// `n % workers`, so a slot is handed its next block only after its previous frame was written: that keeps
/// the order, and bounds memory to `workers × (block + compressBound(block)) + block`, whatever the size of
/// the stream. A compression error surfaces on the caller's thread, at the latest in `finish()`.
final class ZstdBlockCompressor: @unchecked Sendable {
    private final class Slot {
        var input: UnsafeMutableRawBufferPointer
        var inputCount = 0
        let output: UnsafeMutableRawBufferPointer
        var outputCount = 0
        let context: OpaquePointer
        /// Guarded by the compressor's mutex.
        var state = State.idle
        var failure: Int = 0

        init(blockSize: Int, level: Int) throws {
            guard let context = ZSTD_createCCtx() else {
                throw ArchiveError.compression(libzstdMissing(or: "zstd could not allocate a compression context (out of memory?)"))
            }
            self.context = context
            input = .allocate(byteCount: blockSize, alignment: 64)
            output = .allocate(byteCount: ZSTD_compressBound(blockSize), alignment: 64)
            do {
                try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)))
                try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
            } catch {
                release()
                throw error
            }
        }

        func release() {
            ZSTD_freeCCtx(context)
            input.deallocate()
            output.deallocate()
        }
    }

    private enum State { case idle, queued, done }

    /// Unowned: `deinit` joins every worker before the compressor goes away.
    private final class WorkerStart {
        unowned(unsafe) let compressor: ZstdBlockCompressor
        let index: Int
        init(_ compressor: ZstdBlockCompressor, _ index: Int) {
            self.compressor = compressor
            self.index = index
        }
    }

    private let next: ByteSink
    private let blockSize: Int
    private var slots: [Slot] = []
    private var threads: [pthread_t] = []
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var stopping = false
    /// The block being filled on the caller's thread.
    private var filling: UnsafeMutableRawBufferPointer
    private var fillCount = 0
    /// How many blocks were handed to workers so far.
    private var submitted = 0
    private var broken = false

    init(level: Int, workers: Int, blockSize: Int, next: ByteSink) throws {
        self.next = next
        self.blockSize = blockSize
        filling = .allocate(byteCount: blockSize, alignment: 64)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
        do {
            for _ in 0..<max(1, workers) { slots.append(try Slot(blockSize: blockSize, level: level)) }
            for index in slots.indices { try startWorker(index) }
        } catch {
            shutDown()
            throw error
        }
    }

    deinit {
        shutDown()
        filling.deallocate()
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard !broken else { throw ArchiveError.compression("zstd: write after a failed write") }
        var offset = 0
        while offset < chunk.count {
            let count = min(chunk.count - offset, blockSize - fillCount)
            (filling.baseAddress! + fillCount).copyMemory(from: chunk.baseAddress! + offset, byteCount: count)
            fillCount += count
            offset += count
            if fillCount == blockSize { try submit() }
        }
    }

    /// Compresses what is left (an empty stream still gets one frame) and writes every frame still out.
    func finish() throws {
        guard !broken else { throw ArchiveError.compression("zstd: finish after a failed write") }
        if fillCount > 0 || submitted == 0 { try submit() }
        for offset in 0..<slots.count { try collect(slots[(submitted + offset) % slots.count]) }
    }

    /// Hands the filled block to the next slot in turn, after writing that slot's previous frame.
    private func submit() throws {
        let slot = slots[submitted % slots.count]
        do {
            try collect(slot)
        } catch {
            broken = true
            throw error
        }
        swap(&slot.input, &filling)
        slot.inputCount = fillCount
        fillCount = 0
        pthread_mutex_lock(&mutex)
        slot.state = .queued
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        submitted += 1
    }

    /// Waits for `slot`'s frame and writes it to `next`.
    private func collect(_ slot: Slot) throws {
        pthread_mutex_lock(&mutex)
        while slot.state == .queued { pthread_cond_wait(&changed, &mutex) }
        let done = slot.state == .done
        slot.state = .idle
        pthread_mutex_unlock(&mutex)
        guard done else { return }
        if slot.failure != 0 {
            broken = true
            throw ArchiveError.compression("zstd compression failed: \(String(cString: ZSTD_getErrorName(slot.failure)))")
        }
        do {
            try next.write(UnsafeRawBufferPointer(rebasing: slot.output[0..<slot.outputCount]))
        } catch {
            broken = true
            throw error
        }
    }

    private func work(_ index: Int) {
        let slot = slots[index]
        pthread_mutex_lock(&mutex)
        while true {
            while slot.state != .queued && !stopping { pthread_cond_wait(&changed, &mutex) }
            if stopping { break }
            pthread_mutex_unlock(&mutex)
            let result = ZSTD_compress2(slot.context, slot.output.baseAddress, slot.output.count,
                                        slot.input.baseAddress, slot.inputCount)
            pthread_mutex_lock(&mutex)
            if ZSTD_isError(result) != 0 {
                slot.failure = result
            } else {
                slot.outputCount = result
            }
            slot.state = .done
            pthread_cond_broadcast(&changed)
        }
        pthread_mutex_unlock(&mutex)
    }

    private func startWorker(_ index: Int) throws {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 1 << 20)
        var handle = pthread_t()
        let context = Unmanaged.passRetained(WorkerStart(self, index)).toOpaque()
        let result = pthread_create(&handle, &attributes, { raw in
            if let raw {
                let start = Unmanaged<WorkerStart>.fromOpaque(raw).takeRetainedValue()
                start.compressor.work(start.index)
            }
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<WorkerStart>.fromOpaque(context).release()
            throw ThreadStartError(code: result)
        }
        threads.append(handle)
    }

    /// Stops the workers (a block in progress is finished first) and frees the slots.
    private func shutDown() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads = []
        for slot in slots { slot.release() }
        slots = []
    }
}
