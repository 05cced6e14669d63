#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A running Docker engine with the test images `opskit-test/app:v1`…`:v4` built
/// (`scripts/services/dockerd start`, then `scripts/services/test-images`), once per test process.
public enum DockerFixture {
    /// The images `test-images` builds: v1 and v2 healthy, v3 never healthy, v4 healthy for 5 s only.
    public static let images = ["v1", "v2", "v3", "v4"].map { "opskit-test/app:" + $0 }

    /// Starts the engine and builds the images if needed; throws a clear error when that is impossible.
    public static func ensure() async throws {
        try await SharedDockerFixture.instance.ensure()
    }

    /// A TCP port on 127.0.0.1 that nothing listened on a moment ago, picked below the kernel's ephemeral
    /// range (32768+): there, the tests' own client connections could take it before a container binds it.
    public static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            if try canBind(port) { return port }
        }
        throw TestSupportError("found no free port in 20000-31999")
    }

    static func canBind(_ port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }

    static func prepare() async throws {
        let services = repositoryRoot() + "/scripts/services/"
        do {
            // Long timeouts: the first run on a fresh machine may install packages with apt-get.
            _ = try await Runner().capture(Command(services + "dockerd", "start", timeout: .seconds(300)))
            try await removeLeftovers()
            _ = try await Runner().capture(Command(services + "test-images", timeout: .seconds(300)))
        } catch {
            throw TestSupportError("Docker tests need a running engine and the test images: \(error)")
        }
    }
}

extension DockerFixture {
    /// Removes what earlier test runs on this engine left behind: the containers of test Compose projects
    /// (`t<random>-test-blue`, …) and of the backup volume test, Compose networks nothing uses, and images
    /// built under the shared test repository with random tags. A test
    /// process can exit before a detached clean-up finishes; without this, runs pile up networks until the
    /// engine has no address pool left for a new one.
    static func removeLeftovers() async throws {
        let script = #"""
            docker ps -a --filter label=com.docker.compose.project --format '{{.ID}} {{.Label "com.docker.compose.project"}}' \
              | awk '$2 ~ /^t[0-9a-z]+-test-(blue|green)$/ {print $1}' | xargs -r docker rm -f >/dev/null
            docker ps -aq --filter name=opskit-vol- | xargs -r docker rm -f >/dev/null
            docker volume ls -q --filter name=opskit-vol- | xargs -r docker volume rm -f >/dev/null
            docker network prune -f --filter label=com.docker.compose.project >/dev/null
            # Images tests built under opskit-test/app with random tags: deploy's release pruning counts
            # them as newer releases and would remove the shared v1…v4 (test-images rebuilds what is missing).
            docker image ls opskit-test/app --format '{{.Repository}}:{{.Tag}}' | grep -Ev ':v[1-4]$' \
              | xargs -r docker image rm -f >/dev/null 2>&1 || true
            """#
        _ = try await Runner().capture(Command("bash", "-c", script, timeout: .seconds(120)))
    }
}

/// Runs the preparation once, however many tests ask for it at the same time.
private actor SharedDockerFixture {
    static let instance = SharedDockerFixture()
    private var preparing: Task<Void, any Error>?

    func ensure() async throws {
        if let preparing { return try await preparing.value }
        let task = Task { try await DockerFixture.prepare() }
        preparing = task
        try await task.value
    }
}
