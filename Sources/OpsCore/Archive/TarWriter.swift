#if canImport(Glibc)
import Glibc
#endif
import CArchive

/// Writes a POSIX pax tar stream (GNU tar and bsdtar read it) into a ``ByteSink``.
///
/// libarchive formats the headers; nothing is held back beyond the entry being written (file data passes
/// through in 1 MiB reads, headers as they are made). Names are written as the bytes they are on disk.
/// One thread at a time; after an error the stream is broken and every later call throws.
public final class TarWriter {
    private let archive: OpaquePointer
    private let entry: OpaquePointer
    private let output: ArchiveOutput
    private var buffer: UnsafeMutableRawBufferPointer?
    /// The archive name of the first occurrence of each multiply-linked file, for hard link entries.
    private var firstNames: [FileIdentity: [UInt8]] = [:]
    private var owners = OwnerNames()
    private var finished = false
    private var broken: (any Error)?

    /// Test seam: called with a file's path after its header is written and before its data is read.
    var afterHeader: ((String) -> Void)?

    static let chunkSize = 1 << 20

    public init(sink: ByteSink) throws {
        guard let archive = archive_write_new() else {
            throw ArchiveError.io(path: "tar", reason: libarchiveMissing(or: "libarchive could not allocate a writer (out of memory?)"))
        }
        guard let entry = archive_entry_new() else {
            archive_write_free(archive)
            throw ArchiveError.io(path: "tar", reason: libarchiveMissing(or: "libarchive could not allocate an entry (out of memory?)"))
        }
        self.archive = archive
        self.entry = entry
        output = ArchiveOutput(sink)
        // Block size 0: libarchive hands every write straight to the sink and pads nothing at the end
        // beyond the two end-of-archive blocks.
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
            output.open(archive) == ARCHIVE_OK
        else { throw failure(at: "tar") }
    }

    deinit {
        output.abandoned = !finished
        archive_entry_free(entry)
        archive_write_free(archive)
        buffer?.deallocate()
    }

    // MARK: - Public entry points

    /// Adds the tree at `path` under the name `archivePath` (e.g. "files/lancedb"), recursively and without
    /// following symlinks: directories, files, symlinks, and hard links as links to the first occurrence.
    /// Sockets, fifos and devices are skipped and listed. A file that changes size while it is read still
    /// gets a valid entry (cut at, or zero-padded to, the size in its header) and is listed in `changedFiles`.
    /// `progress` gets the file bytes added so far.
    @discardableResult
    public func addTree(at path: String, as archivePath: String, progress: ((Int) -> Void)? = nil) throws
        -> TarTreeSummary
    {
        let name = try Self.archiveName(archivePath)
        var walk = TreeWalk(progress: progress)
        try guarded {
            try UTF8Locale.run { try addNode(Array(path.utf8), name, isRoot: true, &walk) }
        }
        return walk.summary
    }

    /// Adds one regular file (or symlink) at `path` as `archivePath`.
    public func addFile(at path: String, as archivePath: String) throws {
        let name = try Self.archiveName(archivePath)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ArchiveError.io(path: path, reason: "cannot add it to the archive (\(errnoText(errno))); nothing was written for it — check the path and its permissions")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFLNK else {
            throw ArchiveError.invalidArgument("\(path) is not a regular file or symlink; add directories with addTree")
        }
        var walk = TreeWalk(progress: nil)
        try guarded {
            try UTF8Locale.run { try addNode(Array(path.utf8), name, isRoot: true, &walk) }
        }
    }

    /// Adds `bytes` as a regular file named `archivePath`, owned by this process's user, modified at
    /// `modified` (seconds since the epoch; now if nil).
    public func addBytes(_ bytes: [UInt8], as archivePath: String, mode: UInt32 = 0o644, modified: Int? = nil) throws {
        let name = try Self.archiveName(archivePath)
        try guarded {
            try UTF8Locale.run {
                try bytes.withUnsafeBytes { data in
                    try writeMemoryEntry(name, data: data, mode: mode, modified: modified ?? time(nil))
                }
            }
        }
    }

