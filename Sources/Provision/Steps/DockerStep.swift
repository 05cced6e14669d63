import OpsCore

/// 3. Docker engine and Compose from the distribution, and `/etc/docker/daemon.json` merged with json-file
/// log rotation (`max-size 10m`, `max-file 3`); Docker restarted only when that file changed.
public struct DockerStep: SetupStep {
    public var name: String { "docker" }
    public init() {}

    static let path = "/etc/docker/daemon.json"

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        // An engine from Docker's own repository (docker-ce) is kept: installing docker.io would conflict.
        let available = { (package: String) async throws -> Bool in
            // A candidate version, not just a name other packages mention (docker.io's Breaks name docker-ce).
            try await host.test(#"apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'"#, [package])
        }
        if !(try await host.test("command -v dockerd >/dev/null")) {
            if try await available("docker-ce") {
                // Docker's own repository is configured: its engine and the Compose plugin.
                try await context.ensurePackages(["docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin"], log: &log)
            } else {
                let compose = try await available("docker-compose-v2") ? "docker-compose-v2" : "docker-compose"
                try await context.ensurePackages(["docker.io", compose], log: &log)
            }
        } else if !(try await host.test("docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null")) {
            let compose = try await available("docker-compose-plugin") ? "docker-compose-plugin" : "docker-compose"
            try await context.ensurePackages([compose], log: &log)
        }

        let current = try await host.read(Self.path)
        let merged: DaemonConfig.Merge
        do {
            merged = try DaemonConfig.merge(current)
        } catch {
            throw SetupError("\(Self.path) on \(host.name) is not valid JSON (\(error)); it was left as it is — fix or remove it and run setup-vps again")
        }
        merged.notes.forEach { log.note($0) }
        if let text = merged.text {
            try await context.ensureDirectory("/etc/docker", mode: 0o755, owner: "root", group: "root", log: &log)
            if try await context.ensureFile(Self.path, text, log: &log) {
                log.note("log rotation applies to containers created from now on; recreate running ones to use it")
                try await context.restartIfRunning("docker", log: &log)
            }
        }
        return log.finish()
    }
}

/// The daemon.json merge, apart from any server so it can be tested on its own.
public enum DaemonConfig {
    public struct Merge: Sendable, Equatable {
        /// The new file text; nil when nothing needs to change.
        public var text: String?
        public var notes: [String]
    }

    public struct InvalidJSON: Error, CustomStringConvertible {
        public var description: String
    }

    /// Adds json-file rotation to `current` (nil: no file yet), keeping every other setting. Another log
    /// driver is kept as it is (its options differ; json-file's would stop dockerd from starting).
    public static func merge(_ current: String?) throws -> Merge {
        var members: [String: JSONValue] = [:]
        if let current, !current.allSatisfy({ $0.isWhitespace }) {
            guard case .object(let existing)? = JSONValue.parse(Array(current.utf8)) else {
                throw InvalidJSON(description: "expected one JSON object")
            }
            members = existing
        }
        let before = members
        if let driver = members["log-driver"], driver != .string("json-file") {
            return Merge(text: nil, notes: ["log-driver \(driver.scalarText) kept; no json-file rotation added"])
        }
        members["log-driver"] = .string("json-file")
        var options: [String: JSONValue] = [:]
        if case .object(let existing)? = members["log-opts"] { options = existing }
        if options["max-size"] == nil { options["max-size"] = .string("10m") }
        if options["max-file"] == nil { options["max-file"] = .string("3") }
        members["log-opts"] = .object(options)
        guard members != before || current == nil else { return Merge(text: nil, notes: []) }
        return Merge(text: JSONValue.object(members).serialized(pretty: true) + "\n", notes: [])
    }
}
