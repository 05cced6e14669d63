#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A private PostgreSQL server with password authentication over TCP, started by `scripts/services/postgres`.
/// Tests share one per process and each takes fresh databases from it (``createDatabase(_:)``).
public final class PostgresServer: Sendable {
    /// Holds the cluster, its log and `env`; removed when the owning process exits.
    public let directory: String
    public let host: String
    public let port: Int
    public let user: String
    public let password: String
    /// The server's major version (15).
    public let version: Int

    /// The server every test in this process shares: started on first use, stopped when the process exits.
    public static var shared: PostgresServer {
        get async throws { try await SharedPostgresServer.instance.server() }
    }

    private init(directory: String) async throws {
        self.directory = directory
        let service = try await ServiceScript.start(
            SSHDServer.repositoryRoot() + "/scripts/services/postgres", name: "postgres", directory: directory)
        host = try service.value("HOST")
        guard let port = Int(try service.value("PORT")) else { throw TestSupportError("postgres reported no port") }
        self.port = port
        user = try service.value("USER")
        password = try service.value("PASSWORD")
        version = Int(try service.value("VERSION")) ?? 0
    }

    static func start() async throws -> PostgresServer {
        let directory = try TempDirectory(prefix: "opskit-pg")
        do {
            return try await PostgresServer(directory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    public func url(database: String = "postgres", password: String? = nil) -> String {
        "postgres://\(user):\(password ?? self.password)@\(host):\(port)/\(database)"
    }

    /// Creates an empty database with a fresh name (`PREFIX_<random>`) and returns its name.
    public func createDatabase(_ prefix: String = "t") async throws -> String {
        let name = "\(prefix)_\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        try await psql(database: "postgres", "CREATE DATABASE \"\(name)\"")
        return name
    }

    /// Runs SQL with `psql` (stops at the first error) and returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(database: String, _ sql: String) async throws -> String {
        try await Runner().capture(
            Command(
                "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user,
                "-d", database, "-c", sql,
                environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"], timeout: .seconds(120))
        ).stdoutText
    }
}

/// Starts the shared server once, however many tests ask for it at the same time.
private actor SharedPostgresServer {
    static let instance = SharedPostgresServer()
    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        if let starting { return try await starting.value }
        let task = Task { try await PostgresServer.start() }
        starting = task
        return try await task.value
    }
}
