#if canImport(Glibc)
import Glibc
#endif
@testable import Backup
import OpsCore
import Shell
import TestSupport
import Testing

@Suite struct PostgresURLTests {
    @Test func parsesTheUsualFormsAndNeverPrintsThePassword() throws {
        let url = try PostgresURL(parsing: "postgres://app:s3cr%40t/x@db.internal:6432/shop?sslmode=require")
        #expect(url.user == "app" && url.password == "s3cr@t/x" && url.host == "db.internal" && url.port == 6432)
        #expect(url.database == "shop" && url.parameters == ["sslmode": "require"])
        #expect(url.description == "postgres://app:***@db.internal:6432/shop?sslmode=require")
        #expect(!url.connectionString.contains("s3cr"))
        #expect(url.connectionString == "host='db.internal' port='6432' user='app' dbname='shop' sslmode='require'")
        #expect(url.environment["PGPASSWORD"] == "s3cr@t/x")

        let socket = try PostgresURL(parsing: "postgresql://%2Fvar%2Frun%2Fpostgresql/main")
        #expect(socket.host == "/var/run/postgresql" && socket.user == nil && !socket.hasPassword && socket.port == nil)
        #expect(socket.description == "postgresql://%2Fvar%2Frun%2Fpostgresql/main")

        let v6 = try PostgresURL(parsing: "postgres://u@[::1]:5433/d?password=p%27w&application_name=it's")
        #expect(v6.host == "::1" && v6.port == 5433 && v6.password == "p'w")
        #expect(v6.description == "postgres://u:***@[::1]:5433/d?application_name=it%27s")
        #expect(v6.connectionString.contains("application_name='it\\'s'"))
    }

    @Test func rejectsWhatIsNotAPostgresURLWithoutRepeatingIt() {
        for text in ["mysql://u:hunter2@h/d", "postgres://u:hunter2@h:99999/d", "postgres://u:hunter2@h:5432",
                     "hunter2", "postgres://u:hunter2@a,b/d", "postgres://u:hunt%zzer2@h/d"] {
            let error = #expect(throws: PostgresError.self) { try PostgresURL(parsing: text) }
            #expect(error.map { !$0.description.contains("hunter2") && !$0.description.contains("\n") } == true)
        }
    }

    @Test func argvCarriesNoPassword() throws {
        let url = try PostgresURL(parsing: "postgres://ops:pa55word@127.0.0.1:5432/app")
        let command = PostgresTools.command("/usr/bin/pg_dump", ["--format=custom"], url: url)
        #expect(!command.argv.joined(separator: " ").contains("pa55word"))
        #expect(command.argv.last == "--dbname=host='127.0.0.1' port='5432' user='ops' dbname='app'")
        #expect(command.environment["PGPASSWORD"] == "pa55word")
        #expect(throws: PostgresError.toolMissing(name: "opskit-no-such-tool")) {
            try PostgresTools.tool("opskit-no-such-tool")
        }
        #expect(PostgresError.toolMissing(name: "pg_dump").description.contains("install postgresql-client"))
    }
}

/// Dumps and restores against a real server (`scripts/services/postgres`), checked with `psql`.
@Suite struct PostgresToolsTests {
    /// A database with two related tables, ~6 MB of rows.
    private func makeSource(_ server: PostgresServer) async throws -> String {
        let name = try await server.createDatabase("src")
        try await server.psql(database: name, """
            CREATE TABLE items(id int PRIMARY KEY, name text NOT NULL, body text NOT NULL);
            INSERT INTO items SELECT g, md5(g::text), repeat(md5(g::text), 8) FROM generate_series(1, 20000) g;
            CREATE TABLE notes(id serial PRIMARY KEY, item_id int NOT NULL REFERENCES items(id), note text);
            INSERT INTO notes(item_id, note) SELECT g, 'note ' || g FROM generate_series(1, 20000, 7) g;
            """)
        return name
    }

    /// One checksum of every row of both tables, and the number of items.
    private func checksum(_ server: PostgresServer, _ database: String) async throws -> String {
        try await server.psql(database: database, """
            SELECT (SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM items i)
                || ' ' || (SELECT md5(string_agg(n::text, ',' ORDER BY id)) FROM notes n)
                || ' ' || (SELECT count(*) FROM items)
            """)
    }

    /// The checksum of `items`, its row count, and whether a `notes` table exists.
    private func itemsOnly(_ server: PostgresServer, _ database: String) async throws -> String {
        try await server.psql(database: database, """
            SELECT md5(string_agg(i::text, ',' ORDER BY id)) || ' ' || count(*)
                || ' notes:' || (to_regclass('public.notes') IS NOT NULL) FROM items i
            """)
    }

    private func dump(_ server: PostgresServer, _ database: String) throws -> [UInt8] {
        let bytes = BytesSink()
        let digest = DigestSink(next: bytes)
        let written = try PostgresTools.dump(try PostgresURL(parsing: server.url(database: database)), to: digest)
        try digest.finish()
        #expect(written == bytes.bytes.count && written == digest.byteCount)
        return bytes.bytes
    }

    @Test func dumpListsAndRestoresIntoAnotherDatabase() async throws {
        let server = try await PostgresServer.shared
        let source = try await makeSource(server)
        let bytes = try dump(server, source)
        #expect(bytes.starts(with: Array("PGDMP".utf8)))
        #expect(bytes.count > 100_000)

        let toc = try PostgresTools.list(from: BytesSource(bytes))
        #expect(toc.contains { $0.hasSuffix("TABLE public items opskit") })
        #expect(toc.contains { $0.hasSuffix("TABLE DATA public items opskit") })
        #expect(toc.contains { $0.hasSuffix("TABLE public notes opskit") })
        #expect(!toc.contains { $0.hasPrefix(";") || $0.isEmpty })

        let target = try await server.createDatabase("dst")
        try PostgresTools.restore(from: BytesSource(bytes), into: try PostgresURL(parsing: server.url(database: target)))
        let expected = try await checksum(server, source)
        #expect(expected.hasSuffix(" 20000"))
        #expect(try await checksum(server, target) == expected)

        // Restoring again over the restored database (--clean --if-exists) gives the same content.
        try PostgresTools.restore(from: BytesSource(bytes), into: try PostgresURL(parsing: server.url(database: target)))
        #expect(try await checksum(server, target) == expected)
    }

