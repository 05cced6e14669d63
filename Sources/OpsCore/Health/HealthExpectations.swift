/// What a healthy answer looks like, beyond what the app says about itself.
public struct HealthExpectations: Sendable, Equatable {
    /// Accepted HTTP statuses; empty means any 2xx or 3xx.
    public var statuses: Set<Int>
    /// Text the body must contain.
    public var bodyContains: String?
    /// Dotted JSON keys and the scalar each must equal (`checks.database.status=up`).
    public var json: [JSONExpectation]
    public var warnLatencyMs: Double?
    public var critLatencyMs: Double?
    /// Fewer days than this left on the peer certificate is a WARNING.
    public var minCertificateDays: Int?

    public init(statuses: Set<Int> = [], bodyContains: String? = nil, json: [JSONExpectation] = [],
                warnLatencyMs: Double? = nil, critLatencyMs: Double? = nil, minCertificateDays: Int? = nil) {
        self.statuses = statuses
        self.bodyContains = bodyContains
        self.json = json
        self.warnLatencyMs = warnLatencyMs
        self.critLatencyMs = critLatencyMs
        self.minCertificateDays = minCertificateDays
    }

    public func accepts(status: Int) -> Bool {
        statuses.isEmpty ? (200...399).contains(status) : statuses.contains(status)
    }

    public var statusDescription: String {
        statuses.isEmpty ? "2xx or 3xx" : statuses.sorted().map(String.init).joined(separator: " or ")
    }
}

/// `KEY=VALUE` for `--expect-json`: a dotted path into the body and the scalar it must equal.
public struct JSONExpectation: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var value: String

    public init(path: String, value: String) {
        self.path = path
        self.value = value
    }

    /// Parses `checks.database.status=up`; nil for a missing `=`, an empty key or an empty path segment.
    public init?(parsing text: String) {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let key = String(text[..<eq])
        guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
        else { return nil }
        self.init(path: key, value: String(text[text.index(after: eq)...]))
    }

    public var description: String { "\(path)=\(value)" }
}
