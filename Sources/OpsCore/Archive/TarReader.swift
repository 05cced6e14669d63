#if canImport(Glibc)
import Glibc
#endif
import CArchive

/// Reads a tar stream (ustar, pax, GNU); the caller removes any compression first.
///
/// A reader goes through its stream once, with ``extract(into:visit:)`` or ``list(_:)``. A stream that ends
/// before the archive does (inside an entry, or before the end-of-archive blocks) throws
/// ``ArchiveError/truncated(_:)``; errors of the source pass through unchanged.
public final class TarReader {
    private let archive: OpaquePointer
    private let input: ArchiveInput
    private var used = false
    /// Whether libarchive is still in the current entry's data (a skip is allowed once per entry).
    private var inData = false

    public init(source: ByteSource) throws {
        guard let archive = archive_read_new() else {
            throw ArchiveError.io(path: "tar", reason: libarchiveMissing(or: "libarchive could not allocate a reader (out of memory?)"))
        }
        self.archive = archive
        input = ArchiveInput(source)
        guard archive_read_support_format_tar(archive) == ARCHIVE_OK,
            archive_read_support_format_gnutar(archive) == ARCHIVE_OK
        else { throw readFailure(entry: nil) }
        guard input.open(archive) == ARCHIVE_OK else { throw readFailure(entry: nil) }
    }

    deinit { archive_read_free(archive) }

    /// Extracts into `directory` (which must exist), restoring mode and mtime, and owners when running as root.
    ///
    /// Before writing an entry it refuses, with ``ArchiveError/unsafeEntry(path:reason:)`` naming it: absolute
    /// paths, `..` components, a path through a symlink, a symlink whose target is absolute or leads outside
    /// `directory` (unless `symlinks` is `.asArchived`), a hard link to outside, and a directory over an
    /// existing symlink (see ``ExtractionGuard``);
    /// libarchive's own refusal of `..` stays on beneath. Entries before the refused one stay extracted.
    /// Devices, fifos and sockets are not extracted. `visit` sees every entry before these checks, so a caller
    /// may skip what it knows it cannot restore (an absolute symlink, say) instead of failing on it.
    @discardableResult
    public func extract(into directory: String, symlinks: SymlinkTargets = .contained,
                        visit: (TarEntryInfo) throws -> TarEntryAction = { _ in .extract })
        throws -> TarExtractSummary
    {
        guard let resolved = realpath(directory, nil) else {
            throw ArchiveError.io(
                path: directory,
                reason: "cannot extract into it (\(errnoText(errno))); nothing was written — create it first")
        }
        let root = cStringBytes(resolved)
        free(resolved)
        var info = stat()
        guard withCPath(root, { stat($0, &info) }) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError.io(path: directory, reason: "is not a directory; nothing was extracted")
        }
        guard let disk = archive_write_disk_new() else {
            throw ArchiveError.io(path: directory, reason: libarchiveMissing(or: "libarchive could not allocate a disk writer (out of memory?)"))
        }
        defer { archive_write_free(disk) }
        // Paths handed to libarchive are absolute (root + entry), so the working directory of this process
        // (shared by every thread) never matters. That rules out ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, and
        // makes ARCHIVE_EXTRACT_SECURE_SYMLINKS walk every component from `/` with an open and a stat each, for
        // every entry: a third of the restore's time. ExtractionGuard makes the same check (no symlink among
        // an entry's directories, under root; the real path of root itself) once per directory instead, refuses
        // absolute names before they are prefixed, and checks link targets, which libarchive does not.
        var flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if geteuid() == 0 { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(disk, flags)
        archive_write_disk_set_standard_lookup(disk)
        var safety = ExtractionGuard(root: root, symlinkTargets: symlinks)

        return try UTF8Locale.run {
            let summary = try forEachEntry { entry, info, name in
                switch try visit(info) {
                case .skip:
                    try skipData(info)
                case .stream(let sink):
                    try streamData(info, to: sink)
                case .extract:
                    guard info.kind != .other else {
                        try skipData(info)
                        return
                    }
                    let link: [UInt8]? =
                        switch info.kind {
                        case .hardlink: Self.entryBytes(entry, utf8: archive_entry_hardlink_utf8, archive_entry_hardlink)
                        case .symlink: Self.entryBytes(entry, utf8: archive_entry_symlink_utf8, archive_entry_symlink)
                        default: nil
                        }
                    let plan = try safety.check(name: name, info: info, link: link)
                    withCPath(plan.path) { archive_entry_copy_pathname(entry, $0) }
                    if let target = plan.hardlinkTarget {
                        withCPath(target) { archive_entry_copy_hardlink(entry, $0) }
                    }
                    if info.kind == .symlink, let link {
                        withCPath(link) { archive_entry_copy_symlink(entry, $0) }
                    }
                    try extractEntry(entry, info, disk)
                }
            }
            guard archive_write_close(disk) >= ARCHIVE_WARN else {
                throw ArchiveError.io(
                    path: directory,
                    reason: "setting directory times and modes failed (\(libarchiveMessage(disk))); "
                        + "every file was extracted — fix the directory's permissions and restore again")
            }
            return summary
        }
    }

