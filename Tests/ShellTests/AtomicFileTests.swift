#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Shell

@Suite struct AtomicFileTests {
    @Test func readReturnsTheWholeFileOrNil() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try AtomicFile.write(big, to: dir.file("big"))
        #expect(AtomicFile.read(dir.file("big")) == big)
        try AtomicFile.write([UInt8](), to: dir.file("empty"))
        #expect(AtomicFile.read(dir.file("empty")) == [])
        #expect(AtomicFile.read(dir.file("missing")) == nil)
        #expect(AtomicFile.read(dir.path) == nil, "a directory is not a file")
        #expect(AtomicFile.read(dir.file("big"), limit: 1000) == nil)
    }

    @Test func writesAndReplaces() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let path = dir.file("state.json")
        try AtomicFile.write("one\n", to: path)
        #expect(Files.read(path) == "one\n")
        try AtomicFile.write("two", to: path)
        #expect(Files.read(path) == "two")
        try AtomicFile.write([UInt8](), to: path)
        #expect(Files.read(path) == "")
        #expect(Files.entries(dir.path) == ["state.json"], "no temporary files left behind")
    }

    @Test func writesLargeContentCompletely() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let bytes = [UInt8](repeating: 0x5A, count: 3 << 20)
        try AtomicFile.write(bytes, to: dir.file("big"))
        let fd = open(dir.file("big"), O_RDONLY)
        defer { close(fd) }
        #expect(lseek(fd, 0, SEEK_END) == bytes.count)
    }

    @Test(arguments: [0o600, 0o640, 0o755] as [UInt32])
    func permissionsAreApplied(mode: UInt32) throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let path = dir.file("f")
        try AtomicFile.write("x", to: path, permissions: 0o644)
        try AtomicFile.write("y", to: path, permissions: mode)
        #expect(Files.mode(path) == mode)
    }

    @Test func defaultPermissionsIgnoreUmask() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        try AtomicFile.write("x", to: dir.file("f"))
        #expect(Files.mode(dir.file("f")) == 0o644)
    }

    @Test func missingDirectoryIsAClearErrorAndCreatesNothing() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let path = dir.file("missing/sub/state.json")
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write("x", to: path) }
        #expect(error?.description == "cannot write \(path): the directory \(dir.file("missing/sub")) does not exist")
        #expect(Files.entries(dir.path).isEmpty)
    }

    /// The rename fails after the temporary file was written: it must be removed, the target untouched.
    @Test func failedReplaceLeavesTargetAndNoTemporaryFile() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        let target = dir.file("target")
        #expect(mkdir(target, 0o755) == 0)
        try AtomicFile.write("keep", to: target + "/inside")
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write("new", to: target) }
        #expect(error?.description.contains("replacing the file failed: Is a directory") == true, "\(String(describing: error))")
        #expect(Files.entries(dir.path) == ["target"])
        #expect(Files.read(target + "/inside") == "keep")
    }

    @Test func pathNamingADirectoryIsRejected() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { dir.remove() }
        #expect(throws: AtomicFileError.self) { try AtomicFile.write("x", to: dir.path + "/") }
        #expect(Files.entries(dir.path).isEmpty)
    }

    /// Root ignores directory permissions, so this only means something for an ordinary user.
    @Test(.enabled(if: getuid() != 0, "root can write into read-only directories"))
    func readOnlyDirectoryLeavesOriginalUntouched() throws {
        let dir = try TempDirectory(prefix: "atomic")
        defer { chmod(dir.path, 0o755); dir.remove() }
        let path = dir.file("f")
        try AtomicFile.write("original", to: path)
        #expect(chmod(dir.path, 0o555) == 0)
        #expect(throws: AtomicFileError.self) { try AtomicFile.write("new", to: path) }
        #expect(Files.read(path) == "original")
        #expect(Files.entries(dir.path) == ["f"])
    }

    @Test func pathHelpers() {
        #expect(directoryName(of: "/a/b/c") == "/a/b")
        #expect(directoryName(of: "/c") == "/")
        #expect(directoryName(of: "c") == ".")
        #expect(baseName(of: "/a/b/c") == "c")
    }
}
