#if canImport(Glibc)
import Glibc
#endif

/// A file problem in a stream stage, naming the file.
public struct FileStreamError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public let code: Int32
    public var description: String { "\(path): \(reason)" }
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
}

/// Reads a file front to back.
public final class FileSource: ByteSource {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw FileStreamError(path: path, reason: "cannot open: \(String(cString: strerror(code)))", code: code)
        }
        self.path = path
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            let code = errno
            if code == EINTR { continue }
            throw FileStreamError(path: path, reason: "read failed: \(String(cString: strerror(code)))", code: code)
        }
    }
}

/// Writes a new file (or appends to one); `finish()` fsyncs and closes it.
public final class FileSink: ByteSink {
    private var fd: Int32
    public let path: String

    public init(path: String, append: Bool = false, permissions: UInt32 = 0o600) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), mode_t(permissions))
        guard fd >= 0 else {
            let code = errno
            throw FileStreamError(path: path, reason: "cannot create: \(String(cString: strerror(code)))", code: code)
        }
        self.path = path
    }

    deinit { if fd >= 0 { close(fd) } }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            let count = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw FileStreamError(path: path, reason: "write failed: \(String(cString: strerror(code)))", code: code)
            }
            offset += count
        }
    }

    public func finish() throws {
        guard fd >= 0 else { return }
        defer { close(fd); fd = -1 }
        guard fsync(fd) == 0 else {
            let code = errno
            throw FileStreamError(path: path, reason: "fsync failed: \(String(cString: strerror(code)))", code: code)
        }
    }
}
