#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import TestSupport

/// Writes a stream to a file (what the backup does through its store, here a plain file for the CLIs).
final class FileSink: ByteSink {
    private var fd: Int32
    private(set) var finished = false

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestSupportError("cannot create \(path): errno \(errno)") }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            let count = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            guard count > 0 else { throw TestSupportError("write failed: errno \(errno)") }
            offset += count
        }
    }

    func finish() throws {
        close(fd)
        fd = -1
        finished = true
    }
}

/// Reads a file as a stream.
final class FileSource: ByteSource {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestSupportError("cannot open \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
        guard count >= 0 else { throw TestSupportError("read failed: errno \(errno)") }
        return count
    }
}

enum ArchiveFixture {
    static func readFile(_ path: String) throws -> [UInt8] { try FileSource(path: path).readAll(limit: 64 << 20) }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let sink = try FileSink(path: path)
        try sink.write(bytes)
        try sink.finish()
    }

    /// Bytes that are neither constant nor random: zstd and gzip have something to do, quickly made.
    static func pattern(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let word = state >> 33
            // Runs of a repeated byte every so often, so the data compresses a little.
            let run = Int(word & 0x1f) < 6 ? Int(word >> 8 & 0x3f) : 1
            for _ in 0..<run where index < count {
                out[index] = UInt8(truncatingIfNeeded: word >> 16)
                index += 1
            }
        }
        return out
    }

    /// Runs a python3 script with arguments; fails the test on a non-zero exit.
    @discardableResult
    static func python(_ script: String, _ arguments: String...) async throws -> String {
        try await Runner().capture(Command(argv: ["python3", "-c", script] + arguments)).stdoutText
    }

    /// A tree with nested and empty directories, an empty file, a 5 MiB random file, unicode and long names,
    /// relative symlinks that stay inside, a hard link, an executable and a private file; fixed mtimes.
    static func makeTree(at root: String) async throws {
        try await python(
            """
            import os, sys
            root = sys.argv[1]
            def p(*parts): return os.path.join(root, *parts)
            os.makedirs(p("a", "b", "c"))
            os.makedirs(p("empty"))
            open(p("zero"), "wb").close()
            with open(p("a", "random.bin"), "wb") as f: f.write(os.urandom(5 << 20))
            with open(p("a", "b", "c", "text.txt"), "w") as f: f.write("hello\\n" * 1000)
            with open(p("ünïcødé-日本語-файл.txt"), "w") as f: f.write("unicode\\n")
            deep = p("d" * 60, "e" * 70)
            os.makedirs(deep)
            with open(os.path.join(deep, "f" * 150), "w") as f: f.write("long\\n")
            os.symlink("a/b/c/text.txt", p("rel-link"))
            os.symlink("../random.bin", p("a", "b", "up-link"))
            os.symlink("c", p("a", "b", "dir-link"))
            os.link(p("a", "b", "c", "text.txt"), p("hard"))
            with open(p("run.sh"), "w") as f: f.write("#!/bin/sh\\necho hi\\n")
            os.chmod(p("run.sh"), 0o755)
            with open(p("a", "secret"), "w") as f: f.write("s\\n")
            os.chmod(p("a", "secret"), 0o600)
            os.chmod(p("a", "b"), 0o750)
            for dirpath, dirs, files in os.walk(root, topdown=False):
                for name in files + dirs:
                    os.utime(os.path.join(dirpath, name), (1600000000, 1600000000), follow_symlinks=False)
            os.utime(root, (1600000000, 1600000000))
            """, root)
    }

    /// One line per path under `root` (not `root` itself): type, mode, mtime, size, content hash, hard link
    /// group, link target. Equal manifests mean equal trees.
    static func manifest(_ root: String) async throws -> String {
        try await python(
            """
            import os, sys, stat, hashlib
            root = sys.argv[1]
            entries = {}
            for dirpath, dirs, files in os.walk(root):
                for name in dirs + files:
                    full = os.path.join(dirpath, name)
                    entries[os.path.relpath(full, root)] = os.lstat(full)
            groups = {}
            for rel in sorted(entries):
                st = entries[rel]
                if stat.S_ISREG(st.st_mode): groups.setdefault((st.st_dev, st.st_ino), rel)
            out = []
            for rel in sorted(entries):
                st = entries[rel]
                full = os.path.join(root, rel)
                if stat.S_ISLNK(st.st_mode):
                    out.append(f"{rel} link -> {os.readlink(full)}")
                elif stat.S_ISDIR(st.st_mode):
                    out.append(f"{rel} dir {oct(st.st_mode & 0o7777)} {int(st.st_mtime)}")
                else:
                    digest = hashlib.sha256(open(full, "rb").read()).hexdigest()[:16]
                    group = groups[(st.st_dev, st.st_ino)]
                    out.append(f"{rel} file {oct(st.st_mode & 0o7777)} {int(st.st_mtime)} {st.st_size} {digest} "
                               f"nlink={st.st_nlink} first={group}")
            sys.stdout.buffer.write("\\n".join(out).encode("utf-8", "surrogateescape"))
            """, root)
    }

    /// Writes a tar archive with python3's tarfile; `body` calls file(name, data), symlink(name, target),
    /// hardlink(name, target), directory(name) in order.
    static func craftTar(_ path: String, _ body: String) async throws {
        try await python(
            """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
            def file(name, data=b"evil\\n"):
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            def symlink(name, target):
                info = tarfile.TarInfo(name); info.type = tarfile.SYMTYPE; info.linkname = target; t.addfile(info)
            def hardlink(name, target):
                info = tarfile.TarInfo(name); info.type = tarfile.LNKTYPE; info.linkname = target; t.addfile(info)
            def directory(name):
                info = tarfile.TarInfo(name); info.type = tarfile.DIRTYPE; info.mode = 0o755; t.addfile(info)
            \(body)
            t.close()
            """, path)
    }

    static func mkdir(_ path: String) throws {
        guard Glibc.mkdir(path, 0o755) == 0 else { throw TestSupportError("mkdir \(path): errno \(errno)") }
    }

    /// The names in a directory, sorted.
    static func names(in path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw TestSupportError("opendir \(path): errno \(errno)") }
        defer { closedir(directory) }
        var names: [String] = []
        while let item = readdir(directory) {
            let name = withUnsafePointer(to: &item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
