import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A private nginx started by `scripts/services/http-fixture`: plain HTTP, three HTTPS certificates
/// (valid, expiring soon, expired), a Unix socket and a closed port, all serving the same test endpoints.
public final class HTTPFixture: Sendable {
    /// Holds the config, certificates and logs; removed by `stop()` (or when this process exits).
    public let directory: String
    public let http: String
    public let httpsOK: String
    public let httpsSoon: String
    public let httpsExpired: String
    /// A URL on which nothing listens.
    public let closed: String
    /// The CA that signed all three HTTPS certificates.
    public let caFile: String
    /// Plain HTTP over this Unix socket.
    public let unixSocket: String

    /// The fixture every test in this process shares: started on first use, stopped when the process exits.
    /// Do not `stop()` it.
    public static var shared: HTTPFixture {
        get async throws { try await SharedHTTPFixture.instance.fixture() }
    }

    /// Starts a fixture of one's own; call `stop()` when done (a crashed process still gets it stopped).
    public static func start() async throws -> HTTPFixture {
        let directory = try TempDirectory(prefix: "opskit-http")
        do {
            return try await HTTPFixture(directory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
    }

    private init(directory: String) async throws {
        self.directory = directory
        let service = try await ServiceScript.start(Self.script, name: "http-fixture", directory: directory)
        let value = service.value
        http = try value("FIXTURE_HTTP")
        httpsOK = try value("FIXTURE_HTTPS_OK")
        httpsSoon = try value("FIXTURE_HTTPS_SOON")
        httpsExpired = try value("FIXTURE_HTTPS_EXPIRED")
        closed = try value("FIXTURE_CLOSED")
        caFile = try value("FIXTURE_CA")
        unixSocket = try value("FIXTURE_UNIX_SOCKET")
    }

    /// Stops nginx and removes the directory.
    public func stop() async {
        _ = try? await Subprocess.run(.path(FilePath(Self.script)), arguments: ["stop", directory], output: .discarded)
        _ = try? await Subprocess.run(.name("rm"), arguments: ["-rf", directory], output: .discarded)
    }

    static var script: String { repositoryRoot() + "/scripts/services/http-fixture" }
}

/// Starts the shared fixture once, however many tests ask for it at the same time.
private actor SharedHTTPFixture {
    static let instance = SharedHTTPFixture()
    private var starting: Task<HTTPFixture, any Error>?

    func fixture() async throws -> HTTPFixture {
        if let starting { return try await starting.value }
        let task = Task { try await HTTPFixture.start() }
        starting = task
        return try await task.value
    }
}

/// The directory holding Package.swift, found by walking up from this source file.
public func repositoryRoot(from file: String = #filePath) -> String {
    var dir = file
    while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
        dir = String(dir[..<slash])
        if access(dir + "/Package.swift", F_OK) == 0 { return dir }
    }
    return "."
}
