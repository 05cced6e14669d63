#if canImport(Glibc)
import Glibc
#endif
import Backup
import Shell
import TestSupport
import Testing

/// Snapshots of SQLite databases that another process keeps writing, checked with the `sqlite3` CLI.
@Suite struct SQLiteSnapshotTests {
    /// Commits `INSERT INTO a`, `INSERT INTO b` with the same value 1, 2, 3, … in one transaction each, until a
    /// stop file appears: in any consistent state both tables hold exactly 1…n.
    static let writer = """
        import os, sqlite3, sys
        path, stop = sys.argv[1], sys.argv[2]
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")  # no fsync per commit: same locking, many more commits per second
        i = 0
        while not os.path.exists(stop) and i < 2000000:
            i += 1
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO a(v) VALUES (?)", (i,))
            db.execute("INSERT INTO b(v) VALUES (?)", (i,))
            db.execute("COMMIT")
            if i == 100:
                print("writing", flush=True)
        print(i, flush=True)
        """

    /// Creates a database in `mode` with the two tables and ~8 MB of padding, so a copy takes a while.
    private func makeDatabase(_ path: String, journalMode: String) async throws {
        _ = try await sqlite(path, """
            PRAGMA journal_mode=\(journalMode);
            CREATE TABLE a(id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
            CREATE TABLE b(id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
            CREATE TABLE padding(x BLOB);
            WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
            INSERT INTO padding SELECT randomblob(400) FROM c;
            """)
    }

    @discardableResult
    private func sqlite(_ path: String, _ sql: String, readOnly: Bool = false) async throws -> String {
        try await Runner().capture(Command(argv: ["sqlite3", "-batch"] + (readOnly ? ["-readonly"] : []) + [path, sql]))
            .stdoutText
    }

    /// (count, sum, max) of table a and of table b.
    private func tallies(_ path: String) async throws -> [[Int]] {
        let text = try await sqlite(path, """
            SELECT count(*), coalesce(sum(v), 0), coalesce(max(v), 0) FROM a;
            SELECT count(*), coalesce(sum(v), 0), coalesce(max(v), 0) FROM b;
            """, readOnly: true)
        return text.split(separator: "\n").map { $0.split(separator: "|").compactMap { Int($0) } }
    }

    private func readLine(_ process: StreamingProcess) throws -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while try withUnsafeMutableBytes(of: &byte, { try process.readStdout(into: $0) }) == 1, byte != 10 {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    @Test(arguments: ["WAL", "DELETE"])
    func snapshotsAreConsistentWhileAnotherProcessWrites(journalMode: String) async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let db = dir.file("live.db")
        try await makeDatabase(db, journalMode: journalMode)
        try Self.writer.write(toFile: dir.file("writer.py"))
        let writer = try StreamingProcess.spawn(Command("python3", dir.file("writer.py"), db, dir.file("stop")))
        #expect(try readLine(writer) == "writing")

        var counts: [Int] = []
        for index in 0..<3 {
            let snapshot = dir.file("snapshot-\(index).db")
            try SQLiteDatabase.snapshot(of: db, to: snapshot)
            // Self-contained: no -wal beside it, and the header says rollback journal (bytes 18/19 are 1, WAL is 2).
            #expect(access(snapshot + "-wal", F_OK) != 0)
            let header = try #require(readBytes(snapshot, count: 20))
            #expect(header[18] == 1 && header[19] == 1)
            #expect(try SQLiteDatabase.integrityCheck(path: snapshot) == [])
            let t = try await tallies(snapshot)
            let n = try #require(t.first?.first)
            // Both tables hold exactly 1…n: the transactions are all in or all out, and none is missing.
            #expect(t == [[n, n * (n + 1) / 2, n], [n, n * (n + 1) / 2, n]])
            #expect(n >= 100)
            counts.append(n)
        }
        try "".write(toFile: dir.file("stop"))
        let final = Int(try readLine(writer)) ?? -1
        try writer.wait()
        // Prefixes of one history, in order, all taken while the writer was still going.
        #expect(counts == counts.sorted())
        #expect(counts.allSatisfy { $0 <= final })
        #expect(try await sqlite(db, "PRAGMA journal_mode;") == journalMode.lowercased())
    }

