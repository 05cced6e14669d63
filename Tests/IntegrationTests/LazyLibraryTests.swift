import OpsCore
import Shell
import Testing
import TestSupport

/// libcurl, libarchive, libzstd and libsqlite3 are loaded on first use (Sources/CLazyLoad), not at start.
/// These run the built binary in a private mount namespace where one library is replaced by an empty file,
/// as on a VPS where its package is missing: tools that do not need it work, tools that do say what to install,
/// and nothing is written.
@Suite(.serialized) struct LazyLibraryTests {
    /// Runs `opskit ARGS…` with `soname` unloadable; returns stdout + stderr and the exit code.
    static func runWithout(_ soname: String, _ arguments: String..., environment: [String] = [])
        async throws -> (output: String, exitCode: Int32)
    {
        let library = try await Runner().capture(Command("sh", "-c", "ldconfig -p | awk '/\(soname) / {print $NF; exit}'"))
            .stdoutText.trimmingCharacters()
        try #require(library.hasPrefix("/"), "ldconfig does not know \(soname)")
        let command = (["env"] + environment + [OpsKitBinary.path] + arguments).map(ShellQuote.quote).joined(separator: " ")
        let script = "unshare -m sh -c \(ShellQuote.quote("mount --bind /dev/null \(library) && exec \(command)")) 2>&1; "
            + "echo \"exit=$?\""
        let out = try await Runner().capture(Command("bash", "-c", script), limit: 1 << 20)
        var lines = out.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last == "" { lines.removeLast() }
        let code = Int32(lines.popLast()?.dropFirst("exit=".count) ?? "") ?? -1
        return (lines.joined(separator: "\n"), code)
    }

    @Test func everyToolStartsWithoutTheLibrariesItDoesNotUse() async throws {
        for soname in ["libcurl.so.4", "libarchive.so.13", "libzstd.so.1", "libsqlite3.so.0"] {
            let version = try await Self.runWithout(soname, "--version")
            #expect(version.exitCode == 0 && version.output.hasPrefix("opskit "), "\(soname): \(version.output)")
        }
    }

    @Test func aBackupWithoutLibarchiveNamesThePackageAndWritesNothing() async throws {
        let tmp = try TempDirectory(prefix: "opskit-lazy")
        defer { tmp.remove() }
        try await Runner().run(Command("sh", "-c", "mkdir -p \(tmp.file("src")) \(tmp.file("store")) && echo hi > \(tmp.file("src/a"))"))
        let out = try await Self.runWithout("libarchive.so.13", "backup-db", "--source", "dir:" + tmp.file("src"),
                                            "--to", tmp.file("store"))
        #expect(out.exitCode == 1, "\(out.output)")
        #expect(out.output.contains("libarchive.so.13 could not be loaded")
                && out.output.contains("apt-get install libarchive13"), "\(out.output)")
        #expect(out.output.split(separator: "\n").count <= 2, "\(out.output)")
        let stored = try await Runner().capture(Command("ls", "-A", tmp.file("store"))).stdoutText
        #expect(stored.isEmpty, "\(stored)")
    }

    @Test func anHTTPSCheckWithoutLibcurlNamesThePackage() async throws {
        let out = try await Self.runWithout("libcurl.so.4", "health-check", "https://127.0.0.1:9/health", "--retries", "0")
        #expect(out.exitCode == 2, "\(out.output)")
        #expect(out.output.contains("libcurl.so.4 could not be loaded")
                && out.output.contains("apt-get install libcurl4"), "\(out.output)")
    }

    @Test func anSQLiteBackupWithoutLibsqliteNamesThePackage() async throws {
        let tmp = try TempDirectory(prefix: "opskit-lazy")
        defer { tmp.remove() }
        try await Runner().run(Command("sh", "-c", "mkdir -p \(tmp.file("store")) && printf 'SQLite format 3\\000' > \(tmp.file("app.db"))"
                                               + " && truncate -s 4096 \(tmp.file("app.db"))"))
        let out = try await Self.runWithout("libsqlite3.so.0", "backup-db", "--source", "sqlite:" + tmp.file("app.db"),
                                            "--to", tmp.file("store"))
        #expect(out.exitCode == 1, "\(out.output)")
        #expect(out.output.contains("libsqlite3.so.0 could not be loaded")
                && out.output.contains("apt-get install libsqlite3-0"), "\(out.output)")
        let stored = try await Runner().capture(Command("ls", "-A", tmp.file("store"))).stdoutText
        #expect(stored.isEmpty, "\(stored)")
    }

    /// Plain http:// and the Docker socket go through PlainHTTP: without libcurl they still work, which they
    /// could not if either quietly went through curl.
    @Test func plainHTTPChecksNeedNoLibcurl() async throws {
        let fixture = try await HTTPFixture.shared
        let health = try await Self.runWithout("libcurl.so.4", "health-check", fixture.http + "/api/health", "--retries", "0")
        #expect(health.exitCode == 0 && health.output.hasPrefix("HEALTH OK"), "\(health.output)")

        let tmp = try TempDirectory(prefix: "opskit-lazy")
        defer { tmp.remove() }
        let config = tmp.file("opskit.yml")
        try await Runner().run(Command("sh", "-c", "printf 'app: lazy\\nmonitor:\\n  health: [\(fixture.http)/api/health]\\n' > \(config)"))
        let monitor = try await Self.runWithout("libcurl.so.4", "monitor", "--json", "--config", config,
                                                environment: ["OPSKIT_STATE_DIR=" + tmp.file("state")])
        let document = JSONValue.parse(Array(monitor.output.utf8))
        guard case .array(let checks)? = document?["checks"] else {
            Issue.record("no JSON document: \(monitor.output)")
            return
        }
        let health2 = checks.first { $0["check"]?.stringValue == "health" }
        #expect(health2?["state"]?.stringValue == "OK", "\(monitor.output)")
        // The engine is up in the test environment: the container check talked to it over the socket.
        let containers = checks.filter { $0["check"]?.stringValue == "container" }
        #expect(!containers.isEmpty && containers.allSatisfy { $0["state"]?.stringValue != "UNKNOWN" }, "\(monitor.output)")
    }
}
