#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// The faults a 3 a.m. backup meets: killed mid-run, a full disk, a failing run that must alert.
@Suite(.serialized) struct BackupFaultTests {
    /// Enough data that a backup or restore takes a moment, so it can be killed in the middle.
    static func addBulk(_ f: BackupFixture, megabytes: Int = 300) async throws {
        try await BackupFixture.sh("""
            mkdir -p '\(f.data)/bulk'
            for i in $(seq 1 \(megabytes / 20)); do head -c 20000000 /dev/urandom > '\(f.data)/bulk/part-'$i.bin; done
            """)
    }

    @Test func killNineDuringABackupLeavesNoBackupAndTheNextRunCleansUp() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        try await Self.addBulk(f)
        let process = try OpsKitProcess.start("backup-db", ["--compression", "gzip", "--level", "9"],
                                              environment: ["OPSKIT_STATE_DIR": f.state, "OPSKIT_CONFIG": f.config],
                                              outputDirectory: f.root.path)
        // Wait until the object is being written, then kill -9.
        var sawPartial = false
        for _ in 0..<400 {
            let files = try await BackupFixture.sh("ls -A '\(f.store)' 2>/dev/null || true")
            if !files.trimmingCharacters().isEmpty { sawPartial = true; break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(sawPartial)
        process.signal(SIGKILL)
        _ = try await process.wait()

        #expect(try await f.listed().isEmpty)
        let afterKill = try await BackupFixture.sh("ls -A '\(f.store)'")
        #expect(!afterKill.trimmingCharacters().isEmpty, "the killed run left nothing to clean up")
        #expect(!afterKill.contains("manifest"), "\(afterKill)")

        let next = try await f.run("backup-db", "--compression", "none")
        #expect(next.exitCode == 0, "\(next.stderr)")
        let listed = try await f.listed()
        #expect(listed.count == 1)
        let left = try await BackupFixture.sh("ls -A '\(f.store)'").split(separator: "\n")
        #expect(left.count == 2, "expected one object and one manifest: \(left)")
    }

    @Test func killNineDuringARestoreLeavesLiveDataIntact() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        try await Self.addBulk(f)
        #expect(try await f.run("backup-db", "--compression", "none").exitCode == 0)
        try await BackupFixture.sh("echo changed > '\(f.data)/changed.txt'")
        let live = try await BackupFixture.fingerprint(f.data)

        let process = try OpsKitProcess.start("restore", ["latest", "--yes", "--no-safety-backup"],
                                              environment: ["OPSKIT_STATE_DIR": f.state, "OPSKIT_CONFIG": f.config],
                                              outputDirectory: f.root.path)
        var staged = false
        for _ in 0..<400 {
            let names = try await BackupFixture.sh("ls -A '\(f.root.file("app/data"))'")
            if names.contains(".opskit-restore-") { staged = true; break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(staged)
        process.signal(SIGKILL)
        _ = try await process.wait()
        #expect(try await BackupFixture.fingerprint(f.data) == live)

        // The next restore clears the leftover staging and completes.
        let again = try await f.run("restore", "latest", "--yes", "--no-safety-backup")
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(!(try await BackupFixture.fingerprint(f.data)).contains("changed.txt"))
        let names = try await BackupFixture.sh("ls -A '\(f.root.file("app/data"))'")
        #expect(!names.contains("opskit"), "\(names)")
    }

    @Test func aFullLocalStoreFailsCleanlyAndAlerts() async throws {
        let sink = try TempDirectory(prefix: "opskit-sink")
        let url = try await BackupFixture.sh("'\(repositoryRoot())/scripts/services/webhook-sink' start '\(sink.path)'")
            .trimmingCharacters()
        defer { Task { _ = try? await BackupFixture.sh("'\(repositoryRoot())/scripts/services/webhook-sink' stop '\(sink.path)'") } }
        let small = try TempDirectory(prefix: "opskit-full")
        try await BackupFixture.sh("mount -t tmpfs -o size=1m tmpfs '\(small.path)'")
        defer { Task { _ = try? await BackupFixture.sh("umount '\(small.path)'") } }

        let f = try await BackupFixture.make(extraConfig: """
              notify:
                webhook: \(url)/hook
              deadman: \(url)/ping
            """, store: small.path)
        defer { f.remove() }
        try await Self.addBulk(f, megabytes: 20)

        let first = try await f.run("backup-db", "--compression", "none")
        #expect(first.exitCode == 1)
        #expect(first.stderr.contains("full"), "\(first.stderr)")
        let left = try await BackupFixture.sh("ls -A '\(small.path)'")
        #expect(left.trimmingCharacters().isEmpty, "a full disk left \(left)")
        let second = try await f.run("backup-db", "--compression", "none")
        #expect(second.exitCode == 1)

        let received = OpsKitProcess.read(sink.file("received"))
        #expect(received.contains("/ping/start"))
        #expect(received.contains("/ping/fail"))
        #expect(received.contains("/hook") && received.contains("backup.failed"), "\(received)")
        #expect(received.contains("\"consecutiveFailures\":2"), "\(received)")

        // Room again: the backup works, the counter resets, the dead-man hears success, webhooks hear recovery.
        try await BackupFixture.sh("rm -rf '\(f.data)/bulk'")
        let third = try await f.run("backup-db")
        #expect(third.exitCode == 0, "\(third.stderr)")
        let after = OpsKitProcess.read(sink.file("received"))
        #expect(after.contains("/ping ") || after.contains("/ping\n") || after.split(separator: "\n").contains { $0.hasPrefix("/ping ") })
        #expect(after.contains("backup.recovered"))
        let counter = OpsKitProcess.read(f.state + "/backuptest/backup-failures.json")
        #expect(counter.contains("\"consecutiveFailures\" : 0") || counter.contains("\"consecutiveFailures\":0"), "\(counter)")
    }

    @Test func retentionKeepsPermanentAndNamedBackupsAndDryRunListsExactly() async throws {
        let f = try await BackupFixture.make()
        defer { f.remove() }
        #expect(try await f.run("backup-db", "pre-migration", "--permanent").exitCode == 0)
        for _ in 0..<3 {
            #expect(try await f.run("backup-db", "--keep-last", "10").exitCode == 0)
            try await Task.sleep(for: .milliseconds(1100))
        }
        #expect(try await f.listed().count == 4)
        let dry = try await f.run("backup-db", "--prune", "--keep-last", "1", "--dry-run")
        #expect(dry.exitCode == 0)
        let wouldGo = dry.stdout.split(separator: "\n").filter { $0.hasPrefix("would remove") }
        #expect(wouldGo.count == 2, "\(dry.stdout)")
        #expect(try await f.listed().count == 4)
        let real = try await f.run("backup-db", "--prune", "--keep-last", "1")
        #expect(real.exitCode == 0, "\(real.stderr)")
        let ids = try await f.listed().compactMap { $0["id"]?.stringValue }
        #expect(ids.count == 2)
        #expect(ids.contains { $0.hasPrefix("pre-migration-") })
        #expect(ids.allSatisfy { id in !wouldGo.contains { $0.hasSuffix(id) } })
    }

    @Test func aRestoreWhoseAppStaysUnhealthyIsSwappedBack() async throws {
        let f = try await BackupFixture.make(extraConfig: """
              health_url: http://127.0.0.1:1/api/health
              health_timeout: 2
            """)
        defer { f.remove() }
        #expect(try await f.run("backup-db", "--quiet").exitCode == 0)
        try await BackupFixture.sh("""
            echo changed > '\(f.data)/changed.txt'
            sqlite3 '\(f.database)' "INSERT INTO notes(body) VALUES ('written after the backup');"
            """)
        let live = try await BackupFixture.fingerprint(f.data)
        let liveNotes = try await f.notes()

        let restore = try await f.run("restore", "latest", "--yes")
        #expect(restore.exitCode == 1)
        #expect(restore.stderr.contains("not healthy") && restore.stderr.contains("put back as it was"), "\(restore.stderr)")
        #expect(try await BackupFixture.fingerprint(f.data) == live)
        #expect(try await f.notes() == liveNotes)
        let names = try await BackupFixture.sh("ls -A '\(f.root.file("app/data"))'")
        #expect(!names.contains("opskit"), "\(names)")
    }

    @Test func anUnreadableSourceFileFailsTheBackupInsteadOfSkippingIt() async throws {
        // Root reads everything, so this runs backup-db as `nobody` over a tree with one file it cannot read.
        let f = try await BackupFixture.make()
        defer { f.remove() }
        try await BackupFixture.sh("""
            set -e
            echo secret > '\(f.data)/nested/private.key'; chmod 000 '\(f.data)/nested/private.key'
            chmod 755 '\(f.root.path)'; chown -R nobody '\(f.state)'; mkdir -p '\(f.store)'; chown nobody '\(f.store)'
            chmod -R a+rX '\(f.root.file("app"))'; chmod 000 '\(f.data)/nested/private.key'; chmod 644 '\(f.config)'
            """)
        let binary = OpsKitBinary.path
        let out = try await Runner().capture(Command(
            "runuser", "-u", "nobody", "--", "env", "OPSKIT_STATE_DIR=\(f.state)", "OPSKIT_CONFIG=\(f.config)",
            "NO_COLOR=1", binary, "backup-db", "--source", "dir:\(f.data)",
            allowedExitCodes: [0, 1, 2]))
        #expect(out.termination == .exited(1), "\(out.stderrText)")
        #expect(out.stderrText.contains("private.key") && out.stderrText.lowercased().contains("permission denied"),
                "\(out.stderrText)")
        #expect(try await BackupFixture.sh("ls -A '\(f.store)'").trimmingCharacters().isEmpty)
    }
}
