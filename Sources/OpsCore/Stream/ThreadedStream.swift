#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-over between two threads: one writes chunks, the other reads them (copied out, or lent).
/// At most `capacity` bytes wait in between, so a fast producer blocks instead of filling memory.
final class ChunkQueue: @unchecked Sendable {
    /// Memory of its own; `start..<end` is what is still unread.
    struct Chunk {
        let memory: UnsafeMutableRawBufferPointer
        var start: Int
        let end: Int
        var count: Int { end - start }
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: memory[start..<end]) }
        func free() { memory.deallocate() }
    }

    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var chunks: [Chunk] = []
    private var head = 0
    private var queued = 0
    private let capacity: Int
    private var closedForWriting = false
    private var closedForReading = false
    private var failure: (any Error)?

    init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        for chunk in chunks[head...] { chunk.free() }
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Queues a copy of `bytes`. Blocks while the queue is full; throws `ReaderGone` once the reader stopped.
    func put(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        memory.copyMemory(from: bytes)
        try put(owning: memory, count: bytes.count)
    }

    /// Queues the first `count` bytes of `memory`, which the queue now owns (and frees, on every path).
    func put(owning memory: UnsafeMutableRawBufferPointer, count: Int) throws {
        guard count > 0 else {
            memory.deallocate()
            return
        }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queued >= capacity && !closedForReading { pthread_cond_wait(&changed, &mutex) }
        if closedForReading {
            memory.deallocate()
            throw ReaderGone()
        }
        chunks.append(Chunk(memory: memory, start: 0, end: count))
        queued += count
        pthread_cond_broadcast(&changed)
    }

    /// The writer is done; `error` (if any) is what the reader gets after the queued bytes.
    func closeWriting(error: (any Error)?) {
        pthread_mutex_lock(&mutex)
        closedForWriting = true
        failure = error
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// The reader is done (or gave up): a blocked writer wakes and fails.
    func closeReading() {
        pthread_mutex_lock(&mutex)
        closedForReading = true
        for chunk in chunks[head...] { chunk.free() }
        chunks.removeAll()
        head = 0
        queued = 0
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits for a chunk; false at the end. Rethrows the writer's error. Call with the mutex held.
    private func waitForChunk() throws -> Bool {
        while head == chunks.count && !closedForWriting { pthread_cond_wait(&changed, &mutex) }
        if head == chunks.count {
            if let failure { throw failure }
            return false
        }
        return true
    }

    /// Drops consumed entries from the front now and then (the chunks themselves are freed when emptied).
    private func compact() {
        if head > 64 || head == chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// Blocks until bytes arrive or the writer closed; 0 at the end. Rethrows the writer's error.
    func take(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard try waitForChunk() else { return 0 }
        var copied = 0
        while copied < buffer.count && head < chunks.count {
            let count = min(buffer.count - copied, chunks[head].count)
            UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<copied + count])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: chunks[head].bytes[0..<count]))
            copied += count
            chunks[head].start += count
            if chunks[head].count == 0 {
                chunks[head].free()
                head += 1
            }
        }
        queued -= copied
        compact()
        pthread_cond_broadcast(&changed)
        return copied
    }

    /// The next whole chunk (or what is left of it), now owned by the caller; nil at the end.
    func takeChunk() throws -> Chunk? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard try waitForChunk() else { return nil }
        let chunk = chunks[head]
        head += 1
        queued -= chunk.count
        compact()
        pthread_cond_broadcast(&changed)
        return chunk
    }

    struct ReaderGone: Error, CustomStringConvertible {
        var description: String { "the reading side of the stream stopped" }
    }
}

/// A source that can lend its bytes a chunk at a time instead of copying them out.
public protocol ChunkedByteSource: ByteSource {
    /// The next bytes of the stream, valid until the next call on this source (of either kind); nil at the end.
    func nextChunk() throws -> UnsafeRawBufferPointer?
}

/// Runs a producer on a thread of its own; what it writes to the sink it is given comes out of this source.
///
/// This is how the backup pipeline uses both cores: tar on one thread, compression, encryption, hashing and
/// storing on the other. The producer's error (or the end of its stream) reaches the reader in order, after
/// every byte it wrote before. Closing the source early (`cancel`) makes the producer's next write throw.
public final class ThreadedSource: ChunkedByteSource, @unchecked Sendable {
    private let queue: ChunkQueue
    private var thread: pthread_t?
    /// The chunk `nextChunk` lent out last; freed on the next call.
    private var lent: ChunkQueue.Chunk?

    /// The producer's end of the stream.
    public final class Writer: ByteSink {
        let queue: ChunkQueue
        var done = false
        init(_ queue: ChunkQueue) { self.queue = queue }

        /// Queues a copy of `chunk`.
        public func write(_ chunk: UnsafeRawBufferPointer) throws { try queue.put(chunk) }

        /// Lets `body` fill a new chunk of up to `size` bytes in place and queues what it filled, without a
        /// copy. Returns the count `body` returned (0: nothing was queued, typically the end of its input).
        @discardableResult
        public func fill(upTo size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Int {
            let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            let count: Int
            do {
                count = try body(memory)
            } catch {
                memory.deallocate()
                throw error
            }
            try queue.put(owning: memory, count: count)
            return count
        }

        public func finish() throws {
            done = true
        }
    }

    private final class Job {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `produce` on a new thread. It must call `finish()` on the sink when it has written everything;
    /// returning without finishing (or throwing) ends the stream with an error for the reader.
    public init(capacity: Int = 4 << 20, stackSize: Int = 8 << 20, _ produce: @escaping (Writer) throws -> Void) throws {
        let queue = ChunkQueue(capacity: capacity)
        self.queue = queue
        let job = Job {
            let writer = Writer(queue)
            do {
                try produce(writer)
                queue.closeWriting(error: writer.done ? nil : IncompleteStream())
            } catch {
                queue.closeWriting(error: error)
            }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        var handle = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let result = pthread_create(&handle, &attributes, { raw in
            if let raw { Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().run() }
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            throw ThreadStartError(code: result)
        }
        thread = handle
    }

    deinit {
        cancel()
        lent?.free()
    }

    public func nextChunk() throws -> UnsafeRawBufferPointer? {
        lent?.free()
        lent = nil
        do {
            guard let chunk = try queue.takeChunk() else {
                join()
                return nil
            }
            lent = chunk
            return chunk.bytes
        } catch {
            join()
            throw error
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        lent?.free()
        lent = nil
        do {
            let count = try queue.take(into: buffer)
            if count == 0 { join() }
            return count
        } catch {
            join()
            throw error
        }
    }

    /// Stops reading: the producer's next write fails, and this waits for its thread to end.
    public func cancel() {
        queue.closeReading()
        join()
    }

    private func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    struct IncompleteStream: Error, CustomStringConvertible {
        var description: String { "the producing side of the stream stopped without finishing it" }
    }
}

/// The system would not start a thread.
public struct ThreadStartError: Error, CustomStringConvertible {
    public let code: Int32
    public var description: String { "could not start a thread: \(String(cString: strerror(code)))" }
}
