#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Receives a stream of bytes chunk by chunk. One thread at a time drives a sink; `finish` is called once,
/// after the last `write`, and flushes whatever the sink still holds into the next stage (and finishes it).
/// A sink that is abandoned (an error upstream) is never finished; sinks that own resources offer `abort`.
public protocol ByteSink: AnyObject {
    func write(_ chunk: UnsafeRawBufferPointer) throws
    func finish() throws
}

/// Produces a stream of bytes on demand. `read` fills up to `buffer.count` bytes and returns how many;
/// 0 means the end of the stream (and every later call returns 0 too).
public protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSink {
    /// Writes an array's bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

extension ByteSource {
    /// Copies the whole rest of the stream into `sink` (without finishing it); returns the byte count.
    @discardableResult
    public func copy(to sink: ByteSink, bufferSize: Int = 1 << 20) throws -> Int {
        if let chunked = self as? ChunkedByteSource {
            var total = 0
            while let chunk = try chunked.nextChunk() {
                try sink.write(chunk)
                total += chunk.count
            }
            return total
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let count = try read(into: buffer)
            if count == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += count
        }
    }

    /// Reads the whole rest of the stream into memory (tests and small objects only).
    public func readAll(limit: Int = 256 << 20) throws -> [UInt8] {
        let sink = BytesSink(limit: limit)
        try copy(to: sink, bufferSize: 64 << 10)
        return sink.bytes
    }

    /// Reads exactly `count` bytes, or fewer only at the end of the stream.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }
}

/// A stream that outgrew what a stage may hold in memory.
public struct StreamLimitError: Error, CustomStringConvertible {
    public let limit: Int
    public var description: String { "the stream is larger than \(limit) bytes" }
}

/// Collects everything into memory, up to `limit` bytes.
public final class BytesSink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public private(set) var isFinished = false
    private let limit: Int

    public init(limit: Int = .max) { self.limit = limit }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else { throw StreamLimitError(limit: limit) }
        bytes.append(contentsOf: chunk)
    }

    public func finish() throws { isFinished = true }
}

/// Serves bytes from memory.
public final class BytesSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[offset..<offset + count]))
        }
        offset += count
        return count
    }
}

/// Passes every byte on to `next` while counting it and computing its SHA-256.
public final class DigestSink: ByteSink {
    private let next: ByteSink?
    private var hasher = SHA256()
    public private(set) var byteCount = 0
    /// Set by `finish`: lowercase hex SHA-256 of everything written.
    public private(set) var sha256Hex: String?

    /// With no `next`, only counts and hashes (verification).
    public init(next: ByteSink? = nil) { self.next = next }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: chunk)
        byteCount += chunk.count
        try next?.write(chunk)
    }

    public func finish() throws {
        sha256Hex = Self.hex(hasher.finalize())
        try next?.finish()
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Hashes and counts what is read through it.
public final class DigestSource: ByteSource {
    private let source: ByteSource
    private var hasher = SHA256()
    public private(set) var byteCount = 0
    private var digest: String?

    public init(_ source: ByteSource) { self.source = source }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try source.read(into: buffer)
        if count > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            byteCount += count
        }
        return count
    }

    /// Lowercase hex SHA-256 of everything read so far; call once, at the end.
    public func finalizeHex() -> String {
        if let digest { return digest }
        let hex = DigestSink.hex(hasher.finalize())
        digest = hex
        return hex
    }
}
