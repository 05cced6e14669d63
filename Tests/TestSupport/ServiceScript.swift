import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Runs `scripts/services/<name> start DIR --owner PID` and reads the `KEY=VALUE` lines it prints.
///
/// `--owner` makes the service stop itself when this test process exits, crashed or not.
struct ServiceScript {
    let name: String
    let values: [String: String]

    static func start(_ script: String, name: String, directory: String) async throws -> ServiceScript {
        let result = try await Subprocess.run(
            .path(FilePath(script)),
            arguments: ["start", directory, "--owner", String(getpid())],
            output: .string(limit: 64 * 1024),
            error: .string(limit: 64 * 1024)
        )
        guard result.terminationStatus.isSuccess else {
            throw TestSupportError("\(name) start failed (\(result.terminationStatus)): \(result.standardError ?? "")")
        }
        var values: [String: String] = [:]
        for line in (result.standardOutput ?? "").split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return ServiceScript(name: name, values: values)
    }

    /// The value the script printed for `key`; a missing one is an error naming the service.
    func value(_ key: String) throws -> String {
        guard let v = values[key] else { throw TestSupportError("\(name) did not report \(key)") }
        return v
    }
}
