#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// `backup-db` and `restore` end to end through the built binary, on real files, a real SQLite database,
/// GNU tar, zstd and the age CLI.
@Suite(.serialized) struct BackupCLITests {
    @Test func backupListVerifyAndRestoreElsewhereRoundTrip() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let before = try await BackupFixture.fingerprint(f.data)

        let backup = try await f.run("backup-db", "--json")
        #expect(backup.exitCode == 0, "\(backup.stderr)")
        let done = try #require(JSONValue.parse(Array(backup.stdout.utf8)))
        let id = try #require(done["backup"]?["id"]?.stringValue)
        #expect(id.hasPrefix("backup-"))
        let sha = try #require(done["backup"]?["sha256"]?.stringValue)
        let object = try #require(done["backup"]?["object"]?.stringValue)
        #expect(object == id + ".tar.zst")

        // The object is what the manifest says, byte for byte (sha256sum), and GNU tar with zstd reads it.
        let sum = try await BackupFixture.sh("sha256sum '\(f.store)/\(object)' | cut -d' ' -f1")
        #expect(sum.trimmingCharacters() == sha)
        let listing = try await BackupFixture.sh("tar --zstd -tf '\(f.store)/\(object)'")
        #expect(listing.contains("opskit-backup.json"))
        #expect(listing.contains("files/files/nested/deeper/hello.txt"))
        #expect(listing.contains("sqlite/bot.db"))

        // Listed, with the columns a person needs.
        let list = try await f.run("backup-db", "--list")
        #expect(list.exitCode == 0)
        #expect(list.stdout.contains(id) && list.stdout.contains("ENCRYPTED") && list.stdout.contains("VERIFIED"))
        let verify = try await f.run("backup-db", "--verify", "latest")
        #expect(verify.exitCode == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("intact"))
        #expect(try await f.listed().first?["verifiedAt"] != nil)

        // Restore elsewhere: the tree and the database come back identical; live data untouched.
        let target = f.root.file("restored")
        let restore = try await f.run("restore", id, "--to", target)
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        #expect(try await BackupFixture.fingerprint(target + "/files/files") == before)
        #expect(try await f.notes(target + "/sqlite/bot.db") == f.notes())
        #expect(try await BackupFixture.fingerprint(f.data) == before)

