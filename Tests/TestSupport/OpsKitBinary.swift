import Subprocess
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `opskit` executable the way a user's script would, and hands back what it printed.
public enum OpsKitBinary {
    public struct Output: Sendable {
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutLines: [Substring] { stdout.split(separator: "\n") }
    }

    /// `.build/<config>/opskit`, next to the test bundle that is running.
    public static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var dir = exe
        // The bundle is .build/debug/opskitPackageTests.xctest (a file on Linux); opskit sits beside it.
        while !dir.isEmpty, !dir.hasSuffix(".xctest"), dir != "/" { dir = String(dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)]) }
        let base = dir.isEmpty || dir == "/" ? exe : dir
        return String(base[..<(base.lastIndex(of: "/") ?? base.startIndex)]) + "/opskit"
    }

    /// Runs `opskit TOOL ARGS…` (or, with `asLink`, a `TOOL -> opskit` link, as bin/ has it).
    public static func run(_ tool: String, _ arguments: [String], environment: [String: String?] = [:],
                           workingDirectory: String? = nil, asLink: Bool = false) async throws -> Output {
        var env: [Environment.Key: String?] = ["NO_COLOR": "1"]
        for (k, v) in environment { env[Environment.Key(stringLiteral: k)] = v }
        let executable: String
        var args = arguments
        if asLink {
            let dir = try TempDirectory(prefix: "opskit-bin")
            executable = dir.file(tool)
            guard symlink(path, executable) == 0 else { throw TestSupportError("symlink failed: errno \(errno)") }
        } else {
            executable = path
            args.insert(tool, at: 0)
        }
        let result = try await Subprocess.run(
            .path(.init(executable)), arguments: .init(args), environment: .inherit.updating(env),
            workingDirectory: workingDirectory.map { .init($0) },
            output: .string(limit: 4 << 20), error: .string(limit: 4 << 20))
        let code: Int32
        switch result.terminationStatus {
        case .exited(let c): code = c
        case .signaled(let s): code = 128 + s
        }
        return Output(exitCode: code, stdout: result.standardOutput ?? "", stderr: result.standardError ?? "")
    }
}
