#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The C library's text for an errno value, e.g. "No such file or directory".
func errnoText(_ code: Int32) -> String {
    // glibc returns static strings for known codes; only unknown ones use a per-thread buffer.
    strerror(code).map { String(cString: $0) } ?? "errno \(code)"
}

/// The directory part of a path, "." for a bare name, "/" for a file in the root.
func directoryName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = path[..<slash]
    return dir.isEmpty ? "/" : String(dir)
}

/// The last path component.
func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

/// Writes every byte to `fd`, resuming after short writes and EINTR; returns 0 or the errno that stopped it.
func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
        if n > 0 {
            offset += n
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            return n < 0 ? errno : EIO
        }
    }
    return 0
}
