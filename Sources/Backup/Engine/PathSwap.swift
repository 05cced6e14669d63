#if canImport(Glibc)
import Glibc
#endif

/// Puts a staged copy in place of live data with one atomic step, and can undo it.
///
/// With the target present, `renameat2(RENAME_EXCHANGE)` swaps the two names in one step: at every
/// instant the live path holds either the old data or the new, never nothing. The old data then sits at
/// the staged path, so swapping back is the same call. Filesystems without exchange fall back to two
/// renames (old aside, new in), with a window of microseconds in which the path is missing.
enum PathSwap {
    struct Failure: Error, CustomStringConvertible {
        let operation: String
        let code: Int32
        var description: String { "\(operation): \(String(cString: strerror(code)))" }
        var crossesFilesystems: Bool { code == EXDEV }
    }

    /// How a swap was done, to undo it.
    enum Done: Equatable {
        /// The names were exchanged: the old data is now at `staged`.
        case exchanged(target: String, staged: String)
        /// The target did not exist: the staged data was renamed into place.
        case created(target: String, staged: String)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    private static let renameExchange: UInt32 = 1 << 1

    private static let renameat2: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Puts `staged` at `target`. Throws (changing nothing) when they are on different filesystems.
    static func swap(staged: String, into target: String) throws -> Done {
        if !exists(target) {
            guard rename(staged, target) == 0 else { throw Failure(operation: "rename \(staged) to \(target)", code: errno) }
            return .created(target: target, staged: staged)
        }
        if let renameat2 {
            if renameat2(AT_FDCWD, staged, AT_FDCWD, target, renameExchange) == 0 {
                return .exchanged(target: target, staged: staged)
            }
            let code = errno
            if code == EXDEV { throw Failure(operation: "exchange \(staged) and \(target)", code: code) }
            if code != EINVAL && code != ENOSYS && code != ENOTSUP {
                throw Failure(operation: "exchange \(staged) and \(target)", code: code)
            }
        }
        // No exchange here: old aside to a temporary name, new in, old to the staged name.
        let aside = staged + ".old"
        guard rename(target, aside) == 0 else { throw Failure(operation: "rename \(target) aside", code: errno) }
        guard rename(staged, target) == 0 else {
            let code = errno
            _ = rename(aside, target)
            throw Failure(operation: "rename \(staged) to \(target)", code: code)
        }
        guard rename(aside, staged) == 0 else { throw Failure(operation: "rename \(aside) to \(staged)", code: errno) }
        return .exchanged(target: target, staged: staged)
    }

    /// Undoes a swap: the old data goes back to the live path.
    static func undo(_ done: Done) throws {
        switch done {
        case .exchanged(let target, let staged):
            _ = try swap(staged: staged, into: target)
        case .created(let target, let staged):
            guard rename(target, staged) == 0 else { throw Failure(operation: "move \(target) back", code: errno) }
        }
    }

    /// Removes a file or a whole tree (not following symlinks); quiet when it is already gone.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            // Make it writable and searchable first: a tree restored read-only must still be removable.
            _ = chmod(path, 0o700)
            emptyDirectory(path)
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }

    /// The names in a directory (without `.` and `..`); nil when it cannot be read.
    static func entries(of directory: String) -> [String]? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes everything inside `directory`, keeping the directory itself.
    static func emptyDirectory(_ directory: String) {
        for name in entries(of: directory) ?? [] { removeTree(directory + "/" + name) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    static func baseName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    static func device(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_dev)
    }
}