    @Test func aTruncatedDumpIsUnreadableAndItsRestoreChangesNothing() async throws {
        let server = try await PostgresServer.shared
        let bytes = try dump(server, try await makeSource(server))
        let truncated = Array(bytes.prefix(bytes.count / 2))

        let listError = #expect(throws: PostgresError.self) { try PostgresTools.list(from: BytesSource(truncated)) }
        guard case .unreadableDump? = listError else { Issue.record("expected unreadableDump, got \(String(describing: listError))"); return }
        #expect(throws: PostgresError.self) { try PostgresTools.list(from: BytesSource(Array("not a dump at all\n".utf8))) }

        // The target has an older `items` that --clean would drop first: it must survive the failed restore.
        let target = try await server.createDatabase("dst")
        try await server.psql(database: target, """
            CREATE TABLE items(id int PRIMARY KEY, name text NOT NULL, body text NOT NULL);
            INSERT INTO items VALUES (1, 'old', 'one'), (2, 'old', 'two'), (3, 'old', 'three');
            """)
        let before = try await itemsOnly(server, target)
        let url = try PostgresURL(parsing: server.url(database: target))
        let error = #expect(throws: PostgresError.self) { try PostgresTools.restore(from: BytesSource(truncated), into: url) }
        guard case .restoreFailed(let shown, let reason)? = error else {
            Issue.record("expected restoreFailed, got \(String(describing: error))"); return
        }
        #expect(shown == url.description && !reason.isEmpty)
        let text = try #require(error).description
        #expect(text.contains("nothing was changed (single transaction)") && !text.contains("\n"))
        #expect(!text.contains(server.password))
        #expect(try await itemsOnly(server, target) == before)
        #expect(before.hasSuffix(" 3 notes:false"))
    }

    @Test func aServerThatIsDownIsUnreachableInOneLine() async throws {
        let server = try await PostgresServer.shared
        #expect(PostgresTools.isReachable(try PostgresURL(parsing: server.url())))
        // Port 1: nothing listens there, and being privileged nothing will.
        let down = try PostgresURL(parsing: "postgres://\(server.user):\(server.password)@127.0.0.1:1/postgres")
        #expect(!PostgresTools.isReachable(down))
        let error = #expect(throws: PostgresError.self) { try PostgresTools.dump(down, to: BytesSink()) }
        guard case .unreachable(let shown, let detail)? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))"); return
        }
        #expect(shown == "postgres://\(server.user):***@127.0.0.1:1/postgres")
        #expect(detail.contains("Connection refused"))
        let text = try #require(error).description
        #expect(!text.contains("\n") && !text.contains(server.password))
        // pg_restore reads the dump's table of contents before it connects: give it a real one.
        let bytes = try dump(server, "postgres")
        #expect(throws: PostgresError.unreachable(url: shown, detail: detail)) {
            try PostgresTools.restore(from: BytesSource(bytes), into: down)
        }
    }

    @Test func aWrongPasswordIsAnAuthenticationErrorThatNeverShowsAPassword() async throws {
        let server = try await PostgresServer.shared
        let wrong = "wrong-hunter2-\(UInt32.random(in: 0...UInt32.max))"
        let url = try PostgresURL(parsing: server.url(password: wrong))
        let dumpError = #expect(throws: PostgresError.self) { try PostgresTools.dump(url, to: BytesSink()) }
        let restoreError = #expect(throws: PostgresError.self) {
            try PostgresTools.restore(from: BytesSource(try dump(server, "postgres")), into: url)
        }
        for error in [dumpError, restoreError] {
            guard case .authentication(let shown, let detail)? = error else {
                Issue.record("expected authentication, got \(String(describing: error))"); continue
            }
            #expect(shown.hasSuffix(":***@\(server.host):\(server.port)/postgres"))
            #expect(detail.contains("password authentication failed"))
            let text = "\(error!)"
            #expect(!text.contains(wrong) && !text.contains(server.password) && !text.contains("\n"))
        }
    }

    @Test func aMissingDatabaseIsNamedAsSuch() async throws {
        let server = try await PostgresServer.shared
        let url = try PostgresURL(parsing: server.url(database: "opskit_no_such_db"))
        let error = #expect(throws: PostgresError.self) { try PostgresTools.dump(url, to: BytesSink()) }
        guard case .databaseMissing? = error else { Issue.record("expected databaseMissing, got \(String(describing: error))"); return }
    }

    /// A sink that fails (storage full, upload refused) stops the dump: pg_dump is killed, the sink's error returns.
    @Test func aFailingSinkStopsTheDump() async throws {
        let server = try await PostgresServer.shared
        let source = try await makeSource(server)
        struct Full: Error {}
        final class FailingSink: ByteSink {
            var writes = 0
            func write(_ chunk: UnsafeRawBufferPointer) throws {
                writes += 1
                if writes == 2 { throw Full() }
            }
            func finish() throws {}
        }
        let sink = FailingSink()
        #expect(throws: Full.self) {
            try PostgresTools.dump(try PostgresURL(parsing: server.url(database: source)), to: sink)
        }
        #expect(sink.writes == 2)
    }
}
