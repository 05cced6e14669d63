#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A file descriptor we own and close exactly once, whichever path (spawned, failed, cancelled) gets there first.
final class OwnedDescriptor: Sendable {
    let rawValue: CInt
    private let open = Mutex(true)

    init(_ rawValue: CInt) { self.rawValue = rawValue }

    deinit { close() }

    func close() {
        let wasOpen = open.withLock { isOpen in
            defer { isOpen = false }
            return isOpen
        }
        if wasOpen { _ = Glibc.close(rawValue) }
    }

    /// `/dev/null` for reading: what a stage reads when nothing feeds it.
    static func devNull() throws -> OwnedDescriptor {
        let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(operation: "open /dev/null", errno: errno) }
        return OwnedDescriptor(fd)
    }
}

/// An OS pipe: what one pipeline stage writes, the next reads.
struct OSPipe: Sendable {
    let read: OwnedDescriptor
    let write: OwnedDescriptor

    init() throws {
        var fds: [CInt] = [-1, -1]
        // O_CLOEXEC: stages spawned concurrently must not inherit each other's ends, or a reader never sees EOF.
        guard Self.pipeCloexec(&fds) == 0 else { throw PipeError(operation: "pipe", errno: errno) }
        read = OwnedDescriptor(fds[0])
        write = OwnedDescriptor(fds[1])
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<CInt>?, CInt) -> CInt

    /// `pipe2(O_CLOEXEC)`; Glibc's module map hides it (it is a GNU extension), so it is looked up at run time.
    private static func pipeCloexec(_ fds: inout [CInt]) -> CInt {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") {
            let pipe2 = unsafeBitCast(symbol, to: Pipe2.self)
            return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress, O_CLOEXEC) }
        }
        // Not atomic: a spawn racing on another thread could inherit these ends for the instant between calls.
        guard pipe(&fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }
}

/// A system call that failed while wiring a pipeline, before any stage ran.
struct PipeError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32
    var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