    /// Reads every entry's header and data, writing nothing: a check that the archive is complete.
    @discardableResult
    public func list(_ visit: (TarEntryInfo) throws -> Void = { _ in }) throws -> TarExtractSummary {
        try UTF8Locale.run {
            try forEachEntry { _, info, _ in
                try visit(info)
                try skipData(info)
            }
        }
    }

    // MARK: - Entries

    private func forEachEntry(_ body: (OpaquePointer, TarEntryInfo, [UInt8]) throws -> Void) throws
        -> TarExtractSummary
    {
        guard !used else {
            throw ArchiveError.invalidArgument("a TarReader reads its stream once; make a new one to read it again")
        }
        used = true
        var summary = TarExtractSummary()
        while true {
            // Everything before here is consumed, padding included: if the next header read finds the stream's
            // end without consuming anything, the end-of-archive blocks are missing (libarchive accepts that).
            let before = archive_filter_bytes(archive, 0)
            var next: OpaquePointer?
            let result = archive_read_next_header(archive, &next)
            if result == ARCHIVE_EOF {
                if let error = input.error { throw error }
                guard archive_filter_bytes(archive, 0) > before else {
                    throw ArchiveError.truncated(
                        summary.entries == 0
                            ? "the stream holds no tar data"
                            : "the stream stops after \(summary.entries) entries, without tar's end-of-archive blocks")
                }
                return summary
            }
            guard result >= ARCHIVE_WARN, let entry = next else { throw readFailure(entry: nil) }
            inData = true
            let name = Self.entryBytes(entry, utf8: archive_entry_pathname_utf8, archive_entry_pathname) ?? []
            let info = Self.info(entry, name: name)
            try body(entry, info, name)
            try skipData(info)  // the rest of the data and the padding, so `before` above is exact
            summary.entries += 1
            summary.bytes += info.size
        }
    }

    private func extractEntry(_ entry: OpaquePointer, _ info: TarEntryInfo, _ disk: OpaquePointer) throws {
        guard archive_write_header(disk, entry) >= ARCHIVE_WARN else { throw diskFailure(disk, info) }
        if info.kind == .file || (info.kind == .hardlink && info.size > 0) {
            while true {
                var block: UnsafeRawPointer?
                var size = 0
                var offset: Int64 = 0
                let result = archive_read_data_block(archive, &block, &size, &offset)
                if result == ARCHIVE_EOF { break }
                guard result >= ARCHIVE_WARN else { throw readFailure(entry: info.path) }
                guard archive_write_data_block(disk, block, size, offset) >= ARCHIVE_WARN else {
                    throw diskFailure(disk, info)
                }
            }
        }
        guard archive_write_finish_entry(disk) >= ARCHIVE_WARN else { throw diskFailure(disk, info) }
    }

