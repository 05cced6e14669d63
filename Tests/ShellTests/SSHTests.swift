#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Shell

@Suite struct SSHHostTests {
    @Test(arguments: [
        ("host", SSHHost(user: nil, host: "host", port: nil)),
        ("deploy@example.com", SSHHost(user: "deploy", host: "example.com", port: nil)),
        ("host:2222", SSHHost(user: nil, host: "host", port: 2222)),
        ("deploy@10.0.0.1:2222", SSHHost(user: "deploy", host: "10.0.0.1", port: 2222)),
        ("[::1]:22", SSHHost(user: nil, host: "::1", port: 22)),
        ("root@[fe80::1%eth0]", SSHHost(user: "root", host: "fe80::1%eth0", port: nil)),
        ("::1", SSHHost(user: nil, host: "::1", port: nil)),
    ])
    func parses(text: String, expected: SSHHost) throws {
        let parsed = try SSHHost(parsing: text)
        #expect(parsed == expected)
        #expect(try SSHHost(parsing: parsed.description) == parsed)
    }

    @Test(arguments: ["", "@host", "user@", "host:", "host:abc", "host:0", "host:70000", "[::1", "[::1]x",
                      "-oProxyCommand=x", "user@-host", "-l@host", "a b", "host;rm", "ho$t"])
    func rejects(text: String) {
        #expect(throws: SSHHostError.self) { try SSHHost(parsing: text) }
    }

    @Test func errorNamesInputAndProblem() {
        let error = #expect(throws: SSHHostError.self) { try SSHHost(parsing: "web:99999") }
        #expect(error?.description.contains("web:99999") == true)
        #expect(error?.description.contains("65535") == true)
    }

    @Test func descriptionBracketsIPv6WithPort() {
        #expect(SSHHost(user: "u", host: "::1", port: 22).description == "u@[::1]:22")
        #expect(SSHHost(user: nil, host: "h", port: nil).description == "h")
    }
}

@Suite struct SSHWrapTests {
    let connection = SSHConnection(
        host: SSHHost(user: "deploy", host: "web", port: 2222),
        options: SSHOptions(identityFile: "/k", knownHostsFile: "/kh", connectTimeout: .milliseconds(2500)),
        controlDirectory: "/tmp/cm")

    @Test func wrapsWithCheckedHostKeysAndOneMaster() {
        var command = Command("ls", "a b", allowedExitCodes: [0, 1], timeout: .seconds(9))
        command.killGrace = .seconds(2)
        let wrapped = connection.wrap(command)
        #expect(wrapped.argv == [
            "ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/cm/%C",
            "-o", "ControlPersist=60", "-o", "ConnectTimeout=3", "-p", "2222", "-i", "/k", "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=/kh", "-o", "StrictHostKeyChecking=yes", "deploy@web", "--", "ls 'a b'",
        ])
        #expect(!wrapped.argv.contains("StrictHostKeyChecking=no"))
        #expect(wrapped.allowedExitCodes == [0, 1])
        #expect(wrapped.timeout == .seconds(9))
        #expect(wrapped.killGrace == .seconds(2))
    }

    @Test func environmentAndDirectoryMoveToTheRemoteSide() {
        let command = Command(
            "make", "it", environment: ["B": "two words", "A": "1", "GONE": nil], workingDirectory: "/srv/my app")
        let wrapped = connection.wrap(command)
        #expect(wrapped.argv.last == "cd '/srv/my app' && unset GONE && env A=1 'B=two words' make it")
        #expect(wrapped.environment.isEmpty)
        #expect(wrapped.workingDirectory == nil)
    }
}

/// Against a real sshd started for each test (its own keys, known_hosts and port).
@Suite struct SSHTests {
    let runner = Runner()

    static func withServer(_ body: (SSHDServer, SSHConnection) async throws -> Void) async throws {
        let server = try await SSHDServer.start()
        let connection = SSHConnection(host: server.host, options: server.options)
        do {
            try await body(server, connection)
        } catch {
            await connection.close()
            await server.stop()
            throw error
        }
        await connection.close()
        await server.stop()
    }

