#if canImport(Glibc)
import Glibc
#endif
import CSQLite

/// Why an SQLite database could not be snapshotted or checked. The source database is never modified.
public enum SQLiteError: Error, CustomStringConvertible, Equatable {
    /// Nothing at the path (no snapshot file was created either).
    case missing(path: String)
    /// A file that is not an SQLite database (no "SQLite format 3" header): a dump, an encrypted file, a directory.
    case notADatabase(path: String)
    /// The file or its directory cannot be read by this user.
    case unreadable(path: String, reason: String)
    /// Another connection held a lock for longer than the timeout.
    case busy(path: String, seconds: Double)
    /// SQLite refused an operation; `message` is its own words.
    case failed(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case .missing(let path):
            "no SQLite database at \(path): nothing was backed up and no snapshot file was created — check the database path"
        case .notADatabase(let path):
            "\(path) is not an SQLite database (it does not start with \"SQLite format 3\"): nothing was backed up"
                + " — point the backup at the live database file, not a dump, an encrypted copy or a directory"
        case .unreadable(let path, let reason):
            "cannot read the SQLite database \(path): \(reason); nothing was backed up"
                + " — give the backup's user read access to the file and search access to its directories"
        case .busy(let path, let seconds):
            "the SQLite database \(path) stayed locked for \(Self.seconds(seconds)) by another connection: no snapshot was"
                + " taken and the database was not touched — retry when the writer is done, or raise the timeout"
        case .failed(let path, let operation, let message):
            "SQLite could not \(operation) (\(path)): \(message); the source database was not modified"
                + " and no partial snapshot was kept"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? "\(Int(value))s" : "\(value)s"
    }
}

/// Consistent copies and checks of SQLite databases that may be in use, through the SQLite library itself.
public enum SQLiteDatabase {
    /// The 16 bytes every SQLite 3 database file starts with.
    static let magic: [UInt8] = Array("SQLite format 3".utf8) + [0]

    /// A consistent snapshot of the live database at `path` written to `destination` (a new file) through
    /// SQLite's online backup API (sqlite3_backup_init/step/finish), never a file copy: correct while other
    /// processes write (WAL or rollback journal). Opens the source read-only and never creates it. Retries
    /// SQLITE_BUSY/LOCKED with a busy timeout up to `timeout` seconds. The destination is written, fsynced, and
    /// left in rollback-journal (DELETE) mode so it is a single self-contained file.
    ///
    /// All pages are copied in one step, under one read transaction: a backup done in slices restarts whenever
    /// another connection writes in between, and would never finish under a steady writer. In WAL mode writers
    /// go on meanwhile; in rollback-journal mode they wait (with their own busy timeouts) for the copy.
    ///
    /// - Throws: ``SQLiteError``. On any error the destination is removed again (an existing one is never touched).
    public static func snapshot(of path: String, to destination: String, timeout: Double = 30) throws {
        try checkSource(path)
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw SQLiteError.failed(
                path: destination, operation: "create the snapshot file",
                message: code == EEXIST ? "it already exists (it was left as it is)" : errnoText(code))
        }
        close(fd)
        var kept = false
        defer {
            if !kept {
                unlink(destination)
                unlink(destination + "-journal")
            }
        }

        let source = try SQLiteConnection(path: path, readOnly: true)
        let target = try SQLiteConnection(path: destination, readOnly: false)
        try copy(from: source, to: target, sourcePath: path, timeout: timeout)
        // A WAL source's header says WAL: without this the snapshot would want a -wal file beside it.
        let mode = try target.query("PRAGMA journal_mode=DELETE", operation: "switch the snapshot to rollback-journal mode")
        guard mode.first?.first?.lowercased() == "delete" else {
            throw SQLiteError.failed(
                path: destination, operation: "switch the snapshot to rollback-journal mode",
                message: "journal_mode stayed \(mode.first?.first ?? "unknown")")
        }
        try target.close()
        source.closeQuietly()
        try syncFile(destination)
        kept = true
    }

    /// `PRAGMA integrity_check` (opened read-only); returns [] when "ok", else the problems (first 20).
    public static func integrityCheck(path: String) throws -> [String] {
        try checkSource(path)
        let db = try SQLiteConnection(path: path, readOnly: true)
        defer { db.closeQuietly() }
        db.busyTimeout(seconds: 30)
        do {
            let lines = try db.query("PRAGMA integrity_check(20)", operation: "run an integrity check").compactMap(\.first)
            return lines == ["ok"] ? [] : Array(lines.prefix(20))
        } catch let error as SQLiteConnection.Failure where error.isCorruption {
            // Damage bad enough that the check itself cannot run (a broken schema page) is its finding.
            return [error.message]
        } catch let error as SQLiteConnection.Failure {
            throw error.asSQLiteError(path: path)
        }
    }

    /// True when the file starts with "SQLite format 3\0".
    public static func looksLikeDatabase(path: String) -> Bool {
        (try? header(of: path)) == magic
    }

    // MARK: - Internals

    /// Throws `.missing`, `.unreadable` or `.notADatabase` for anything that is not a readable SQLite file.
    static func checkSource(_ path: String) throws {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT { throw SQLiteError.missing(path: path) }
            throw SQLiteError.unreadable(path: path, reason: errnoText(code))
        }
        guard info.st_mode & 0o170000 == 0o100000 else { throw SQLiteError.notADatabase(path: path) }  // S_IFREG
        guard try header(of: path) == magic else { throw SQLiteError.notADatabase(path: path) }
    }

    /// The first 16 bytes of the file (fewer for a shorter one).
    private static func header(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SQLiteError.unreadable(path: path, reason: errnoText(errno)) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SQLiteError.unreadable(path: path, reason: errnoText(errno)) }
            if n == 0 { break }
            filled += n
        }
        return Array(bytes[..<filled])
    }

    /// Runs the online backup in one step, retrying BUSY/LOCKED until `timeout` seconds have passed.
    private static func copy(from source: SQLiteConnection, to target: SQLiteConnection, sourcePath: String, timeout: Double) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(max(timeout, 0) * 1000))
        while true {
            let left = deadline - clock.now
            source.busyTimeout(seconds: max(Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18, 0))
            guard let backup = sqlite3_backup_init(target.handle, "main", source.handle, "main") else {
                throw target.failure("start the online backup").asSQLiteError(path: sourcePath)
            }
            let step = sqlite3_backup_step(backup, -1)
            let finish = sqlite3_backup_finish(backup)
            if step == SQLITE_DONE && finish == SQLITE_OK { return }
            let code = step == SQLITE_DONE ? finish : step
            if code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED {
                if clock.now >= deadline { throw SQLiteError.busy(path: sourcePath, seconds: timeout) }
                usleep(50_000)
                continue
            }
            let message = String(cString: sqlite3_errstr(code))
            let failure = SQLiteConnection.Failure(code: code, operation: "copy the database (online backup)", message: message)
            throw failure.asSQLiteError(path: sourcePath)
        }
    }

    /// fsyncs the file and the directory that now names it.
    private static func syncFile(_ path: String) throws {
        for (target, flags) in [(path, O_RDONLY), (directoryName(of: path), O_RDONLY | O_DIRECTORY)] {
            let fd = open(target, flags | O_CLOEXEC)
            guard fd >= 0 else {
                throw SQLiteError.failed(path: target, operation: "open the snapshot for fsync", message: errnoText(errno))
            }
            defer { close(fd) }
            guard fsync(fd) == 0 else {
                throw SQLiteError.failed(path: path, operation: "fsync the snapshot", message: errnoText(errno))
            }
        }
    }
}

