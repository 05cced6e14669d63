import Shell

/// A private nginx proxying to an upstream file that `deploy` rewrites (scripts/services/nginx-proxy).
public final class NginxProxy: Sendable {
    public let directory: TempDirectory
    public let url: String
    public let upstreamFile: String
    public let configFile: String
    public let upstreamName: String

    private init(directory: TempDirectory, url: String, upstreamName: String) {
        self.directory = directory
        self.url = url
        self.upstreamName = upstreamName
        upstreamFile = directory.file("upstream.conf")
        configFile = directory.file("nginx.conf")
    }

    /// Starts nginx on `address` (and `port`, else a free one).
    public static func start(upstreamName: String, address: String = "127.0.0.1", port: Int? = nil) async throws
        -> NginxProxy
    {
        let dir = try TempDirectory(prefix: "opskit-proxy")
        let out = try await Runner().capture(Command(
            argv: [repositoryRoot() + "/scripts/services/nginx-proxy", "start", dir.path, upstreamName] + (port.map { ["\($0)"] } ?? []),
            environment: ["NGINX_PROXY_ADDR": address], timeout: .seconds(120)))
        guard let line = out.stdoutText.split(separator: "\n").first(where: { $0.hasPrefix("PROXY_URL=") }) else {
            throw TestSupportError("nginx-proxy printed no PROXY_URL: \(out.stdoutText)")
        }
        return NginxProxy(directory: dir, url: String(line.dropFirst("PROXY_URL=".count)), upstreamName: upstreamName)
    }

    /// `nginx -t` and reload commands for this instance, as opskit.yml lists them.
    public var testCommand: [String] { ["nginx", "-p", directory.path, "-c", configFile, "-t"] }
    public var reloadCommand: [String] { ["nginx", "-p", directory.path, "-c", configFile, "-s", "reload"] }

    public func stop() async {
        _ = try? await Runner().capture(Command(repositoryRoot() + "/scripts/services/nginx-proxy", "stop", directory.path))
        directory.remove()
    }
}
