#if canImport(Glibc)
import Glibc
#endif
import OpsCore

/// Copies a staged tree or file to another filesystem (through tar in memory, with the same secure
/// extraction), so the last step onto live data is still a rename on one filesystem.
enum TreeCopy {
    static func copy(from source: String, to destination: String) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw PathSwap.Failure(operation: "stat \(source)", code: errno) }
        let name = PathSwap.baseName(of: destination)
        let parent = PathSwap.parent(of: destination)
        let scratch = parent + "/.opskit-copy-\(getpid())"
        PathSwap.removeTree(scratch)
        guard mkdir(scratch, 0o700) == 0 else { throw PathSwap.Failure(operation: "mkdir \(scratch)", code: errno) }
        defer { PathSwap.removeTree(scratch) }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        let stream = try ThreadedSource(capacity: 4 << 20) { sink in
            let writer = try TarWriter(sink: sink)
            if isDirectory { try writer.addTree(at: source, as: name) } else { try writer.addFile(at: source, as: name) }
            try writer.finish()
        }
        _ = try TarReader(source: stream).extract(into: scratch, symlinks: .asArchived)
        guard rename(scratch + "/" + name, destination) == 0 else {
            throw PathSwap.Failure(operation: "rename into \(destination)", code: errno)
        }
    }

    /// `mkdir -p` of a file's directory.
    static func makeParents(of path: String) throws {
        let parent = PathSwap.parent(of: path)
        if PathSwap.exists(parent) { return }
        try makeParents(of: parent)
        guard mkdir(parent, 0o700) == 0 || errno == EEXIST else {
            throw PathSwap.Failure(operation: "mkdir \(parent)", code: errno)
        }
    }
}