    @Test func runsARemoteCommand() async throws {
        try await Self.withServer { _, connection in
            let output = try await runner.capture(connection.wrap(Command("echo", "hi")))
            #expect(output.stdoutText == "hi")
            let remote = try await runner.capture(
                connection.wrap(Command("sh", "-c", "pwd; echo $GREETING", environment: ["GREETING": "hello there"],
                                        workingDirectory: "/tmp")))
            #expect(remote.stdoutText == "/tmp\nhello there")
        }
    }

    /// Every awkward argument must arrive byte-identical after a trip through the remote shell.
    @Test func awkwardArgumentsRoundTrip() async throws {
        let awkward = ["it's", "$HOME", "`id`", "a b", "*", "new\nline", ";", "", "\"dq\"", "back\\slash", "ünï"]
        try await Self.withServer { _, connection in
            let output = try await runner.capture(connection.wrap(Command(argv: ["printf", "%s\\0"] + awkward)))
            let fields = output.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast()
            #expect(fields.map { String(decoding: $0, as: UTF8.self) } == awkward)
        }
    }

    @Test func remoteExitCodeIsAnOrdinaryFailure() async throws {
        try await Self.withServer { _, connection in
            let error = try await #require(throws: CommandError.self) {
                try await runner.capture(connection.wrap(Command("sh", "-c", "echo remote trouble >&2; exit 3")))
            }
            #expect(error.termination == .exited(3))
            #expect(!error.isSSHConnectionFailure)
            #expect(error.stderrTail.last == "remote trouble")
        }
    }

    @Test func closedPortIsAConnectionFailure() async throws {
        // Bind a port, then close it: nothing listens there for the moment we need.
        let port = try Self.unusedPort()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let connection = SSHConnection(
            host: SSHHost(user: "nobody", host: "127.0.0.1", port: port),
            options: SSHOptions(knownHostsFile: dir.file("known_hosts"), connectTimeout: .seconds(5)))
        defer { Task { await connection.close() } }
        let error = try await #require(throws: CommandError.self) {
            try await runner.capture(connection.wrap(Command("true")))
        }
        #expect(error.termination == .exited(255))
        #expect(error.isSSHConnectionFailure)
        #expect(error.description.contains("Connection refused"))
    }

    @Test func controlMasterSocketIsReused() async throws {
        try await Self.withServer { server, connection in
            _ = try await runner.capture(connection.wrap(Command("true")))
            let sockets = Self.entries(of: connection.controlDirectory)
            #expect(sockets.count == 1, "expected one ControlMaster socket, found \(sockets)")
            for _ in 0..<3 { _ = try await runner.capture(connection.wrap(Command("true"))) }
            #expect(Self.entries(of: connection.controlDirectory) == sockets)
            // One master, one TCP connection: the server saw one authentication for four commands.
            let log = try await runner.capture(Command("cat", server.directory.file("sshd.log"))).stdoutText
            #expect(log.ranges(of: "Accepted publickey").count == 1)
            await connection.close()
            #expect(access(connection.controlDirectory, F_OK) != 0)
        }
    }

    @Test func unknownHostKeyIsRefused() async throws {
        try await Self.withServer { server, _ in
            let empty = server.directory.file("empty_known_hosts")
            _ = try await runner.capture(Command("touch", empty))
            var options = server.options
            options.knownHostsFile = empty
            let stranger = SSHConnection(host: server.host, options: options)
            defer { Task { await stranger.close() } }
            let error = try await #require(throws: CommandError.self) {
                try await runner.capture(stranger.wrap(Command("echo", "should not run")))
            }
            #expect(error.isSSHConnectionFailure)
            #expect(error.description.contains("Host key verification failed"))
        }
    }

    static func entries(of dir: String) -> [String] {
        guard let handle = opendir(dir) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// A port the kernel just handed out and we released: free unless someone grabs it in the next instant.
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestSupportError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
