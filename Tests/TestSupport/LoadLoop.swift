import OpsCore
import Synchronization

/// Sends requests to one URL without pause from a few concurrent clients, and counts every failure.
///
/// Bounded by design: it stops by itself after `maxDuration` or `maxRequests`, whichever comes first.
public final class LoadLoop: Sendable {
    public struct Report: Sendable {
        public var requests: Int
        /// Every non-2xx status or transport error, in order ("502", "could not connect: …").
        public var failures: [String]
        /// How many answers carried each body (trimmed): which versions served.
        public var bodies: [String: Int]
    }

    private let state = Mutex(Report(requests: 0, failures: [], bodies: [:]))
    private let stopped = Atomic<Bool>(false)
    private let tasks: Mutex<[Task<Void, Never>]> = Mutex([])

    private init() {}

    public static func start(url: String, clients: Int = 2, maxDuration: Duration = .seconds(300),
                             maxRequests: Int = 500_000) -> LoadLoop {
        let loop = LoadLoop()
        loop.run(url: url, clients: clients, maxDuration: maxDuration, maxRequests: maxRequests)
        return loop
    }

    private func run(url: String, clients: Int, maxDuration: Duration, maxRequests: Int) {
        let client = HTTPClient()
        var started: [Task<Void, Never>] = []
        let clock = ContinuousClock()
        let end = clock.now + maxDuration
        for _ in 0..<clients {
            started.append(Task {
                while !self.stopped.load(ordering: .relaxed), clock.now < end, self.state.withLock({ $0.requests }) < maxRequests {
                    var request = HTTPRequest(url: url)
                    request.timeout = .seconds(5)
                    let outcome: String
                    var body = ""
                    do {
                        let response = try await client.send(request)
                        outcome = (200...299).contains(response.status) ? "" : String(response.status)
                        body = response.bodyText.split(separator: "\n").first.map(String.init) ?? ""
                    } catch {
                        outcome = "\(error)"
                    }
                    self.state.withLock { report in
                        report.requests += 1
                        if outcome.isEmpty { report.bodies[body, default: 0] += 1 } else { report.failures.append(outcome) }
                    }
                }
            })
        }
        tasks.withLock { $0 = started }
    }

    /// What has been seen so far (the loop keeps running).
    public var snapshot: Report { state.withLock { $0 } }

    /// Stops the clients and returns everything they saw.
    public func stop() async -> Report {
        stopped.store(true, ordering: .relaxed)
        for task in tasks.withLock({ $0 }) { await task.value }
        return snapshot
    }
}
