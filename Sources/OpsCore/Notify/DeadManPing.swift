import Logging
import Shell

/// A healthchecks.io-style dead-man's switch: `URL/start` when a job starts, `URL` when it went well,
/// `URL/fail` when it did not. The service alerts when the pings stop, so a job that no longer runs at
/// all is noticed by it, not by us.
///
/// The URL holds a secret (its UUID or token), so it is never printed: log lines name the signal only.
public struct DeadManPing: Sendable {
    public enum Signal: String, Sendable { case start, success, fail }

    public var url: String
    let client: HTTPClient

    public init(url: String, client: HTTPClient = HTTPClient()) {
        self.url = url
        self.client = client
    }

    /// Where `signal` goes: the URL itself for success, `/start` or `/fail` appended otherwise.
    public func url(for signal: Signal) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        switch signal {
        case .start: url += "/start"
        case .fail: url += "/fail"
        case .success: break
        }
        return url
    }

    /// GETs the signal's URL, or POSTs `message` (redacted) to it; a ping that fails is logged, never fatal.
    /// Returns whether the service answered 2xx.
    @discardableResult
    public func send(_ signal: Signal, message: String? = nil, logger: Logger?) async -> Bool {
        var request = HTTPRequest(url: url(for: signal), method: message == nil ? "GET" : "POST",
                                  body: message.map { .text(Redactor.redact($0)) })
        request.timeout = .seconds(10)
        do {
            let response = try await retry(
                RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(300)), logger: logger,
                what: "the dead-man \(signal.rawValue) ping",
                isTransient: { ($0 as? HTTPError)?.isTransient ?? false }
            ) { _ in try await client.send(request) }
            guard (200...299).contains(response.status) else {
                logger?.warning("the dead-man \(signal.rawValue) ping got HTTP \(response.status)")
                return false
            }
            return true
        } catch {
            logger?.warning("could not send the dead-man \(signal.rawValue) ping: \(Notifier.describe(error))")
            return false
        }
    }
}
