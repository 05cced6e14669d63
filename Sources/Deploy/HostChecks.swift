import OpsCore
import Shell

/// Where to check each host of an environment's `hosts:` (for `health-check --environment`).
public enum HostHealthURLs {
    /// One URL per deployer, in their order. A `health_url` of the host's own (`{host}`, or set per host) is
    /// checked as it is; a URL all hosts share (a load balancer's) would say nothing about one host, so then
    /// the host is reached over SSH: a forward to the port its nginx upstream points at, `health_path` there.
    public static func resolve(_ members: [Deployer]) async -> [Result<String, any Error>] {
        let urls = members.map(\.environment.healthURL)
        let shared = members.count > 1 && Set(urls.compactMap { $0 }).count == 1
        return await parallelResults(members.indices.map { $0 }) { i in
            let environment = members[i].environment
            if let url = environment.healthURL, !shared { return url }
            return try await members[i].liveHealthURL()
        }
    }
}

extension Deployer {
    /// The serving slot's health URL as this machine reaches it: the port nginx's upstream file points at
    /// (else the journal's current deployment, else the first port), forwarded over SSH for a remote host.
    public func liveHealthURL() async throws -> String {
        var port: Int?
        if let proxy = environment.proxy { port = try await NginxSwitch(target: target, proxy: proxy).currentPort() }
        if port == nil, let current = try? await history(), let live = DeploymentJournal.current(in: current)?.port {
            port = live
        }
        let local = try await target.localPort(reaching: port ?? environment.ports[0])
        return "http://127.0.0.1:\(local)\(environment.healthPath)"
    }
}

/// One line per host, every column but the last aligned, the last cut to one line: readable with 20 hosts.
public enum HostTable {
    public static func render(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = " "
            for (c, cell) in row.enumerated() {
                if c == row.count - 1 {
                    let oneLine = cell.replacing("\n", with: " ")
                    line += " " + (oneLine.count > 160 ? String(oneLine.prefix(157)) + "..." : oneLine)
                } else {
                    line += " " + cell + String(repeating: " ", count: widths[c] - cell.count + 1)
                }
            }
            return String(line.reversed().drop(while: { $0 == " " }).reversed())
        }.joined(separator: "\n")
    }
}
