#if canImport(Glibc)
import Glibc
#endif
import CArchive

// The plumbing between libarchive's C callbacks and our byte streams. Nothing here is public.

/// Why an allocation failed: libarchive is loaded on first use (CLazyLoad), so a missing library shows up as a
/// failed allocation and is named here with the package to install; otherwise `fallback`.
func libarchiveMissing(or fallback: String) -> String {
    opskit_archive_unavailable().map { String(cString: $0) } ?? fallback
}

/// libarchive's message for the last failure on `archive`.
func libarchiveMessage(_ archive: OpaquePointer) -> String {
    if let text = archive_error_string(archive) { return String(cString: text) }
    let code = archive_errno(archive)
    return code != 0 ? String(cString: strerror(code)) : "libarchive reported an unspecified error"
}

/// Where libarchive's reads come from: a ``ByteSource``, through one reused buffer, or straight from the
/// chunks a ``ChunkedByteSource`` lends.
/// The source's own error is kept and rethrown unchanged instead of libarchive's "read callback failed".
final class ArchiveInput {
    let source: ByteSource
    let buffer: UnsafeMutableRawBufferPointer
    var error: (any Error)?

    init(_ source: ByteSource, bufferSize: Int = 256 << 10) {
        self.source = source
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Opens `archive` (a reader with its formats and filters chosen) on this input.
    func open(_ archive: OpaquePointer) -> Int32 {
        archive_read_open(
            archive, Unmanaged.passUnretained(self).toOpaque(), nil,
            { _, client, out in
                let input = Unmanaged<ArchiveInput>.fromOpaque(client!).takeUnretainedValue()
                do {
                    if let chunked = input.source as? ChunkedByteSource {
                        // Lent until the next call, which is as long as libarchive needs it.
                        guard let chunk = try chunked.nextChunk() else { return 0 }
                        out?.pointee = chunk.baseAddress
                        return chunk.count
                    }
                    let count = try input.source.read(into: input.buffer)
                    out?.pointee = UnsafeRawPointer(input.buffer.baseAddress)
                    return count
                } catch {
                    input.error = error
                    return -1
                }
            }, nil)
    }
}

/// Where libarchive's writes go: a ``ByteSink``. Once `abandoned`, writes fail instead of reaching the sink
/// (libarchive's free would otherwise write end-of-archive blocks into a stream that already failed).
final class ArchiveOutput {
    let sink: ByteSink
    var error: (any Error)?
    var abandoned = false

    init(_ sink: ByteSink) { self.sink = sink }

    /// Opens `archive` (a writer with its format and filters chosen) on this output.
    func open(_ archive: OpaquePointer) -> Int32 {
        archive_write_open(
            archive, Unmanaged.passUnretained(self).toOpaque(), nil,
            { _, client, bytes, count in
                let output = Unmanaged<ArchiveOutput>.fromOpaque(client!).takeUnretainedValue()
                guard !output.abandoned, output.error == nil, let bytes else { return -1 }
                do {
                    try output.sink.write(UnsafeRawBufferPointer(start: bytes, count: count))
                    return count
                } catch {
                    output.error = error
                    return -1
                }
            }, nil)
    }
}

/// libarchive converts names between the thread's locale charset and UTF-8 (pax headers hold UTF-8). A Swift
/// process runs in the C locale, where every non-ASCII name would fail to convert; this thread-local switch
/// to C.UTF-8 (no `setlocale`, which is process-wide) makes names pass through as the bytes they are.
struct UTF8Locale: @unchecked Sendable {
    let handle: locale_t?
    static let shared = UTF8Locale(handle: newlocale(LC_CTYPE_MASK, "C.UTF-8", nil))

    /// Runs `body` with this thread's LC_CTYPE set to UTF-8, then restores it.
    static func run<T>(_ body: () throws -> T) rethrows -> T {
        guard let handle = shared.handle else { return try body() }
        let previous = uselocale(handle)
        defer { uselocale(previous) }
        return try body()
    }
}

/// A C string for a byte path (file names are bytes, not necessarily UTF-8).
func withCPath<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    var copy = bytes
    copy.append(0)
    return try copy.withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}

/// The bytes of a C string.
func cStringBytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
}

/// A readable form of a byte path for messages and summaries.
func displayPath(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The text of an errno value.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