/// One sqlite3 connection; closed once.
private final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String
    private var open = true

    /// What SQLite said, kept with its result code so callers can tell corruption from the rest.
    struct Failure: Error {
        var code: Int32
        var operation: String
        var message: String

        var isCorruption: Bool { code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB }

        func asSQLiteError(path: String) -> SQLiteError {
            switch code & 0xff {
            case SQLITE_NOTADB: return .notADatabase(path: path)
            case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: return .unreadable(path: path, reason: message)
            case SQLITE_READONLY where access(path + "-journal", F_OK) == 0:
                // SQLITE_READONLY_ROLLBACK: a writer died mid-transaction; its journal must be rolled back, and a
                // read-only connection may not. The next read-write open (the application's) does it.
                return .failed(
                    path: path, operation: operation,
                    message: "a writer crashed mid-transaction and left a hot journal (\(path)-journal) that only a"
                        + " read-write connection may roll back — start the application (or run sqlite3 on the file"
                        + " once) so it recovers, then back up again")
            default: return .failed(path: path, operation: operation, message: message)
            }
        }
    }

    init(path: String, readOnly: Bool) throws {
        if let missing = opskit_sqlite_unavailable() { // loaded on first use (CLazyLoad)
            throw Failure(code: SQLITE_CANTOPEN, operation: "open the database", message: String(cString: missing))
                .asSQLiteError(path: path)
        }
        var db: OpaquePointer?
        let rc = path.withCString { readOnly ? opskit_sqlite3_open_readonly($0, &db) : opskit_sqlite3_open_readwrite($0, &db) }
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw Failure(code: rc, operation: "open the database", message: message).asSQLiteError(path: path)
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { closeQuietly() }

    func busyTimeout(seconds: Double) {
        sqlite3_busy_timeout(handle, Int32(min(seconds * 1000, Double(Int32.max)).rounded(.up)))
    }

    /// The last error on this connection, as a failure of `operation`.
    func failure(_ operation: String) -> Failure {
        Failure(code: sqlite3_extended_errcode(handle), operation: operation, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Every row of `sql`, columns as text (NULL as "").
    func query(_ sql: String, operation: String) throws -> [[String]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(operation)
        }
        defer { sqlite3_finalize(statement) }
        var rows: [[String]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw failure(operation) }
            let count = sqlite3_column_count(statement)
            rows.append((0..<count).map { column in
                sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
            })
        }
    }

    /// Closes, reporting an error (a failed final write) as ``SQLiteError``.
    func close() throws {
        guard open else { return }
        open = false
        let rc = sqlite3_close(handle)
        guard rc == SQLITE_OK else {
            let failure = Failure(code: rc, operation: "close the database", message: String(cString: sqlite3_errstr(rc)))
            sqlite3_close_v2(handle)
            throw failure.asSQLiteError(path: path)
        }
    }

    func closeQuietly() {
        guard open else { return }
        open = false
        sqlite3_close_v2(handle)
    }
}

/// The C library's text for an errno value.
private func errnoText(_ code: Int32) -> String {
    strerror(code).map { String(cString: $0) } ?? "errno \(code)"
}

/// The directory part of a path, "." for a bare name.
private func directoryName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = path[..<slash]
    return dir.isEmpty ? "/" : String(dir)
}
