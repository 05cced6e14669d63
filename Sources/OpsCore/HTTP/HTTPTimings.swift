/// When each phase of a transfer finished, measured from its start (curl's `*_TIME_T` figures).
///
/// Values are cumulative, as in `curl -w`: `connect` includes `dns`, `total` includes everything.
public struct HTTPTimings: Sendable, Codable, Equatable {
    /// Name resolution done.
    public var dns: Duration
    /// TCP (or Unix socket) connection established.
    public var connect: Duration
    /// TLS handshake done; zero for plain HTTP.
    public var tls: Duration
    /// First response byte received.
    public var firstByte: Duration
    /// Transfer complete.
    public var total: Duration

    public init(dns: Duration = .zero, connect: Duration = .zero, tls: Duration = .zero,
                firstByte: Duration = .zero, total: Duration = .zero) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }

    private enum CodingKeys: String, CodingKey { case dns, connect, tls, firstByte, total }

    // Seconds as a Double: what JSON readers (jq, dashboards) expect, unlike Duration's two-integer form.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read(_ key: CodingKeys) throws -> Duration { .seconds(try c.decode(Double.self, forKey: key)) }
        self.init(dns: try read(.dns), connect: try read(.connect), tls: try read(.tls),
                  firstByte: try read(.firstByte), total: try read(.total))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dns.seconds, forKey: .dns)
        try c.encode(connect.seconds, forKey: .connect)
        try c.encode(tls.seconds, forKey: .tls)
        try c.encode(firstByte.seconds, forKey: .firstByte)
        try c.encode(total.seconds, forKey: .total)
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// Whole milliseconds, rounded up so a tiny positive timeout never becomes curl's "no timeout" (0).
    var milliseconds: Int {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        let rest = atto % 1_000_000_000_000_000
        return Int(ms) + (rest > 0 ? 1 : 0)
    }
}