    /// Adds a stream of unknown length (pg_dump's output) as entries `<archivePath>.part-000000`,
    /// `.part-000001`, ... of at most `partSize` bytes each; `cat <archivePath>.part-* > file` rebuilds it.
    /// Each part is held in memory to learn its size, so this costs `partSize` bytes. An empty stream gives
    /// one empty part. Returns the part names in order.
    @discardableResult
    public func addStream(from source: ByteSource, as archivePath: String, partSize: Int = 8 << 20) throws -> [String] {
        let name = try Self.archiveName(archivePath)
        guard partSize > 0 else { throw ArchiveError.invalidArgument("addStream: partSize must be positive, not \(partSize)") }
        let part = UnsafeMutableRawBufferPointer.allocate(byteCount: partSize, alignment: 16)
        defer { part.deallocate() }
        var names: [String] = []
        try guarded {
            let modified = time(nil)
            while true {
                let filled = try source.readFully(into: part)
                if filled == 0 && !names.isEmpty { break }
                let partName = name + Array(".part-".utf8) + Self.sixDigits(names.count)
                try UTF8Locale.run {
                    try writeMemoryEntry(
                        partName, data: UnsafeRawBufferPointer(rebasing: part[0..<filled]), mode: 0o600,
                        modified: modified)
                }
                names.append(displayPath(partName))
                if filled < partSize { break }
            }
        }
        return names
    }

    /// Writes the end-of-archive blocks, then finishes the sink.
    public func finish() throws {
        if let broken { throw broken }
        guard !finished else { return }
        try guarded {
            guard archive_write_close(archive) == ARCHIVE_OK else { throw failure(at: "the end of the archive") }
            finished = true
            try output.sink.finish()
        }
    }

    // MARK: - The tree

    private struct TreeWalk {
        var summary = TarTreeSummary()
        let progress: ((Int) -> Void)?
        init(progress: ((Int) -> Void)?) { self.progress = progress }
    }

    private func addNode(_ path: [UInt8], _ name: [UInt8], isRoot: Bool, _ walk: inout TreeWalk) throws {
        var info = stat()
        guard withCPath(path, { lstat($0, &info) }) == 0 else {
            let code = errno
            if code == ENOENT && !isRoot {
                walk.summary.skipped.append(displayPath(path))
                return
            }
            throw Self.readError(path, code)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            prepareEntry(info, name)
            archive_entry_set_size(entry, 0)
            try writeHeader(name)
            walk.summary.directories += 1
            guard let children = try listDirectory(path, isRoot: isRoot) else {
                walk.summary.skipped.append(displayPath(path))
                return
            }
            for child in children {
                try addNode(path + [0x2f] + child, name + [0x2f] + child, isRoot: false, &walk)
            }
        case S_IFREG:
            try addRegularFile(path, name, isRoot: isRoot, &walk)
        case S_IFLNK:
            var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = withCPath(path) { cPath in
                target.withUnsafeMutableBufferPointer { readlink(cPath, $0.baseAddress!, $0.count) }
            }
            guard length >= 0 else {
                let code = errno
                if code == ENOENT && !isRoot {
                    walk.summary.skipped.append(displayPath(path))
                    return
                }
                throw Self.readError(path, code)
            }
            prepareEntry(info, name)
            archive_entry_set_size(entry, 0)
            withCPath(Array(target[0..<length])) { archive_entry_copy_symlink(entry, $0) }
            try writeHeader(name)
            walk.summary.symlinks += 1
        default:
            walk.summary.skipped.append(displayPath(path))
        }
    }

