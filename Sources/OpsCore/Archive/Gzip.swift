#if canImport(Glibc)
import Glibc
#endif
import CArchive

/// Compresses into a gzip stream (`gzip -d` reads it), on the calling thread: libarchive's gzip filter
/// (zlib) over its "raw" format, so no C library beyond libarchive is needed.
public final class GzipCompressingSink: ByteSink {
    private let archive: OpaquePointer
    private let output: ArchiveOutput
    private var finished = false

    public init(level: Int = 6, next: ByteSink) throws {
        guard (1...9).contains(level) else {
            throw ArchiveError.invalidArgument("gzip level \(level) is outside 1...9: use 6 (the default) up to 9 (smallest)")
        }
        guard let archive = archive_write_new() else {
            throw ArchiveError.compression(libarchiveMissing(or: "libarchive could not allocate a gzip writer (out of memory?)"))
        }
        self.archive = archive
        output = ArchiveOutput(next)
        // No blocking: a padded last block would be trailing garbage after the gzip member.
        guard archive_write_add_filter_gzip(archive) == ARCHIVE_OK,
            archive_write_set_filter_option(archive, "gzip", "compression-level", "\(level)") == ARCHIVE_OK,
            archive_write_set_format_raw(archive) == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
            output.open(archive) == ARCHIVE_OK
        else { throw failure("could not start") }
        guard let entry = archive_entry_new() else { throw failure("could not start") }
        defer { archive_entry_free(entry) }
        archive_entry_set_filetype(entry, opskit_ae_ifreg())
        archive_entry_set_pathname(entry, "data")
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure("could not start") }
    }

    deinit {
        output.abandoned = !finished
        archive_write_free(archive)
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ArchiveError.compression("gzip: write after the stream was finished") }
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        var offset = 0
        while offset < chunk.count {
            let written = archive_write_data(archive, base + offset, chunk.count - offset)
            guard written > 0 else { throw failure("failed") }
            offset += written
        }
    }

    public func finish() throws {
        guard !finished else { return }
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("failed at the end") }
        finished = true
        try output.sink.finish()
    }

    private func failure(_ what: String) -> any Error {
        if let error = output.error { return error }
        return ArchiveError.compression("gzip compression \(what): \(libarchiveMessage(archive))")
    }
}

/// Decompresses a gzip stream (several concatenated members too, as `gzip -d` accepts) with libarchive.
public final class GzipDecompressingSource: ByteSource {
    private let archive: OpaquePointer
    private let input: ArchiveInput
    private var done = false

    public init(_ source: ByteSource) throws {
        guard let archive = archive_read_new() else {
            throw ArchiveError.compression(libarchiveMissing(or: "libarchive could not allocate a gzip reader (out of memory?)"))
        }
        self.archive = archive
        input = ArchiveInput(source)
        guard archive_read_support_filter_gzip(archive) == ARCHIVE_OK,
            archive_read_support_format_raw(archive) == ARCHIVE_OK
        else { throw failure() }
        guard input.open(archive) == ARCHIVE_OK else { throw failure() }
        var entry: OpaquePointer?
        guard archive_read_next_header(archive, &entry) == ARCHIVE_OK else { throw failure() }
        // The raw format takes any bytes; without the gzip filter in front they were not gzip at all.
        guard archive_filter_code(archive, 0) == ARCHIVE_FILTER_GZIP else {
            throw ArchiveError.compression(
                "the stream is not gzip data (no gzip header); nothing was decompressed — check that the file is the "
                    + ".tar.gz it is named as (`file` or `gzip -t` tell)")
        }
    }

    deinit { archive_read_free(archive) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !done, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count = archive_read_data(archive, base, buffer.count)
        if count < 0 {
            done = true
            throw failure()
        }
        if count == 0 { done = true }
        return count
    }

    private func failure() -> any Error {
        if let error = input.error { return error }
        let message = libarchiveMessage(archive)
        if message.lowercased().contains("truncated") || message.lowercased().contains("premature") {
            return ArchiveError.truncated("the gzip stream ends early: \(message)")
        }
        return ArchiveError.compression(
            "the gzip stream is damaged (\(message)); nothing after that point was read — restore an older backup, "
                + "or check the file with `gzip -t`")
    }
}
