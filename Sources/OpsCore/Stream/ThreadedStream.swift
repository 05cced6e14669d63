#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-over between two threads: one writes chunks, the other reads them.
/// At most `capacity` bytes wait in between, so a fast producer blocks instead of filling memory.
final class ChunkQueue: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var headOffset = 0
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
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Blocks while the queue is full; throws `ChunkQueue.ReaderGone` once the reader stopped.
    func put(_ chunk: UnsafeRawBufferPointer) throws {
        guard chunk.count > 0 else { return }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queued >= capacity && !closedForReading { pthread_cond_wait(&changed, &mutex) }
        if closedForReading { throw ReaderGone() }
        chunks.append(Array(chunk))
        queued += chunk.count
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
        chunks.removeAll()
        queued = 0
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Blocks until bytes arrive or the writer closed; 0 at the end. Rethrows the writer's error.
    func take(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while head == chunks.count && !closedForWriting { pthread_cond_wait(&changed, &mutex) }
        if head == chunks.count {
            if let failure { throw failure }
            return 0
        }
        var copied = 0
        while copied < buffer.count && head < chunks.count {
            let count = chunks[head].withUnsafeBytes { chunk -> Int in
                let count = min(buffer.count - copied, chunk.count - headOffset)
                UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<copied + count])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk[headOffset..<headOffset + count]))
                return count
            }
            copied += count
            headOffset += count
            if headOffset == chunks[head].count {
                chunks[head] = [] // freed now, not when the array is compacted: that could hold 64 chunks
                head += 1
                headOffset = 0
            }
        }
        queued -= copied
        if head > 64 || head == chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        pthread_cond_broadcast(&changed)
        return copied
    }

    struct ReaderGone: Error, CustomStringConvertible {
        var description: String { "the reading side of the stream stopped" }
    }
}

/// Runs a producer on a thread of its own; what it writes to the sink it is given comes out of this source.
///
/// This is how the backup pipeline uses both cores: tar on one thread, compression, encryption, hashing and
/// storing on the other. The producer's error (or the end of its stream) reaches the reader in order, after
/// every byte it wrote before. Closing the source early (`cancel`) makes the producer's next write throw.
public final class ThreadedSource: ByteSource, @unchecked Sendable {
    private let queue: ChunkQueue
    private var thread: pthread_t?
    private var finished = false

    private final class Writer: ByteSink {
        let queue: ChunkQueue
        var done = false
        init(_ queue: ChunkQueue) { self.queue = queue }
        func write(_ chunk: UnsafeRawBufferPointer) throws { try queue.put(chunk) }
        func finish() throws {
            done = true
        }
    }

    private final class Job {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `produce` on a new thread. It must call `finish()` on the sink when it has written everything;
    /// returning without finishing (or throwing) ends the stream with an error for the reader.
    public init(capacity: Int = 4 << 20, stackSize: Int = 8 << 20, _ produce: @escaping (ByteSink) throws -> Void) throws {
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

    deinit { cancel() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
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