    /// The names in a directory, sorted bytewise (so archives of the same tree are the same);
    /// nil when the directory disappeared meanwhile.
    private func listDirectory(_ path: [UInt8], isRoot: Bool) throws -> [[UInt8]]? {
        guard let directory = withCPath(path, { opendir($0) }) else {
            let code = errno
            if code == ENOENT && !isRoot { return nil }
            throw Self.readError(path, code)
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let item = readdir(directory) else {
                if errno != 0 { throw Self.readError(path, errno) }
                break
            }
            let name = withUnsafePointer(to: &item.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: 256) { cStringBytes($0) }
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    private func addRegularFile(_ path: [UInt8], _ name: [UInt8], isRoot: Bool, _ walk: inout TreeWalk) throws {
        let fd = withCPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else {
            let code = errno
            // Gone, or replaced by a symlink, between the directory listing and now.
            if (code == ENOENT || code == ELOOP) && !isRoot {
                walk.summary.skipped.append(displayPath(path))
                return
            }
            throw Self.readError(path, code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.readError(path, errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            walk.summary.skipped.append(displayPath(path))
            return
        }
        if info.st_nlink > 1 {
            let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if let first = firstNames[identity] {
                prepareEntry(info, name)
                archive_entry_set_size(entry, 0)
                withCPath(first) { archive_entry_copy_hardlink(entry, $0) }
                try writeHeader(name)
                walk.summary.files += 1
                return
            }
            firstNames[identity] = name
        }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        prepareEntry(info, name)
        try writeHeader(name)
        afterHeader?(displayPath(path))
        let declared = Int(info.st_size)
        let copied = try copyData(from: fd, path: path, name: name, declared: declared, &walk)
        var after = stat()
        if copied < declared || fstat(fd, &after) != 0 || after.st_size != info.st_size
            || after.st_mtim.tv_sec != info.st_mtim.tv_sec || after.st_mtim.tv_nsec != info.st_mtim.tv_nsec
        {
            walk.summary.changedFiles.append(displayPath(path))
        }
        try finishEntry(name)
        walk.summary.files += 1
    }

    /// Copies exactly `declared` bytes of entry data: the file's first `declared` bytes, then zeros if it
    /// shrank. Returns how many came from the file.
    private func copyData(from fd: Int32, path: [UInt8], name: [UInt8], declared: Int, _ walk: inout TreeWalk) throws
        -> Int
    {
        let chunk = chunkBuffer()
        var remaining = declared
        var fromFile = 0
        var atEnd = false
        while remaining > 0 {
            let want = min(remaining, chunk.count)
            var count = 0
            if atEnd {
                count = want
            } else {
                count = read(fd, chunk.baseAddress, want)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Self.readError(path, errno)
                }
                if count == 0 {
                    atEnd = true
                    chunk.initializeMemory(as: UInt8.self, repeating: 0)
                    continue
                }
                fromFile += count
            }
            try writeData(UnsafeRawBufferPointer(rebasing: chunk[0..<count]), name)
            remaining -= count
            walk.summary.bytes += count
            walk.progress?(walk.summary.bytes)
        }
        return fromFile
    }

    // MARK: - Entries

    private func writeMemoryEntry(_ name: [UInt8], data: UnsafeRawBufferPointer, mode: UInt32, modified: Int) throws {
        archive_entry_clear(entry)
        withCPath(name) { archive_entry_copy_pathname(entry, $0) }
        archive_entry_set_filetype(entry, opskit_ae_ifreg())
        archive_entry_set_perm(entry, mode & 0o7777)
        archive_entry_set_size(entry, Int64(data.count))
        archive_entry_set_mtime(entry, modified, 0)
        setOwner(uid: getuid(), gid: getgid())
        try writeHeader(name)
        if let base = data.baseAddress, data.count > 0 {
            var offset = 0
            while offset < data.count {
                let step = min(data.count - offset, Self.chunkSize)
                try writeData(UnsafeRawBufferPointer(start: base + offset, count: step), name)
                offset += step
            }
        }
        try finishEntry(name)
    }

    private func prepareEntry(_ info: stat, _ name: [UInt8]) {
        archive_entry_clear(entry)
        var info = info
        archive_entry_copy_stat(entry, &info)
        // Only mtime is restored; atime and ctime would only grow the headers.
        archive_entry_unset_atime(entry)
        archive_entry_unset_ctime(entry)
        archive_entry_unset_birthtime(entry)
        withCPath(name) { archive_entry_copy_pathname(entry, $0) }
        setOwner(uid: info.st_uid, gid: info.st_gid)
    }

    private func setOwner(uid: uid_t, gid: gid_t) {
        archive_entry_set_uid(entry, Int64(uid))
        archive_entry_set_gid(entry, Int64(gid))
        if let user = owners.user(uid) { archive_entry_copy_uname(entry, user) }
        if let group = owners.group(gid) { archive_entry_copy_gname(entry, group) }
    }

    private func writeHeader(_ name: [UInt8]) throws {
        // ARCHIVE_WARN (a name that is not UTF-8, written as raw bytes) still wrote the entry.
        guard archive_write_header(archive, entry) >= ARCHIVE_WARN else { throw failure(at: displayPath(name)) }
    }

    private func writeData(_ data: UnsafeRawBufferPointer, _ name: [UInt8]) throws {
        var offset = 0
        while offset < data.count {
            let written = archive_write_data(archive, data.baseAddress! + offset, data.count - offset)
            guard written > 0 else { throw failure(at: displayPath(name)) }
            offset += written
        }
    }

    private func finishEntry(_ name: [UInt8]) throws {
        guard archive_write_finish_entry(archive) >= ARCHIVE_WARN else { throw failure(at: displayPath(name)) }
    }

    // MARK: - Helpers

    /// Runs `body`; an error breaks the writer for good (the stream may end inside an entry).
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        if let broken { throw broken }
        guard !finished else {
            throw ArchiveError.invalidArgument("the tar archive was already finished; nothing more can be added")
        }
        do {
            return try body()
        } catch {
            broken = error
            throw error
        }
    }

    private func chunkBuffer() -> UnsafeMutableRawBufferPointer {
        if let buffer { return buffer }
        let made = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 4096)
        buffer = made
        return made
    }

    private func failure(at name: String) -> any Error {
        if let error = output.error { return error }
        return ArchiveError.io(
            path: name,
            reason: "writing its tar entry failed (\(libarchiveMessage(archive))); the archive is incomplete — "
                + "discard it and run the backup again")
    }

    private static func readError(_ path: [UInt8], _ code: Int32) -> ArchiveError {
        .io(
            path: displayPath(path),
            reason: "cannot read it (\(errnoText(code))); the archive being written is incomplete — fix its "
                + "permissions or leave it out of the backup, then run the backup again")
    }

    /// A caller's archive name as bytes: relative, without `..`, trailing slashes removed.
    static func archiveName(_ text: String) throws -> [UInt8] {
        var bytes = Array(text.utf8)
        while bytes.last == 0x2f { bytes.removeLast() }
        let components = bytes.split(separator: 0x2f, omittingEmptySubsequences: false)
        guard !bytes.isEmpty, text.utf8.first != 0x2f, !components.contains(where: { $0.elementsEqual([0x2e, 0x2e]) }),
            !components.contains(where: { $0.isEmpty })
        else {
            throw ArchiveError.invalidArgument(
                "\"\(ArchiveError.oneLine(text))\" is not a usable name inside an archive (it must be relative, "
                    + "without empty or `..` components)")
        }
        return bytes
    }

    static func sixDigits(_ number: Int) -> [UInt8] {
        let digits = Array(String(number).utf8)
        return digits.count >= 6 ? digits : Array(repeating: 0x30, count: 6 - digits.count) + digits
    }
}

struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64
}

