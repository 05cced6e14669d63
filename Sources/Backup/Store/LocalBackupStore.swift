#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OpsCore
import Shell

/// Backups in a local directory: `<dir>/<object>` and `<dir>/<id>.manifest.json`.
///
/// An upload writes `<dir>/.<object>.partial-<pid>`, fsyncs it and renames it into place; `commit` checks the
/// object's size and writes the manifest with `AtomicFile`. A full disk while writing removes the partial
/// file and throws `diskFull`. `removeLeftovers` removes every partial file, whichever process wrote it: the
/// caller holds the backup lock, so no other upload can be running.
public final class LocalBackupStore: BackupStore {
    public let directory: String

    public var description: String { directory }

    /// Uses `directory`, creating it (and missing parents) with mode 0700 if it does not exist.
    public init(directory: String) throws {
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        guard !directory.isEmpty else { throw BackupStoreError.notWritable(directory: "''", reason: "the path is empty") }
        self.directory = directory
        try Self.makeDirectories(directory)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw BackupStoreError.notWritable(directory: directory, reason: errorText(errno))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw BackupStoreError.notWritable(directory: directory, reason: "it exists and is not a directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw BackupStoreError.notWritable(directory: directory, reason: errorText(errno))
        }
    }

    private static func makeDirectories(_ directory: String) throws {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw BackupStoreError.notWritable(directory: directory, reason: "creating \(path) failed: \(errorText(errno))")
            }
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    // MARK: BackupStore

    public func list() throws -> [BackupManifest] {
        try manifests().sorted { $0.id < $1.id }
    }

    public func beginUpload(object: String) throws -> BackupUpload {
        guard BackupObjectName.isValid(object) else { throw BackupStoreError.invalidObjectName(object) }
        guard !exists(path(object)) else { throw BackupStoreError.alreadyExists(object, store: directory) }
        return try LocalUpload(store: self, object: object)
    }

    public func commit(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let manifestPath = path(manifest.fileName)
        guard !exists(manifestPath) else { throw BackupStoreError.alreadyExists(manifest.fileName, store: directory) }
        let actual = size(of: path(manifest.object))
        guard actual == manifest.sizeBytes else {
            throw BackupStoreError.incomplete(object: path(manifest.object), expected: manifest.sizeBytes, actual: actual)
        }
        do {
            try AtomicFile.write(manifest.encoded(), to: manifestPath, permissions: 0o600)
        } catch let error as AtomicFileError {
            throw BackupStoreError.manifestWriteFailed(
                manifestPath, reason: error.reason,
                kept: "the backup does not exist (the next run removes its object); fix the cause and run it again")
        }
    }

    public func updateManifest(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let manifestPath = path(manifest.fileName)
        guard exists(manifestPath) else { throw BackupStoreError.notFound(manifest.id, store: directory) }
        do {
            try AtomicFile.write(manifest.encoded(), to: manifestPath, permissions: 0o600)
        } catch let error as AtomicFileError {
            throw BackupStoreError.manifestWriteFailed(manifestPath, reason: error.reason,
                                                       kept: "the previous manifest is unchanged")
        }
    }

