import FoundationEssentials
import Logging
import Shell

/// One URL to check and how.
public struct HealthTarget: Sendable {
    public var url: String
    public var timeout: Duration
    public var connectTimeout: Duration
    public var verifyTLS: Bool
    public var caFile: String?
    public var expectations: HealthExpectations
    public var retry: RetryPolicy

    public init(url: String, timeout: Duration = .seconds(10), connectTimeout: Duration? = nil, verifyTLS: Bool = true,
                caFile: String? = nil, expectations: HealthExpectations = .init(), retry: RetryPolicy = .none) {
        self.url = url
        self.timeout = timeout
        self.connectTimeout = connectTimeout ?? min(timeout, .seconds(5))
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.expectations = expectations
        self.retry = retry
    }
}

/// The outcome of checking one URL: what `--json` prints and what deploy gates on.
public struct HealthResult: Sendable, Codable, Equatable {
    public var url: String
    public var status: HealthStatus
    /// One line for people: `http://… 200 in 3 ms (healthy)` or `http://…: 3 attempts failed: could not connect…`.
    public var summary: String
    public var httpStatus: Int?
    public var latencyMs: Double?
    public var timings: HealthTimings?
    public var certificateDaysLeft: Int?
    public var reportedStatus: String?
    public var failingChecks: [FailingCheck]
    public var reasons: [String]
    public var attempts: Int
    public var error: String?

    public init(url: String, status: HealthStatus, summary: String, httpStatus: Int? = nil, latencyMs: Double? = nil,
                timings: HealthTimings? = nil, certificateDaysLeft: Int? = nil, reportedStatus: String? = nil,
                failingChecks: [FailingCheck] = [], reasons: [String] = [], attempts: Int, error: String? = nil) {
        self.url = url
        self.status = status
        self.summary = summary
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
        self.timings = timings
        self.certificateDaysLeft = certificateDaysLeft
        self.reportedStatus = reportedStatus
        self.failingChecks = failingChecks
        self.reasons = reasons
        self.attempts = attempts
        self.error = error
    }
}

/// Where the time of the last attempt went, in milliseconds since the request started.
public struct HealthTimings: Sendable, Codable, Equatable {
    public var dnsMs: Double
    public var connectMs: Double
    public var tlsMs: Double
    public var firstByteMs: Double
    public var totalMs: Double

    init(_ t: HTTPTimings) {
        dnsMs = t.dns.inMilliseconds
        connectMs = t.connect.inMilliseconds
        tlsMs = t.tls.inMilliseconds
        firstByteMs = t.firstByte.inMilliseconds
        totalMs = t.total.inMilliseconds
    }
}

/// Checks one health URL: request, retry what is transient, judge the answer.
public struct HealthProbe: Sendable {
    let client: HTTPClient
    let retryEnvironment: RetryEnvironment

    public init(client: HTTPClient = HTTPClient(), retryEnvironment: RetryEnvironment = .live) {
        self.client = client
        self.retryEnvironment = retryEnvironment
    }

    /// A 429 or 5xx while retries remain: retried like a refused connection, judged if it is the last answer.
    struct TransientStatus: Error, CustomStringConvertible {
        let response: HTTPResponse
        var description: String { "HTTP \(response.status)" }
    }

    public func check(_ target: HealthTarget, logger: Logger? = nil, now: @Sendable () -> Date = { Date() }) async
        -> HealthResult
    {
        var request = HTTPRequest(url: target.url)
        request.timeout = target.timeout
        request.connectTimeout = target.connectTimeout
        request.verifyTLS = target.verifyTLS
        request.caFile = target.caFile
        let shownURL = Redactor.redact(target.url)
        var attempts = 0
        let client = self.client

        do {
            let response = try await retry(
                target.retry, environment: retryEnvironment, logger: logger, what: "health check of \(shownURL)",
                isTransient: { error in
                    if let error = error as? HTTPError { return error.isTransient }
                    return error is TransientStatus
                }
            ) { attempt in
                attempts = attempt
                let response = try await client.send(request)
                if response.status == 429 || (500...599).contains(response.status) {
                    throw TransientStatus(response: response)
                }
                return response
            }
            return judge(response, target: target, url: shownURL, attempts: attempts, now: now())
        } catch let transient as TransientStatus {
            return judge(transient.response, target: target, url: shownURL, attempts: attempts, now: now())
        } catch let error as HTTPError {
            let status: HealthStatus = if case .invalidURL = error { .unknown } else { .critical }
            let tries = attempts > 1 ? "\(attempts) attempts failed: " : ""
            return HealthResult(
                url: shownURL, status: status, summary: "\(shownURL): \(tries)\(error)", httpStatus: nil,
                latencyMs: nil, timings: nil, certificateDaysLeft: nil, reportedStatus: nil, failingChecks: [],
                reasons: ["\(error)"], attempts: attempts, error: "\(error)")
        } catch {
            return HealthResult(
                url: shownURL, status: .unknown, summary: "\(shownURL): \(error)", httpStatus: nil, latencyMs: nil,
                timings: nil, certificateDaysLeft: nil, reportedStatus: nil, failingChecks: [],
                reasons: ["\(error)"], attempts: attempts, error: "\(error)")
        }
    }

    func judge(_ response: HTTPResponse, target: HealthTarget, url: String, attempts: Int, now: Date) -> HealthResult {
        let latency = response.timings.total.inMilliseconds
        let verdict = HealthEvaluator.evaluate(
            HealthObservation(httpStatus: response.status, body: response.body, latencyMs: latency,
                              certificateExpiry: response.certificateExpiry),
            expecting: target.expectations, now: now)
        var summary = "\(url) \(response.status) in \(HealthEvaluator.formatMs(latency))"
        if verdict.status == .ok {
            if let reported = verdict.reportedStatus { summary += " (\(reported))" }
        } else {
            summary += ": " + verdict.reasons.joined(separator: "; ")
        }
        if verdict.status != .ok && attempts > 1 { summary += " (after \(attempts) attempts)" }
        return HealthResult(
            url: url, status: verdict.status, summary: summary, httpStatus: response.status, latencyMs: latency,
            timings: HealthTimings(response.timings), certificateDaysLeft: verdict.certificateDaysLeft,
            reportedStatus: verdict.reportedStatus, failingChecks: verdict.failingChecks, reasons: verdict.reasons,
            attempts: attempts, error: nil)
    }
}

extension Duration {
    /// This duration in milliseconds, as a Double.
    public var inMilliseconds: Double {
        let c = components
        return Double(c.seconds) * 1_000 + Double(c.attoseconds) / 1e15
    }
}

extension HealthProbe {
    /// Checks every target at once; the results come back in the order the targets were given.
    public func checkAll(_ targets: [HealthTarget], logger: Logger? = nil) async -> [HealthResult] {
        await withTaskGroup(of: (Int, HealthResult).self) { group in
            for (i, target) in targets.enumerated() {
                group.addTask { (i, await check(target, logger: logger)) }
            }
            var byIndex: [Int: HealthResult] = [:]
            for await (i, result) in group { byIndex[i] = result }
            return targets.indices.compactMap { byIndex[$0] }
        }
    }
}
