import FoundationEssentials

/// One answer from a health endpoint, reduced to what the verdict depends on.
public struct HealthObservation: Sendable {
    public var httpStatus: Int
    public var body: [UInt8]
    public var latencyMs: Double
    public var certificateExpiry: Date?

    public init(httpStatus: Int, body: [UInt8], latencyMs: Double, certificateExpiry: Date? = nil) {
        self.httpStatus = httpStatus
        self.body = body
        self.latencyMs = latencyMs
        self.certificateExpiry = certificateExpiry
    }
}

/// The verdict on one answer, with every reason that lowered it.
public struct HealthVerdict: Sendable, Equatable {
    public var status: HealthStatus
    public var reasons: [String]
    public var reportedStatus: String?
    public var failingChecks: [FailingCheck]
    public var certificateDaysLeft: Int?
}

/// Judges an answer: HTTP status, the app's own document, expectations, latency and certificate.
public enum HealthEvaluator {
    public static func evaluate(_ o: HealthObservation, expecting e: HealthExpectations, now: Date = Date())
        -> HealthVerdict
    {
        var status = HealthStatus.ok
        var reasons: [String] = []
        func lower(to s: HealthStatus, _ reason: String) {
            if s.severity > status.severity { status = s }
            reasons.append(reason)
        }

        if !e.accepts(status: o.httpStatus) {
            lower(to: .critical, "HTTP \(o.httpStatus), expected \(e.statusDescription)")
        }

        let json = JSONValue.parse(o.body)
        var document: HealthDocument?
        if let json {
            let doc = HealthDocument(json: json)
            document = doc
            if let reported = doc.reportedStatus, let meaning = doc.status, meaning != .ok {
                lower(to: meaning, "app reports \(reported)")
            }
            if !doc.failingChecks.isEmpty {
                // A down check under a "healthy" (or no) top-level status is still worth a WARNING;
                // with no top-level status the checks are the only verdict there is.
                let floor: HealthStatus = doc.status == nil ? .critical : .warning
                lower(to: floor, "failing checks: " + doc.failingChecks.map(\.description).joined(separator: ", "))
            }
        }

        if let text = e.bodyContains, !String(decoding: o.body, as: UTF8.self).contains(text) {
            lower(to: .critical, "body does not contain \"\(text)\"")
        }
        for expectation in e.json {
            guard let json else {
                lower(to: .critical, "body is not JSON, expected \(expectation)")
                continue
            }
            let actual = json.value(atPath: expectation.path)
            if actual?.scalarText != expectation.value {
                lower(to: .critical, "\(expectation.path) is \(actual.map { "\"\($0.scalarText)\"" } ?? "missing"), expected \"\(expectation.value)\"")
            }
        }

        if let crit = e.critLatencyMs, o.latencyMs >= crit {
            lower(to: .critical, "took \(formatMs(o.latencyMs)), critical at \(formatMs(crit))")
        } else if let warn = e.warnLatencyMs, o.latencyMs >= warn {
            lower(to: .warning, "took \(formatMs(o.latencyMs)), warning at \(formatMs(warn))")
        }

        var daysLeft: Int?
        if let expiry = o.certificateExpiry {
            let seconds = expiry.timeIntervalSince(now)
            let days = Int((seconds / 86_400).rounded(.down))
            daysLeft = days
            if seconds <= 0 {
                lower(to: .critical, "certificate expired \(-days) days ago")
            } else if let min = e.minCertificateDays, days < min {
                lower(to: .warning, "certificate expires in \(days) days (minimum \(min))")
            }
        }

        return HealthVerdict(status: status, reasons: reasons, reportedStatus: document?.reportedStatus,
                             failingChecks: document?.failingChecks ?? [], certificateDaysLeft: daysLeft)
    }

    static func formatMs(_ ms: Double) -> String {
        ms >= 10 ? "\(Int(ms.rounded())) ms" : "\((ms * 10).rounded() / 10) ms"
    }
}
