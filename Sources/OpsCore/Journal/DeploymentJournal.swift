import FoundationEssentials

/// The deploy history of one app environment: a JSON file on the target, rewritten atomically.
///
/// It lives on the machine that runs the app (the VPS), so a rollback from any laptop or CI job sees the
/// same history. Callers hold the environment's lock while they write.
public struct DeploymentJournal: Sendable {
    public let target: Target
    public let path: String
    /// Older entries are dropped so the file stays small (it travels as one ssh argument).
    public static let maxEntries = 100

    public init(target: Target, directory: String, environment: String) {
        self.target = target
        self.path = directory + "/deployments-\(environment).json"
    }

    /// Every recorded deployment, oldest first; empty when nothing was deployed yet.
    public func load() async throws -> [Deployment] {
        guard let bytes = try await target.readFile(path), !bytes.isEmpty else { return [] }
        do {
            return try JSONCoding.decoder().decode([Deployment].self, from: Data(bytes))
        } catch {
            throw JournalError.corrupt(path: path, target: "\(target)")
        }
    }

    /// Inserts or replaces (by id) one deployment and saves.
    public func record(_ deployment: Deployment) async throws {
        var all = try await load()
        if let i = all.firstIndex(where: { $0.id == deployment.id }) {
            all[i] = deployment
        } else {
            all.append(deployment)
        }
        try await save(all)
    }

    func save(_ all: [Deployment]) async throws {
        let kept = Array(all.suffix(Self.maxEntries))
        let data = try JSONCoding.encoder().encode(kept)
        try await target.writeFile(path, String(decoding: data, as: UTF8.self) + "\n")
    }

    /// The deployment serving now: the last one that went live and stayed.
    public static func current(in all: [Deployment]) -> Deployment? {
        all.last { $0.status == .success }
    }

    /// The successful deployment before the current one (what a plain `rollback` returns to).
    public static func previous(in all: [Deployment]) -> Deployment? {
        let successes = all.filter { $0.status == .success }
        guard successes.count >= 2 else { return nil }
        let current = successes[successes.count - 1]
        // Skip entries for the image already serving: rolling back to it would change nothing.
        return successes.dropLast().last { $0.image != current.image }
    }
}

public enum JournalError: Error, Sendable, CustomStringConvertible {
    case corrupt(path: String, target: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let target):
            return "the deploy journal \(path) on \(target) is not valid JSON; nothing was changed — fix or move it aside"
        }
    }
}
