#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a file could not be written; the original file, if any, is unchanged unless the reason says so.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public var description: String { "cannot write \(path): \(reason)" }
}

/// Crash-safe whole-file writes: readers see the old content or the new, never a mix or a truncated file.
///
/// The content goes to a temporary file in the same directory (so `rename` stays on one filesystem and is
/// atomic), is fsynced, renamed over the target, and the directory is fsynced so the rename itself survives
/// a power cut. On failure before the rename the temporary file is removed and the target untouched.
/// A symbolic link at `path` is replaced by the file, not followed.
public enum AtomicFile {
    /// The whole content of the regular file at `path`, or nil when it cannot be opened or read (errno says
    /// why). For the small files tools read on every run (opskit.yml, state); FoundationEssentials'
    /// FileManager does the same but its first use costs a short-lived tool ~0.1 ms.
    public static func read(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            errno = EISDIR
            return nil
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, min(Int(info.st_size) + 1, limit)))
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
            guard bytes.count <= limit else {
                errno = EFBIG
                return nil
            }
        }
    }

    /// Writes `bytes` to `path` with exactly `permissions` (the umask does not apply).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, permissions: UInt32 = 0o644) throws {
        let directory = directoryName(of: path)
        let name = baseName(of: path)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw AtomicFileError(path: path, reason: "the path names a directory, not a file")
        }
        let tempPath = try writeTemporary(bytes, nextTo: path, permissions: permissions)
        guard rename(tempPath, path) == 0 else {
            let code = errno
            unlink(tempPath)
            throw AtomicFileError(path: path, reason: "replacing the file failed: \(errnoText(code))")
        }
        try syncDirectory(directory, path: path)
    }

    /// Writes `text` as UTF-8 to `path`; see ``write(_:to:permissions:)-(some Collection<UInt8>,_,_)``.
    public static func write(_ text: String, to path: String, permissions: UInt32 = 0o644) throws {
        try write(Array(text.utf8), to: path, permissions: permissions)
    }

    /// Writes `bytes` to a new, fsynced, closed temporary file in `path`'s directory and returns its path;
    /// on failure nothing is left behind. FileLock links this file into place instead of renaming it.
    static func writeTemporary(_ bytes: some Collection<UInt8>, nextTo path: String, permissions: UInt32) throws -> String {
        let (fd, tempPath) = try createTemporary(in: directoryName(of: path), for: baseName(of: path), target: path)
        var open = true
        var done = false
        defer {
            if open { close(fd) }
            if !done { unlink(tempPath) }
        }
        func fail(_ step: String, _ code: Int32 = errno) -> AtomicFileError {
            AtomicFileError(path: path, reason: "\(step) failed: \(errnoText(code))")
        }
        guard fchmod(fd, mode_t(permissions)) == 0 else { throw fail("setting permissions") }
        let code = writeFully(fd, Array(bytes))
        guard code == 0 else { throw fail("writing", code) }
        guard fsync(fd) == 0 else { throw fail("fsync") }
        open = false
        // close can report a deferred write error (NFS); the data would then not be what we think.
        guard close(fd) == 0 else { throw fail("closing the temporary file") }
        done = true
        return tempPath
    }

    private static func createTemporary(in directory: String, for name: String, target: String) throws -> (Int32, String) {
        // A dot-name so a crash's leftover does not look like real content to globbing tools.
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard fd >= 0 else {
            let code = errno
            let reason = code == ENOENT || code == ENOTDIR
                ? "the directory \(directory) does not exist"
                : "cannot create a temporary file in \(directory): \(errnoText(code))"
            throw AtomicFileError(path: target, reason: reason)
        }
        // Not inherited by processes other threads spawn meanwhile (mkostemp is not visible from Swift).
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let tempPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (fd, tempPath)
    }

    static func syncDirectory(_ directory: String, path: String) throws {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else {
            throw AtomicFileError(path: path, reason: "replaced, but opening \(directory) to fsync it failed: \(errnoText(errno))")
        }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else {
            throw AtomicFileError(path: path, reason: "replaced, but fsync of \(directory) failed (the change may not survive a crash): \(errnoText(errno))")
        }
    }
}

extension AtomicFile {
    /// Best-effort directory fsync for callers whose operation already succeeded and cannot be undone.
    static func syncDirectoryQuietly(_ directory: String) {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { return }
        _ = fsync(dfd)
        close(dfd)
    }
}