    @Test func aLockHeldLongerThanTheTimeoutIsBusyAndLeavesNoFile() async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let db = dir.file("locked.db")
        try await makeDatabase(db, journalMode: "DELETE")
        // An exclusive lock in rollback-journal mode keeps every reader out until stdin closes.
        let holder = try StreamingProcess.spawn(
            Command("python3", "-c", """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1], isolation_level=None)
                db.execute("BEGIN EXCLUSIVE")
                db.execute("INSERT INTO a(v) VALUES (1)")
                print("locked", flush=True)
                sys.stdin.read()
                """, db),
            stdin: .pipe)
        #expect(try readLine(holder) == "locked")
        let snapshot = dir.file("snapshot.db")
        #expect(throws: SQLiteError.busy(path: db, seconds: 0.5)) {
            try SQLiteDatabase.snapshot(of: db, to: snapshot, timeout: 0.5)
        }
        #expect(access(snapshot, F_OK) != 0)
        holder.closeStdin()
        try holder.wait()
        #expect(SQLiteError.busy(path: db, seconds: 0.5).description.contains("stayed locked for 0.5s"))
    }

    /// A writer killed mid-transaction leaves a hot journal; a read-only snapshot must neither roll it back
    /// (that would write the source) nor copy the half-written pages: it says what to do instead.
    @Test func aHotJournalFromACrashedWriterIsExplained() async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let db = dir.file("crashed.db"), snapshot = dir.file("snapshot.db")
        try await sqlite(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        let writer = try StreamingProcess.spawn(
            Command("python3", "-c", """
                import sqlite3, sys, time
                db = sqlite3.connect(sys.argv[1], isolation_level=None)
                db.execute("PRAGMA cache_size=5")  # spill to the file (journal first) long before COMMIT
                db.execute("BEGIN")
                for i in range(5000):
                    db.execute("INSERT INTO t VALUES (randomblob(300))")
                print("spilled", flush=True)
                time.sleep(60)
                """, db))
        #expect(try readLine(writer) == "spilled")
        writer.kill()
        _ = try? writer.wait()
        #expect(access(db + "-journal", F_OK) == 0)

        let error = try #require(throws: SQLiteError.self) { try SQLiteDatabase.snapshot(of: db, to: snapshot) }
        guard case .failed(let path, _, let message) = error else { Issue.record("unexpected \(error)"); return }
        #expect(path == db && message.contains("hot journal"))
        #expect(!error.description.contains("\n"))
        #expect(access(snapshot, F_OK) != 0)
        #expect(access(db + "-journal", F_OK) == 0)
        // Once a read-write connection has recovered, the snapshot works and holds the committed row only.
        #expect(try await sqlite(db, "SELECT count(*) FROM t;") == "1")
        try SQLiteDatabase.snapshot(of: db, to: snapshot)
        #expect(try await sqlite(snapshot, "SELECT count(*) FROM t;", readOnly: true) == "1")
    }

    @Test func aMissingDatabaseIsReportedAndNothingIsCreated() throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let missing = dir.file("nope.db"), snapshot = dir.file("snapshot.db")
        #expect(throws: SQLiteError.missing(path: missing)) { try SQLiteDatabase.snapshot(of: missing, to: snapshot) }
        #expect(throws: SQLiteError.missing(path: missing)) { try SQLiteDatabase.integrityCheck(path: missing) }
        #expect(access(missing, F_OK) != 0)
        #expect(access(snapshot, F_OK) != 0)
        #expect(!SQLiteDatabase.looksLikeDatabase(path: missing))
        let text = SQLiteError.missing(path: missing).description
        #expect(text.contains(missing) && text.contains("no snapshot file was created") && !text.contains("\n"))
    }

    @Test func aTextFileOrADirectoryIsNotADatabase() throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let text = dir.file("dump.sql"), snapshot = dir.file("snapshot.db")
        try "CREATE TABLE t(x);\n".write(toFile: text)
        #expect(!SQLiteDatabase.looksLikeDatabase(path: text))
        #expect(throws: SQLiteError.notADatabase(path: text)) { try SQLiteDatabase.snapshot(of: text, to: snapshot) }
        #expect(throws: SQLiteError.notADatabase(path: dir.path)) { try SQLiteDatabase.snapshot(of: dir.path, to: snapshot) }
        #expect(throws: SQLiteError.notADatabase(path: text)) { try SQLiteDatabase.integrityCheck(path: text) }
        #expect(access(snapshot, F_OK) != 0)
    }

    @Test func anExistingDestinationIsNeverOverwritten() async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let db = dir.file("live.db"), snapshot = dir.file("snapshot.db")
        try await sqlite(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        try "keep me\n".write(toFile: snapshot)
        let error = try #require(throws: SQLiteError.self) { try SQLiteDatabase.snapshot(of: db, to: snapshot) }
        guard case .failed(let path, _, let message) = error else { Issue.record("unexpected \(error)"); return }
        #expect(path == snapshot && message.contains("already exists"))
        #expect(OpsKitProcess.read(snapshot) == "keep me\n")
        #expect(SQLiteDatabase.looksLikeDatabase(path: db))
    }

    /// Tests run as root, whom permission bits do not stop; the check runs on a thread whose filesystem uid is
    /// `nobody` (setfsuid is per thread and drops CAP_DAC_OVERRIDE for it), so EACCES is real.
    @Test func anUnreadableFileOrDirectoryIsReported() async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        chmod(dir.path, 0o755)
        let db = dir.file("secret.db")
        try await sqlite(db, "CREATE TABLE t(x);")
        chmod(db, 0o000)
        let closedDir = dir.file("closed")
        mkdir(closedDir, 0o700)
        let inClosed = closedDir + "/inner.db"
        try await sqlite(inClosed, "CREATE TABLE t(x);")

        var results: [Result<Void, any Error>] = []
        try asNobody {
            results = [db, inClosed].map { path in
                Result { try SQLiteDatabase.snapshot(of: path, to: dir.file("never.db")) }
            }
        }
        for (result, path) in zip(results, [db, inClosed]) {
            #expect(throws: SQLiteError.unreadable(path: path, reason: "Permission denied")) { try result.get() }
        }
        #expect(access(dir.file("never.db"), F_OK) != 0)
    }

    @Test func corruptionIsFoundByTheIntegrityCheck() async throws {
        let dir = try TempDirectory(prefix: "opskit-sqlite")
        defer { dir.remove() }
        let db = dir.file("broken.db")
        try await sqlite(db, """
            PRAGMA page_size=4096;
            CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
            WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
            INSERT INTO t SELECT i, printf('name-%06d', i) FROM c;
            CREATE INDEX t_name ON t(name);
            """)
        #expect(try SQLiteDatabase.integrityCheck(path: db) == [])
        // Garbage over pages 4–6 (table and index b-tree pages); page 1, with the header and schema, stays intact.
        let fd = open(db, O_WRONLY)
        let garbage = [UInt8](repeating: 0xA5, count: 3 * 4096)
        #expect(garbage.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 3 * 4096) } == 3 * 4096)
        close(fd)
        #expect(SQLiteDatabase.looksLikeDatabase(path: db))
        let problems = try SQLiteDatabase.integrityCheck(path: db)
        #expect(!problems.isEmpty && problems.count <= 20)
        #expect(problems != ["ok"])
    }

    // MARK: - Helpers

    private func readBytes(_ path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
        return n == count ? bytes : nil
    }
}

/// Runs `body` on a new thread whose filesystem uid and gid are nobody's (65534), then ends the thread.
private func asNobody(_ body: @escaping () -> Void) throws {
    let job = NobodyJob(body)
    let context = Unmanaged.passRetained(job).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<NobodyJob>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<NobodyJob>.fromOpaque(context).release()
        throw TestSupportError("pthread_create failed: \(rc)")
    }
    pthread_join(thread, nil)
    if let failure = job.failure { throw TestSupportError(failure) }
}

private final class NobodyJob {
    typealias SetFS = @convention(c) (UInt32) -> Int32
    let body: () -> Void
    var failure: String?

    init(_ body: @escaping () -> Void) { self.body = body }

    func run() {
        guard let uid = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid"),
              let gid = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsgid")
        else { failure = "setfsuid is not available"; return }
        let setfsuid = unsafeBitCast(uid, to: SetFS.self), setfsgid = unsafeBitCast(gid, to: SetFS.self)
        _ = setfsgid(65534)
        _ = setfsuid(65534)
        // setfsuid returns the previous value: asking again tells whether the change took.
        guard setfsuid(65534) == 65534 else { failure = "setfsuid(65534) did not take effect"; return }
        body()
    }
}
