#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import TestSupport

/// A small app on disk for backup tests: a data directory (nested, compressible and random files, a
/// symlink), an SQLite database, an opskit.yml naming them, a local store and a private state directory.
struct BackupFixture {
    let root: TempDirectory
    var data: String { root.file("app/data/files") }
    var database: String { root.file("app/data/bot.db") }
    var store: String { root.file("backups") }
    var state: String { root.file("state") }
    var config: String { root.file("opskit.yml") }

    static func make(extraConfig: String = "", store: String? = nil) async throws -> BackupFixture {
        let fixture = BackupFixture(root: try TempDirectory(prefix: "opskit-backup"))
        try await sh("""
            set -e
            mkdir -p '\(fixture.data)/nested/deeper' '\(fixture.data)/empty' '\(fixture.state)'
            head -c 300000 /dev/urandom > '\(fixture.data)/random.bin'
            yes 'compressible line of text for the backup test' | head -n 20000 > '\(fixture.data)/nested/log.txt'
            printf 'hello\\n' > '\(fixture.data)/nested/deeper/hello.txt'
            : > '\(fixture.data)/zero.txt'
            chmod 750 '\(fixture.data)/nested/deeper'
            chmod 755 '\(fixture.data)/random.bin'
            ln -s nested/log.txt '\(fixture.data)/link-to-log'
            sqlite3 '\(fixture.database)' "PRAGMA journal_mode=WAL; CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); \
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) \
              INSERT INTO notes(body) SELECT 'note ' || i FROM n;" > /dev/null
            """)
        try """
            app: backuptest
            backup:
              sources:
                - dir:\(fixture.data)
                - sqlite:\(fixture.database)
              to: \(store ?? fixture.store)
            \(extraConfig)
            """.write(toFile: fixture.config)
        return fixture
    }

    /// Runs a tool with this fixture's config and state directory.
    func run(_ tool: String, _ arguments: String..., environment: [String: String?] = [:]) async throws -> OpsKitBinary.Output {
        try await run(tool, arguments, environment: environment)
    }

    func run(_ tool: String, _ arguments: [String], environment: [String: String?] = [:]) async throws -> OpsKitBinary.Output {
        var env: [String: String?] = ["OPSKIT_STATE_DIR": state, "OPSKIT_CONFIG": config]
        for (k, v) in environment { env[k] = v }
        return try await OpsKitBinary.run(tool, arguments, environment: env)
    }

    /// A listing of a tree: relative path, type, mode, link target and content hash, sorted.
    static func fingerprint(_ directory: String) async throws -> String {
        try await sh("""
            cd '\(directory)' && find . -mindepth 1 -printf '%P %y %m %l\\n' | sort && \
            find . -type f -print0 | sort -z | xargs -0 -r sha256sum
            """)
    }

    func notes(_ database: String? = nil) async throws -> String {
        try await Self.sh("sqlite3 '\(database ?? self.database)' 'SELECT count(*), max(body) FROM notes;'")
    }

    /// Backups in the store, by `--list --json`.
    func listed() async throws -> [JSONValue] {
        let out = try await run("backup-db", "--list", "--json")
        guard out.exitCode == 0, case .array(let items)? = JSONValue.parse(Array(out.stdout.utf8)) else {
            throw TestSupportError("backup-db --list --json failed: \(out.stderr) \(out.stdout)")
        }
        return items
    }

    @discardableResult
    static func sh(_ script: String) async throws -> String {
        let out = try await Runner().capture(Command("bash", "-c", script))
        return out.stdoutText
    }

    func remove() { root.remove() }
}