        // --to refuses a directory with something in it.
        let again = try await f.run("restore", id, "--to", target)
        #expect(again.exitCode == 1)
        #expect(again.stderr.contains("not empty"), "\(again.stderr)")
    }

    /// A data directory with `current -> /opt/…` style links: what was backed up comes back, links as they were.
    @Test func symlinksPointingAnywhereAreRestoredAsTheyWere() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        _ = try await BackupFixture.sh("ln -s /etc/hostname '\(f.data)/absolute' && ln -s ../../../outside '\(f.data)/escaping'")
        let backup = try await f.run("backup-db", "--quiet")
        #expect(backup.exitCode == 0, "\(backup.stderr)")
        let target = f.root.file("elsewhere")
        let restored = try await f.run("restore", "latest", "--to", target)
        #expect(restored.exitCode == 0, "\(restored.stderr)")
        #expect(try await BackupFixture.sh("readlink '\(target)/files/files/absolute'").trimmingCharacters() == "/etc/hostname")
        #expect(try await BackupFixture.sh("readlink '\(target)/files/files/escaping'").trimmingCharacters() == "../../../outside")
        let inPlace = try await f.run("restore", "latest", "--yes")
        #expect(inPlace.exitCode == 0, "\(inPlace.stderr)")
        #expect(try await BackupFixture.sh("readlink '\(f.data)/absolute'").trimmingCharacters() == "/etc/hostname")
    }

    @Test func restoreInPlaceSwapsAtomicallyAndKeepsASafetyBackup() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let original = try await BackupFixture.fingerprint(f.data)
        let originalNotes = try await f.notes()
        #expect(try await f.run("backup-db", "--quiet").exitCode == 0)

        // Live data changes after the backup.
        try await BackupFixture.sh("""
            rm '\(f.data)/nested/log.txt'; echo changed > '\(f.data)/new.txt'
            sqlite3 '\(f.database)' "DELETE FROM notes WHERE id > 10; INSERT INTO notes(body) VALUES ('after');"
            """)
        let changed = try await BackupFixture.fingerprint(f.data)
        #expect(changed != original)

        // Without a terminal and without --yes it refuses and changes nothing.
        let refused = try await f.run("restore", "latest")
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("--yes"), "\(refused.stderr)")
        #expect(try await BackupFixture.fingerprint(f.data) == changed)

        let restore = try await f.run("restore", "latest", "--yes")
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        #expect(try await BackupFixture.fingerprint(f.data) == original)
        #expect(try await f.notes() == originalNotes)
        #expect(restore.stdout.contains("safety backup pre-restore-"), "\(restore.stdout)")
        // Nothing staged is left behind.
        let leftovers = try await BackupFixture.sh("ls -A '\(f.root.file("app/data"))'")
        #expect(!leftovers.contains("opskit"), "\(leftovers)")

        // The safety backup holds what was live before the restore.
        let ids = try await f.listed().compactMap { $0["id"]?.stringValue }
        let safety = try #require(ids.first { $0.hasPrefix("pre-restore-") })
        let look = f.root.file("look")
        #expect(try await f.run("restore", safety, "--to", look).exitCode == 0)
        #expect(try await BackupFixture.fingerprint(look + "/files/files") == changed)
    }

    @Test func encryptedBackupsOpenWithTheAgeCLIAndNeedTheRightIdentity() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let key = f.root.file("backup.key")
        let other = f.root.file("other.key")
        try await BackupFixture.sh("age-keygen -o '\(key)' 2>/dev/null; age-keygen -o '\(other)' 2>/dev/null")
        let recipient = try await BackupFixture.sh("age-keygen -y '\(key)'").trimmingCharacters()

        let backup = try await f.run("backup-db", "--encrypt-to", recipient, "--json")
        #expect(backup.exitCode == 0, "\(backup.stderr)")
        let object = try #require(JSONValue.parse(Array(backup.stdout.utf8))?["backup"]?["object"]?.stringValue)
        #expect(object.hasSuffix(".tar.zst.age"))
        // No lock-in: stock tools open it.
        let listing = try await BackupFixture.sh("age -d -i '\(key)' '\(f.store)/\(object)' | zstd -d | tar -tf -")
        #expect(listing.contains("sqlite/bot.db"))

        // Verify without an identity checks the checksum only, and says so.
        let shallow = try await f.run("backup-db", "--verify", "latest")
        #expect(shallow.exitCode == 0 && shallow.stdout.contains("checksum only"), "\(shallow.stdout) \(shallow.stderr)")
        let deep = try await f.run("backup-db", "--verify", "latest", "--identity", key)
        #expect(deep.exitCode == 0 && deep.stdout.contains("decryption"), "\(deep.stdout) \(deep.stderr)")

        // Restoring needs an identity, and the wrong one is refused before anything is touched.
        let target = f.root.file("restored")
        let none = try await f.run("restore", "latest", "--to", target)
        #expect(none.exitCode == 1 && none.stderr.contains("--identity"), "\(none.stderr)")
        let wrong = try await f.run("restore", "latest", "--to", target, "--identity", other)
        #expect(wrong.exitCode == 1, "\(wrong.stderr)")
        #expect(!PathExists.check(target + "/files"))
        let right = try await f.run("restore", "latest", "--to", f.root.file("restored2"), "--identity", key)
        #expect(right.exitCode == 0, "\(right.stderr)")
        #expect(try await f.notes(f.root.file("restored2") + "/sqlite/bot.db") == f.notes())
    }

    @Test func badSourcesFailInOneLineAndWriteNothing() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        for (spec, words) in [("dir:/nonexistent/data", "no such directory"), ("sqlite:/nonexistent.db", "no such file"),
                              ("dir:relative/path", "absolute path"), ("ftp://x", "expected dir:PATH")] {
            let out = try await f.run("backup-db", "--source", spec)
            #expect(out.exitCode != 0, "\(spec)")
            #expect(out.stderr.contains(words), "\(spec): \(out.stderr)")
            #expect(out.stderr.split(separator: "\n").count <= 2, "\(out.stderr)")
        }
        let notDB = f.root.file("app/data/files/nested/log.txt")
        let out = try await f.run("backup-db", "--source", "sqlite:" + notDB)
        #expect(out.exitCode == 1 && out.stderr.contains("not an SQLite database"), "\(out.stderr)")
        let stored = try await BackupFixture.sh("ls -A '\(f.store)' 2>/dev/null || true")
        #expect(stored.trimmingCharacters().isEmpty, "\(stored)")
    }

    @Test func aCorruptedObjectIsRefusedAndNothingIsTouched() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let backup = try await f.run("backup-db", "--json")
        let object = try #require(JSONValue.parse(Array(backup.stdout.utf8))?["backup"]?["object"]?.stringValue)
        // Flip every bit of byte 1000: writing a fixed byte left the object intact when it already held that byte
        // (1 run in 256 did, and then nothing here was damaged).
        let path = "\(f.store)/\(object)"
        try await BackupFixture.sh(
            "b=$(od -An -tu1 -j1000 -N1 '\(path)' | tr -d ' '); "
                + "printf \"\\\\$(printf %o $((b ^ 255)))\" | dd of='\(path)' bs=1 seek=1000 conv=notrunc 2>/dev/null; "
                + "test \"$(od -An -tu1 -j1000 -N1 '\(path)' | tr -d ' ')\" -eq $((b ^ 255))")
        let live = try await BackupFixture.fingerprint(f.data)

        let verify = try await f.run("backup-db", "--verify", "latest")
        #expect(verify.exitCode == 1 && verify.stderr.contains("damaged"), "\(verify.stderr)")
        let restore = try await f.run("restore", "latest", "--yes")
        #expect(restore.exitCode == 1 && restore.stderr.contains("damaged"), "\(restore.stderr)")
        #expect(restore.stderr.contains("nothing was touched"))
        #expect(try await BackupFixture.fingerprint(f.data) == live)
        #expect(try await f.listed().count == 1) // no safety backup either: it stopped before that

        // Elsewhere (--to): one pass, the damage is found and named, and nothing extracted is left behind.
        let elsewhere = f.root.file("elsewhere")
        let to = try await f.run("restore", "latest", "--to", elsewhere)
        #expect(to.exitCode == 1 && to.stderr.contains("damaged"), "\(to.stderr)")
        #expect(try await BackupFixture.sh("ls -A '\(elsewhere)'").trimmingCharacters().isEmpty)
    }

    @Test func archivesWithEscapingEntriesAreRefused() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let backup = try await f.run("backup-db", "--json")
        let object = try #require(JSONValue.parse(Array(backup.stdout.utf8))?["backup"]?["object"]?.stringValue)
        let manifest = f.store + "/" + (object.replacing(".tar.zst", with: "") + ".manifest.json")
        let outside = f.root.file("outside")
        for (index, kind) in ["dotdot", "symlink"].enumerated() {
            // Replace the object with a hostile archive and make the manifest vouch for it.
            try await BackupFixture.sh("""
                set -e
                cd '\(f.root.path)'
                python3 - <<'PY'
                import tarfile, io
                with tarfile.open('evil.tar', 'w') as t:
                    def add(name, data=b'x', **kw):
                        info = tarfile.TarInfo(name); info.size = len(data)
                        for k, v in kw.items(): setattr(info, k, v)
                        t.addfile(info, io.BytesIO(data) if info.isfile() else None)
                    add('files/files/ok.txt')
                    if '\(kind)' == 'dotdot':
                        add('../../outside/evil.txt')
                    else:
                        # A link may point anywhere (restored as it was), but nothing is written through it.
                        info = tarfile.TarInfo('files/files/escape'); info.type = tarfile.SYMTYPE
                        info.linkname = '../../../outside'; t.addfile(info)
                        add('files/files/escape/evil.txt')
                PY
                zstd -q -f evil.tar -o '\(f.store)/\(object)'
                size=$(stat -c %s '\(f.store)/\(object)'); sum=$(sha256sum '\(f.store)/\(object)' | cut -d' ' -f1)
                python3 - '\(manifest)' "$size" "$sum" <<'PY'
                import json, sys
                path, size, digest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
                m = json.load(open(path)); m['sizeBytes'] = size; m['sha256'] = digest
                json.dump(m, open(path, 'w'))
                PY
                """)
            let target = f.root.file("restored-\(index)")
            let out = try await f.run("restore", "latest", "--to", target)
            #expect(out.exitCode == 1, "\(kind): \(out.stdout)")
            #expect(out.stderr.contains("..") || out.stderr.contains("outside") || out.stderr.contains("unsafe"),
                    "\(kind): \(out.stderr)")
            #expect(!PathExists.check(outside), "\(kind) wrote outside the target")
        }
    }
}

enum PathExists {
    static func check(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