    private func streamData(_ info: TarEntryInfo, to sink: ByteSink) throws {
        var written: Int64 = 0
        var zeros: [UInt8] = []
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            let result = archive_read_data_block(archive, &block, &size, &offset)
            if result == ARCHIVE_EOF { break }
            guard result >= ARCHIVE_WARN else { throw readFailure(entry: info.path) }
            // A sparse entry's holes come as gaps between blocks.
            while written < offset {
                let gap = Int(min(offset - written, 64 << 10))
                if zeros.count < gap { zeros = [UInt8](repeating: 0, count: 64 << 10) }
                try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<gap])) }
                written += Int64(gap)
            }
            if size > 0 { try sink.write(UnsafeRawBufferPointer(start: block, count: size)) }
            written += Int64(size)
        }
        // A sparse file may end in a hole too.
        while written < Int64(info.size) {
            let gap = Int(min(Int64(info.size) - written, 64 << 10))
            if zeros.count < gap { zeros = [UInt8](repeating: 0, count: 64 << 10) }
            try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<gap])) }
            written += Int64(gap)
        }
    }

    private func skipData(_ info: TarEntryInfo) throws {
        guard inData else { return }
        inData = false
        guard archive_read_data_skip(archive) >= ARCHIVE_WARN else { throw readFailure(entry: info.path) }
    }

    // MARK: - Helpers

    private static func info(_ entry: OpaquePointer, name: [UInt8]) -> TarEntryInfo {
        let hardlink = entryBytes(entry, utf8: archive_entry_hardlink_utf8, archive_entry_hardlink)
        let symlink = entryBytes(entry, utf8: archive_entry_symlink_utf8, archive_entry_symlink)
        let kind: TarEntryInfo.Kind
        var target: [UInt8]?
        if let hardlink {
            kind = .hardlink
            target = ExtractionGuard.joined(ExtractionGuard.components(hardlink))
        } else {
            switch archive_entry_filetype(entry) & opskit_ae_ifmt() {
            case opskit_ae_ifreg(): kind = .file
            case opskit_ae_ifdir(): kind = .directory
            case opskit_ae_iflnk():
                kind = .symlink
                target = symlink
            default: kind = .other
            }
        }
        let parts = ExtractionGuard.components(name)
        let path = name.first == 0x2f ? displayPath(name) : parts.isEmpty ? "." : displayPath(ExtractionGuard.joined(parts))
        return TarEntryInfo(
            path: path, kind: kind, size: Int(max(0, archive_entry_size(entry))),
            mode: UInt32(archive_entry_perm(entry)) & 0o7777, linkTarget: target.map(displayPath))
    }

    /// An entry string as bytes: the UTF-8 form libarchive holds, else the raw one.
    static func entryBytes(
        _ entry: OpaquePointer, utf8: (OpaquePointer?) -> UnsafePointer<CChar>?,
        _ raw: (OpaquePointer?) -> UnsafePointer<CChar>?
    ) -> [UInt8]? {
        if let text = utf8(entry) ?? raw(entry) { return cStringBytes(text) }
        return nil
    }

    private func readFailure(entry: String?) -> any Error {
        if let error = input.error { return error }
        let message = libarchiveMessage(archive)
        let detail = entry.map { "at entry \"\($0)\": \(message)" } ?? message
        if message.lowercased().contains("truncated") { return ArchiveError.truncated(detail) }
        return ArchiveError.corrupt(detail)
    }

    private func diskFailure(_ disk: OpaquePointer, _ info: TarEntryInfo) -> ArchiveError {
        .io(
            path: info.path,
            reason: "extracting it failed (\(libarchiveMessage(disk))); entries before it are in place, it and the "
                + "rest are not — fix the cause (space, permissions) and restore again into an empty directory")
    }
}
