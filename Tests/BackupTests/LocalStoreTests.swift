import FoundationEssentials
import OpsCore
import Testing
import TestSupport
@testable import Backup
#if canImport(Glibc)
import Glibc
#endif

/// LocalBackupStore on real directories, and a real full disk (a 2 MiB tmpfs).
@Suite struct LocalStoreTests {
    @Test func uploadCommitListOpenRoundTrip() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.file("a/backups/"))
        #expect(store.description == temp.file("a/backups"))
        #expect(mode(of: temp.file("a/backups")) == 0o700)

        let bytes = randomBytes(3 << 20 + 123, seed: 1)
        let manifest = try backUp(bytes, as: backupID(), to: store, chunk: 100_000)
        #expect(manifest.sizeBytes == bytes.count)
        #expect(try store.list() == [manifest])
        let read = try readBack(manifest, from: store)
        #expect(read.bytes == bytes)
        #expect(read.sha256 == manifest.sha256)
        #expect(try sha256sum(temp.file("a/backups/\(manifest.object)")) == manifest.sha256)
        #expect(directoryNames(temp.file("a/backups")) == [manifest.fileName, manifest.object])
        #expect(mode(of: temp.file("a/backups/\(manifest.fileName)")) == 0o600)

        var verified = manifest
        verified.verifiedAt = Date(timeIntervalSince1970: 1_768_900_000)
        try store.updateManifest(verified)
        #expect(try store.list() == [verified])
    }

    @Test func listIsSortedAndOnlyHoldsCommittedBackups() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        let later = try backUp([1, 2, 3], as: backupID(3600), to: store)
        let earlier = try backUp([4, 5], as: backupID(0), to: store)
        _ = try upload([6], as: backupID(60), to: store)  // finished, never committed
        #expect(try store.list() == [earlier, later])
    }

    @Test func leftoversAreRemovedAndNothingElse() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        let kept = try backUp(randomBytes(1000, seed: 2), as: backupID(0), to: store)
        let uncommitted = try upload(randomBytes(1000, seed: 3), as: backupID(60), to: store)
        let unfinished = try store.beginUpload(object: "\(backupID(120)).tar.zst.age")
        try unfinished.write(randomBytes(5000, seed: 4))
        // Not ours: left alone whatever they look like.
        try "notes".write(toFile: temp.file("README"))
        try "x".write(toFile: temp.file(".hidden"))
        #expect(mkdir(temp.file("\(backupID(180)).tar.zst"), 0o700) == 0)
        // A crash's leftovers: another process's partial file and AtomicFile's temporary manifest.
        try "p".write(toFile: temp.file(".\(backupID(240)).tar.zst.partial-99999"))
        try "{".write(toFile: temp.file(".\(backupID(240)).manifest.json.tmp-AbC123"))

        #expect(try store.list() == [kept])
        let removed = try withExtendedLifetime(unfinished) { try store.removeLeftovers() }
        #expect(removed == [
            ".\(backupID(120)).tar.zst.age.partial-\(getpid())",
            ".\(backupID(240)).manifest.json.tmp-AbC123",
            ".\(backupID(240)).tar.zst.partial-99999",
            uncommitted.object,
        ].sorted())
        #expect(directoryNames(temp.path) == [".hidden", kept.fileName, kept.object, "\(backupID(180)).tar.zst", "README"].sorted())
        #expect(try store.list() == [kept])
        #expect(try readBack(kept, from: store).sha256 == kept.sha256)
        #expect(try store.removeLeftovers() == [])
    }

    @Test func commitWithTheWrongSizeThrowsAndWritesNothing() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        var manifest = try upload(randomBytes(4096, seed: 5), as: backupID(), to: store)
        manifest.sizeBytes += 1
        let error = #expect(throws: BackupStoreError.self) { try store.commit(manifest) }
        guard case .incomplete(let object, 4097, 4096)? = error else {
            Issue.record("expected incomplete, got \(String(describing: error))")
            return
        }
        #expect(object == temp.file(manifest.object))
        #expect(error?.description.contains("no manifest was written") == true)
        #expect(try store.list() == [])
        #expect(directoryNames(temp.path) == [manifest.object])

        var missing = manifest
        missing.object = "\(backupID(1)).tar.zst.age"
        #expect(throws: BackupStoreError.self) { try store.commit(missing) }
        #expect(try store.list() == [])

        manifest.sizeBytes -= 1
        try store.commit(manifest)
        #expect(try store.list() == [manifest])
        // A second commit of the same id would replace a backup: refused.
        #expect(throws: BackupStoreError.self) { try store.commit(manifest) }
    }

    @Test func deleteRemovesManifestThenObject() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        let first = try backUp([1], as: backupID(0), to: store)
        let second = try backUp([2], as: backupID(1), to: store)
        try store.delete(first)
        #expect(try store.list() == [second])
        #expect(directoryNames(temp.path) == [second.fileName, second.object])
        let error = #expect(throws: BackupStoreError.self) { try store.delete(first) }
        guard case .notFound(let id, _)? = error else {
            Issue.record("expected notFound, got \(String(describing: error))")
            return
        }
        #expect(id == first.id)
        #expect(throws: BackupStoreError.self) { try store.updateManifest(first) }
    }

    @Test func abortRemovesWhatTheUploadWrote() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        let writing = try store.beginUpload(object: "\(backupID(0)).tar")
        try writing.write([1, 2, 3])
        writing.abort()
        let finished = try store.beginUpload(object: "\(backupID(1)).tar")
        try finished.write([1, 2, 3])
        try finished.finish()
        #expect(directoryNames(temp.path) == ["\(backupID(1)).tar"])
        finished.abort()
        #expect(directoryNames(temp.path) == [])
        #expect(throws: BackupStoreError.self) { try writing.write([4]) }
    }

    @Test(arguments: ["", "x.tar", "../\(backupID()).tar", ".\(backupID()).tar", "\(backupID())", "\(backupID()).manifest.json",
                      "a/\(backupID()).tar"])
    func objectNamesMustBeginWithABackupID(name: String) throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let store = try LocalBackupStore(directory: temp.path)
        #expect(throws: BackupStoreError.self) { try store.beginUpload(object: name) }
        #expect(directoryNames(temp.path) == [])
    }

    @Test func anUnwritableDirectoryIsOneClearError() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        try "x".write(toFile: temp.file("file"))
        let error = #expect(throws: BackupStoreError.self) { try LocalBackupStore(directory: temp.file("file")) }
        #expect(error?.description == "cannot store backups in \(temp.file("file")): it exists and is not a directory: create it or fix its permissions")
    }

    /// A real ENOSPC: a 2 MiB tmpfs, 5 MiB written. The partial file goes, the earlier backup stays.
    @Test func diskFullRemovesThePartialFileAndKeepsEarlierBackups() throws {
        let temp = try TempDirectory(prefix: "opskit-store")
        defer { temp.remove() }
        let mountPoint = temp.file("small")
        #expect(mkdir(mountPoint, 0o700) == 0)
        guard system("mount -t tmpfs -o size=2m tmpfs '\(mountPoint)'") == 0 else {
            Issue.record("mount -t tmpfs failed (the tests need root)")
            return
        }
        // A lazy unmount if something still holds a file there (a child another test forked at the wrong moment).
        defer { _ = system("umount '\(mountPoint)' || umount -l '\(mountPoint)'") }
        let store = try LocalBackupStore(directory: mountPoint + "/backups")
        let earlier = try backUp(randomBytes(300_000, seed: 6), as: backupID(0), to: store)

        let upload = try store.beginUpload(object: "\(backupID(60)).tar.zst.age")
        let big = randomBytes(5 << 20, seed: 7)
        let error = #expect(throws: BackupStoreError.self) {
            for start in stride(from: 0, to: big.count, by: 64 << 10) {
                try upload.write(Array(big[start..<start + (64 << 10)]))
            }
            try upload.finish()
        }
        guard case .diskFull(let directory, let free)? = error else {
            Issue.record("expected diskFull, got \(String(describing: error))")
            return
        }
        #expect(directory == mountPoint + "/backups")
        #expect(free < 2 << 20)
        #expect(error?.description.hasPrefix("disk full in \(mountPoint)/backups (") == true)
        #expect(error?.description.hasSuffix("free): nothing from this run was kept: free space or prune old backups") == true)
        #expect(directoryNames(mountPoint + "/backups") == [earlier.fileName, earlier.object])
        #expect(try store.list() == [earlier])
        #expect(try readBack(earlier, from: store).sha256 == earlier.sha256)
        #expect(throws: BackupStoreError.self) { try upload.finish() }
    }

    private func mode(of path: String) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt32(info.st_mode) & 0o7777
    }
}