/// User and group names for ids, looked up once each (NSS lookups are slow).
struct OwnerNames {
    private var users: [uid_t: String?] = [:]
    private var groups: [gid_t: String?] = [:]

    mutating func user(_ uid: uid_t) -> String? {
        if let known = users[uid] { return known }
        var buffer = [CChar](repeating: 0, count: 4096)
        let name: String? = buffer.withUnsafeMutableBufferPointer { storage in
            var record = Glibc.passwd()
            var result: UnsafeMutablePointer<passwd>?
            guard getpwuid_r(uid, &record, storage.baseAddress!, storage.count, &result) == 0, result != nil,
                let text = record.pw_name
            else { return nil }
            return String(cString: text)
        }
        users[uid] = name
        return name
    }

    mutating func group(_ gid: gid_t) -> String? {
        if let known = groups[gid] { return known }
        var buffer = [CChar](repeating: 0, count: 4096)
        let name: String? = buffer.withUnsafeMutableBufferPointer { storage in
            var record = Glibc.group()
            var result: UnsafeMutablePointer<group>?
            guard getgrgid_r(gid, &record, storage.baseAddress!, storage.count, &result) == 0, result != nil,
                let text = record.gr_name
            else { return nil }
            return String(cString: text)
        }
        groups[gid] = name
        return name
    }
}
