#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell

/// Why a PostgreSQL dump, check or restore did not happen. `url` is always the redacted URL; no case ever holds
/// the password, and each description is one line.
public enum PostgresError: Error, CustomStringConvertible, Equatable {
    case invalidURL(reason: String)
    /// `pg_dump`, `pg_restore` or `pg_isready` is not on PATH.
    case toolMissing(name: String)
    case unreachable(url: String, detail: String)
    case authentication(url: String, detail: String)
    case databaseMissing(url: String, detail: String)
    /// The client tool is older than the server (pg_dump refuses to dump a newer server).
    case versionMismatch(tool: String, detail: String)
    case dumpFailed(url: String, reason: String)
    /// `pg_restore` cannot read the dump: truncated, damaged, or not a custom-format dump.
    case unreadableDump(reason: String)
    case restoreFailed(url: String, reason: String)

    public var description: String {
        let line: String
        switch self {
        case .invalidURL(let reason):
            line = "the PostgreSQL URL is not usable: \(reason); nothing was dumped or restored"
                + " — write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode @ : / in the password)"
        case .toolMissing(let name):
            line = "\(name) is not installed, so nothing was dumped or restored"
                + " — install postgresql-client (apt-get install postgresql-client) of the server's major version or newer"
        case .unreachable(let url, let detail):
            line = "cannot reach PostgreSQL at \(url) (\(detail)): nothing was dumped or changed"
                + " — check that the server is running and that host and port are right (pg_isready)"
        case .authentication(let url, let detail):
            line = "PostgreSQL at \(url) rejected the login (\(detail)): nothing was dumped or changed"
                + " — check the user and password in the URL"
        case .databaseMissing(let url, let detail):
            line = "the database of \(url) does not exist (\(detail)): nothing was dumped or changed"
                + " — check the database name, or create the database before restoring into it"
        case .versionMismatch(let tool, let detail):
            line = "\(tool) is older than the PostgreSQL server (\(detail)): nothing was dumped"
                + " — install postgresql-client of the server's major version"
        case .dumpFailed(let url, let reason):
            line = "pg_dump of \(url) failed: \(reason); the partial dump must not be kept (the database was not changed)"
                + " — fix the cause and run the backup again"
        case .unreadableDump(let reason):
            line = "pg_restore cannot read the dump: \(reason); nothing was restored"
                + " — the dump is truncated, damaged, or not a custom-format (pg_dump -Fc) dump: use another backup"
        case .restoreFailed(let url, let reason):
            line = "pg_restore into \(url) failed: \(reason); nothing was changed (single transaction)"
                + " — fix the cause and run the restore again"
        }
        return String(line.map { $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\r\n" ? " " : $0 })
    }
}

/// PostgreSQL backups through the client tools (Debian's `postgresql-client`): `pg_dump -Fc` streamed out,
/// `pg_restore` streamed in, synchronously, for the backup pipeline's own threads.
///
/// The password reaches the tools as `PGPASSWORD` in their environment, never in argv (where `ps` shows it):
/// argv carries a libpq connection string with host, port, user and database only.
public enum PostgresTools {
    /// Runs `pg_dump -Fc` and streams its stdout into `sink` (not finished) as it comes: no temp file, memory
    /// bounded. The password goes to the child via PGPASSWORD (environment), never argv. Failure →
    /// ``PostgresError`` with the last stderr lines (redacted). Returns bytes written.
    ///
    /// If `sink` throws, pg_dump is killed and the sink's error is rethrown.
    @discardableResult
    public static func dump(_ url: PostgresURL, to sink: ByteSink) throws -> Int {
        let process = try StreamingProcess.spawn(
            command(try tool("pg_dump"), ["--format=custom", "--no-password"], url: url), stdout: .pipe)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        do {
            while true {
                let count = try process.readStdout(into: buffer)
                if count == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                total += count
            }
        } catch {
            process.kill()
            _ = try? process.wait()
            throw error
        }
        try finish(process, url: url, tool: "pg_dump") { .dumpFailed(url: url.description, reason: $0) }
        return total
    }

    /// `pg_restore --list` of a custom-format dump read from `source` (fed to stdin); returns the TOC lines
    /// (`215; 1259 16386 TABLE public items opskit`, without the `;` comment header); throws
    /// ``PostgresError/unreadableDump(reason:)`` if the dump is unreadable/truncated.
    ///
    /// `--list` reads only the table of contents at the front, so the same bytes also go to a second
    /// `pg_restore --file=/dev/null`, which reads (and decompresses) every data block to its end: a dump cut
    /// short fails there.
    public static func list(from source: ByteSource) throws -> [String] {
        let pgRestore = try tool("pg_restore")
        let lister = try StreamingProcess.spawn(
            Command(argv: [pgRestore, "--list"]), stdin: .pipe, stdout: .capture(limit: 64 << 20))
        let reader = try StreamingProcess.spawn(
            Command(argv: [pgRestore, "--file=/dev/null"]), stdin: .pipe, stdout: .discard)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var listing = true, reading = true
        do {
            while listing || reading {
                let count = try source.read(into: buffer)
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                // Either one stopping early is no error by itself: its exit status tells.
                if reading { reading = try reader.writeStdin(chunk) }
                if listing { listing = try lister.writeStdin(chunk) }
            }
        } catch {
            for process in [lister, reader] {
                process.kill()
                _ = try? process.wait()
            }
            throw error
        }
        for process in [reader, lister] {
            do {
                try process.wait()
            } catch let error as CommandError {
                throw PostgresError.unreadableDump(reason: reason(error, url: nil))
            }
        }
        return String(decoding: lister.capturedStdout, as: UTF8.self).split(separator: "\n").compactMap { line in
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            return line.isEmpty || line.hasPrefix(";") ? nil : String(line)
        }
    }

    /// `pg_restore --single-transaction --clean --if-exists --no-owner --exit-on-error -d ...` fed from `source`
    /// (stdin). All or nothing: on any error the transaction rolls back and the database is as it was.
    ///
    /// If `source` throws, pg_restore is killed (the server rolls the transaction back) and that error is rethrown.
    public static func restore(from source: ByteSource, into url: PostgresURL) throws {
        let process = try StreamingProcess.spawn(
            command(
                try tool("pg_restore"),
                ["--single-transaction", "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--no-password"],
                url: url),
            stdin: .pipe, stdout: .discard)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        do {
            while true {
                let count = try source.read(into: buffer)
                if count == 0 { break }
                // pg_restore stopped reading: it failed (or needs no more); wait tells which.
                guard try process.writeStdin(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) else { break }
            }
        } catch {
            process.kill()
            _ = try? process.wait()
            throw error
        }
        try finish(process, url: url, tool: "pg_restore") { .restoreFailed(url: url.description, reason: $0) }
    }

    /// True when the server accepts connections (`pg_isready`, which does not log in), for clear
    /// "database down" errors. False too when pg_isready is not installed.
    public static func isReachable(_ url: PostgresURL) -> Bool {
        guard let pgIsReady = try? tool("pg_isready") else { return false }
        var ping = command(pgIsReady, ["--quiet", "--timeout=5"], url: url)
        ping.environment["PGPASSWORD"] = nil
        guard let process = try? StreamingProcess.spawn(ping, stdout: .discard) else { return false }
        return (try? process.wait()) == .exited(0)
    }

    // MARK: - Internals

    /// `tool ARGS --dbname=CONNINFO` with the password in the environment.
    static func command(_ tool: String, _ arguments: [String], url: PostgresURL) -> Command {
        Command(argv: [tool] + arguments + ["--dbname=" + url.connectionString], environment: url.environment)
    }

    /// The absolute path of `name` on PATH.
    static func tool(_ name: String) throws -> String {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw PostgresError.toolMissing(name: name)
    }

    /// Waits for the tool and turns a failure into the matching ``PostgresError``; `other` covers the rest.
    private static func finish(
        _ process: StreamingProcess, url: PostgresURL, tool: String, other: (String) -> PostgresError
    ) throws {
        do {
            try process.wait()
        } catch let error as CommandError {
            let detail = reason(error, url: url)
            let text = error.stderrTail.joined(separator: " ")
            if text.contains("password authentication failed") || text.contains("no password supplied")
                || text.contains("authentication failed") || (text.contains("role \"") && text.contains("does not exist"))
            {
                throw PostgresError.authentication(url: url.description, detail: detail)
            }
            if text.contains("database \"") && text.contains("does not exist") {
                throw PostgresError.databaseMissing(url: url.description, detail: detail)
            }
            if text.contains("server version mismatch") {
                throw PostgresError.versionMismatch(tool: tool, detail: detail)
            }
            let unreachable = [
                "Connection refused", "could not connect", "timeout expired", "could not translate host name",
                "No route to host", "Network is unreachable", "Is the server running",
            ]
            if unreachable.contains(where: text.contains) {
                throw PostgresError.unreachable(url: url.description, detail: detail)
            }
            throw other(detail)
        }
    }

    /// The line that says what went wrong: the first `error:` line of the tool (its prefix dropped), or the
    /// last line, or how the tool ended. Redacted, one line.
    static func reason(_ error: CommandError, url: PostgresURL?) -> String {
        var line = error.stderrTail.first(where: { $0.contains("error:") || $0.contains("FATAL:") })
            ?? error.stderrTail.last(where: { !$0.isEmpty && !$0.hasPrefix("Command was:") })
            ?? error.reason
        for prefix in ["pg_dump: error: ", "pg_restore: error: ", "pg_isready: error: "] where line.hasPrefix(prefix) {
            line = String(line.dropFirst(prefix.count))
        }
        if !line.contains(error.reason), error.termination != .exited(1) { line += " (\(error.reason))" }
        line = url?.redacting(line) ?? Redactor.redact(line)
        var collapsed = ""
        for character in line {
            let space = character == "\n" || character == "\r" || character == "\t" || character == "\r\n"
            if space, collapsed.hasSuffix(" ") { continue }
            collapsed.append(space ? " " : character)
        }
        return collapsed.trimmingSuffix(" ")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ character: Character) -> String {
        var text = self
        while text.last == character { text.removeLast() }
        return text
    }
}