    public func open(_ manifest: BackupManifest) throws -> ByteSource {
        try checkNames(manifest)
        let objectPath = path(manifest.object)
        let fd = Glibc.open(objectPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw BackupStoreError.damaged(object: objectPath, reason: "the file is missing") }
            throw BackupStoreError.ioFailed(path: objectPath, action: "opening", reason: errorText(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw BackupStoreError.ioFailed(path: objectPath, action: "reading", reason: errorText(code))
        }
        guard Int(info.st_size) == manifest.sizeBytes else {
            close(fd)
            throw BackupStoreError.damaged(object: objectPath,
                                           reason: "it has \(info.st_size) bytes, the manifest says \(manifest.sizeBytes)")
        }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        return LocalObjectSource(fd: fd, path: objectPath)
    }

    public func delete(_ manifest: BackupManifest) throws {
        try checkNames(manifest)
        let manifestPath = path(manifest.fileName)
        guard unlink(manifestPath) == 0 else {
            let code = errno
            if code == ENOENT { throw BackupStoreError.notFound(manifest.id, store: directory) }
            throw BackupStoreError.ioFailed(path: manifestPath, action: "removing", reason: errorText(code) + "; the backup is unchanged")
        }
        syncDirectory()
        let objectPath = path(manifest.object)
        guard unlink(objectPath) == 0 || errno == ENOENT else {
            throw BackupStoreError.ioFailed(path: objectPath, action: "removing", reason: errorText(errno)
                + "; the backup is gone (its manifest was removed), the next run removes the file")
        }
        syncDirectory()
    }

    public func removeLeftovers() throws -> [String] {
        let names = try entries()
        let referenced = Set(try manifests(in: names).map(\.object))
        var removed: [String] = []
        for name in names where isLeftover(name, referenced: referenced) {
            let leftover = path(name)
            var info = stat()
            // Regular files only: a directory or link with a backup-like name is not ours.
            guard lstat(leftover, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            guard unlink(leftover) == 0 || errno == ENOENT else {
                throw BackupStoreError.ioFailed(path: leftover, action: "removing the leftover", reason: errorText(errno))
            }
            removed.append(name)
        }
        if !removed.isEmpty { syncDirectory() }
        return removed.sorted()
    }

    /// Objects no manifest names, partial uploads (`.<object>.partial-<pid>`) and AtomicFile's temporary
    /// manifests (`.<id>.manifest.json.tmp-XXXXXX`).
    private func isLeftover(_ name: String, referenced: Set<String>) -> Bool {
        if name.hasPrefix(".") {
            let inner = name.dropFirst()
            if let marker = inner.ranges(of: ".partial-").last {
                let pid = inner[marker.upperBound...]
                return !pid.isEmpty && pid.allSatisfy(\.isNumber) && BackupObjectName.isValid(String(inner[..<marker.lowerBound]))
            }
            if let marker = inner.firstRange(of: BackupManifest.fileSuffix + ".tmp-") {
                return BackupObjectName.manifestID(of: inner[..<marker.lowerBound] + BackupManifest.fileSuffix) != nil
            }
            return false
        }
        return BackupObjectName.isValid(name) && !referenced.contains(name)
    }

    // MARK: Files

    private func checkNames(_ manifest: BackupManifest) throws {
        guard BackupObjectName.isValid(manifest.object) else { throw BackupStoreError.invalidObjectName(manifest.object) }
        guard BackupObjectName.manifestID(of: manifest.fileName) == manifest.id, !manifest.fileName.contains("/") else {
            throw BackupStoreError.invalidObjectName(manifest.fileName)
        }
    }

    private func manifests(in names: [String]? = nil) throws -> [BackupManifest] {
        var out: [BackupManifest] = []
        for name in try names ?? entries() {
            guard let id = BackupObjectName.manifestID(of: name) else { continue }
            let manifestPath = path(name)
            let manifest = try BackupManifest(decoding: try readSmallFile(manifestPath), from: manifestPath)
            guard manifest.id == id else {
                throw BackupStoreError.manifestUnreadable(manifestPath, reason: "it describes backup \(manifest.id), not \(id)")
            }
            out.append(manifest)
        }
        return out
    }

    /// The names in the directory, `.` and `..` left out.
    private func entries() throws -> [String] {
        guard let dir = opendir(directory) else {
            throw BackupStoreError.ioFailed(path: directory, action: "listing", reason: errorText(errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        guard errno == 0 else {
            throw BackupStoreError.ioFailed(path: directory, action: "listing", reason: errorText(errno))
        }
        return names
    }

    private func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupStoreError.ioFailed(path: path, action: "reading", reason: errorText(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw BackupStoreError.ioFailed(path: path, action: "reading", reason: errorText(errno)) }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            guard bytes.count <= limit else {
                throw BackupStoreError.manifestUnreadable(path, reason: "it is larger than \(limit) bytes")
            }
        }
    }

    private func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The file's size, or nil when it does not exist (or is not a regular file).
    private func size(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Makes renames and removals in the directory survive a power cut (best effort once they happened).
    func syncDirectory() {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Bytes available to unprivileged writers on the directory's filesystem.
    func freeBytes() -> Int {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return 0 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }
}

/// Writes one object through a partial file renamed into place by `finish`.
final class LocalUpload: BackupUpload {
    private let store: LocalBackupStore
    private let object: String
    private let partialPath: String
    private let finalPath: String
    private var fd: Int32
    private var state = State.writing
    private(set) var bytesWritten = 0
    /// Where the last early write-back started (see `startWriteBack`).
    private var writeBackFrom = 0

    private enum State { case writing, finished, closed }

    init(store: LocalBackupStore, object: String) throws {
        self.store = store
        self.object = object
        partialPath = store.path(".\(object).partial-\(getpid())")
        finalPath = store.path(object)
        fd = Glibc.open(partialPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == ENOSPC || code == EDQUOT {
                throw BackupStoreError.diskFull(directory: store.directory, freeBytes: store.freeBytes())
            }
            if code == EEXIST { throw BackupStoreError.alreadyExists(partialPath, store: store.directory) }
            throw BackupStoreError.notWritable(directory: store.directory, reason: "creating \(partialPath) failed: \(errorText(code))")
        }
    }

    deinit {
        // Dropped without finish or abort (an error upstream): leave nothing behind.
        if state == .writing { abort() }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard state == .writing else { throw BackupStoreError.uploadClosed(object) }
        var offset = 0
        while offset < chunk.count {
            let count = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw fail(errno)
            }
            offset += count
        }
        bytesWritten += chunk.count
        if bytesWritten - writeBackFrom >= 8 << 20 { startWriteBack() }
    }

    /// Asks the kernel to start writing what we wrote so far (without waiting), so the disk works while we
    /// compress and the final fsync has little left to do; dirty pages of a big backup do not pile up either.
    private func startWriteBack() {
        if let syncFileRange = Self.syncFileRange {
            _ = syncFileRange(fd, Int64(writeBackFrom), Int64(bytesWritten - writeBackFrom), Self.syncFileRangeWrite)
        }
        writeBackFrom = bytesWritten
    }

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRangeWrite: UInt32 = 2 // SYNC_FILE_RANGE_WRITE
    /// `sync_file_range(2)` is Linux-only and hidden by Glibc's module map; looked up once at run time.
    private static let syncFileRange: SyncFileRange? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
    }()

    func finish() throws {
        guard state == .writing else { throw BackupStoreError.uploadClosed(object) }
        // A full disk (or NFS) may report a write error only now.
        guard fsync(fd) == 0 else { throw fail(errno) }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw fail(errno) }
        guard rename(partialPath, finalPath) == 0 else { throw fail(errno) }
        state = .finished
        store.syncDirectory()
    }

    func abort() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        switch state {
        case .writing: unlink(partialPath)
        case .finished: unlink(finalPath)
        case .closed: break
        }
        state = .closed
        store.syncDirectory()
    }

    /// Removes the partial file and turns `code` into the error to throw.
    private func fail(_ code: Int32) -> BackupStoreError {
        abort()
        if code == ENOSPC || code == EDQUOT {
            return .diskFull(directory: store.directory, freeBytes: store.freeBytes())
        }
        return .writeFailed(path: finalPath, reason: errorText(code))
    }
}

/// Reads an open file to its end; closes it when released.
final class LocalObjectSource: ByteSource {
    private let fd: Int32
    private let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR {
                throw BackupStoreError.ioFailed(path: path, action: "reading", reason: errorText(errno))
            }
        }
    }
}

/// `strerror` text for an errno value.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
