import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A private S3 (moto) that checks signatures, started by `scripts/services/moto`, with an IAM user whose
/// access key may do everything.
public final class MotoS3: Sendable {
    /// Holds moto's log and `env`; removed when the owning process exits.
    public let directory: String
    /// `http://127.0.0.1:PORT`.
    public let endpoint: String
    public let accessKeyID: String
    public let secretAccessKey: String
    public let region: String

    /// The moto every test in this process shares: started on first use, stopped when the process exits.
    public static var shared: MotoS3 {
        get async throws { try await SharedMotoS3.instance.moto() }
    }

    private init(directory: String) async throws {
        self.directory = directory
        let service = try await ServiceScript.start(Self.script, name: "moto", directory: directory)
        let value = service.value
        endpoint = try value("S3_ENDPOINT")
        accessKeyID = try value("AWS_ACCESS_KEY_ID")
        secretAccessKey = try value("AWS_SECRET_ACCESS_KEY")
        region = try value("AWS_DEFAULT_REGION")
    }

    static func start() async throws -> MotoS3 {
        let directory = try TempDirectory(prefix: "opskit-moto")
        do {
            return try await MotoS3(directory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Runs `aws --endpoint-url ENDPOINT ARGS…` with this moto's credentials: an independent client.
    public func aws(_ arguments: [String]) async throws -> String {
        let result = try await Subprocess.run(
            .name("aws"),
            arguments: Arguments(["--endpoint-url", endpoint] + arguments),
            environment: .inherit.updating([
                "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey,
                "AWS_DEFAULT_REGION": region,
            ]),
            output: .string(limit: 1024 * 1024),
            error: .string(limit: 64 * 1024)
        )
        guard result.terminationStatus.isSuccess else {
            throw TestSupportError("aws \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput
    }

    static var script: String { repositoryRoot() + "/scripts/services/moto" }
}

/// Starts the shared moto once, however many tests ask for it at the same time.
private actor SharedMotoS3 {
    static let instance = SharedMotoS3()
    private var starting: Task<MotoS3, any Error>?

    func moto() async throws -> MotoS3 {
        if let starting { return try await starting.value }
        let task = Task { try await MotoS3.start() }
        starting = task
        return try await task.value
    }
}
