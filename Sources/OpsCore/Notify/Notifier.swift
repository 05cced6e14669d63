import FoundationEssentials
import Logging
import Shell

/// Where to tell people how a job ended: Slack and Discord incoming webhooks, any URL that takes JSON,
/// or an ntfy topic (`https://ntfy.sh/<topic>`, or a self-hosted server's).
public struct Webhook: Sendable, Equatable {
    public enum Kind: String, Sendable { case slack, discord, json, ntfy }
    public var kind: Kind
    public var url: String

    public init(kind: Kind, url: String) {
        self.kind = kind
        self.url = url
    }
}

/// One message about a finished job: a line for chat, and the fields for machines.
///
/// `title` and `priority` are for services that have them (ntfy's `Title` and `Priority` headers). When set,
/// Slack and Discord show the title as the first line and JSON webhooks get `title`/`priority` fields;
/// when nil (the default) those kinds send exactly what they always did.
public struct Notification: Sendable {
    /// ntfy's priorities; `default` is what a message without one gets.
    public enum Priority: String, Sendable { case min, low, `default`, high, urgent }

    public var text: String
    public var fields: [String: JSONValue]
    public var title: String?
    public var priority: Priority?

    public init(text: String, fields: [String: JSONValue], title: String? = nil, priority: Priority? = nil) {
        self.text = text
        self.fields = fields
        self.title = title
        self.priority = priority
    }
}

/// Posts a notification to every webhook; a webhook that fails is logged, never fatal.
///
/// Webhook URLs carry their secret in the path, so they are never printed: log lines name the kind only.
public struct Notifier: Sendable {
    let client: HTTPClient

    public init(client: HTTPClient = HTTPClient()) {
        self.client = client
    }

    /// Sends to all webhooks at once; returns how many accepted it.
    @discardableResult
    public func send(_ notification: Notification, to webhooks: [Webhook], logger: Logger?) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for webhook in webhooks {
                group.addTask { await self.post(notification, to: webhook, logger: logger) }
            }
            var accepted = 0
            for await ok in group where ok { accepted += 1 }
            return accepted
        }
    }

    /// The request `post` sends to `webhook`: its method, headers and body (tests look at it too).
    static func request(_ notification: Notification, for webhook: Webhook) throws -> HTTPRequest {
        let titled = notification.title.map { "\($0)\n\(notification.text)" } ?? notification.text
        let payload: JSONValue
        switch webhook.kind {
        case .slack: payload = .object(["text": .string(titled)])
        case .discord: payload = .object(["content": .string(titled)])
        case .json:
            var fields = notification.fields
            if let title = notification.title { fields["title"] = fields["title"] ?? .string(title) }
            if let priority = notification.priority { fields["priority"] = fields["priority"] ?? .string(priority.rawValue) }
            payload = .object(fields.merging(["text": .string(notification.text)]) { a, _ in a })
        case .ntfy:
            // ntfy takes the message as the plain-text body; the title and priority go in headers.
            var headers: [(name: String, value: String)] = [(name: "Content-Type", value: "text/plain; charset=utf-8")]
            if let title = notification.title { headers.append((name: "Title", value: headerValue(title))) }
            if let priority = notification.priority { headers.append((name: "Priority", value: priority.rawValue)) }
            return HTTPRequest(url: webhook.url, method: "POST", headers: headers, body: .text(notification.text))
        }
        let body = try JSONEncoder().encode(payload)
        return HTTPRequest(url: webhook.url, method: "POST",
                           headers: [(name: "Content-Type", value: "application/json")],
                           body: .bytes(Array(body)))
    }

    /// A header value that cannot break the request: control characters become spaces, and text that is
    /// not ASCII is sent as an RFC 2047 encoded word (`=?UTF-8?B?…?=`), which ntfy decodes.
    static func headerValue(_ text: String) -> String {
        let flat = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        guard !flat.unicodeScalars.allSatisfy(\.isASCII) else { return flat }
        var encoded = Base64.encodeString(Array(flat.utf8))
        while encoded.utf8.count % 4 != 0 { encoded += "=" }
        return "=?UTF-8?B?\(encoded)?="
    }

    func post(_ notification: Notification, to webhook: Webhook, logger: Logger?) async -> Bool {
        do {
            var request = try Self.request(notification, for: webhook)
            request.timeout = .seconds(10)
            let response = try await retry(
                RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(500)), logger: logger,
                what: "the \(webhook.kind.rawValue) notification",
                isTransient: { ($0 as? HTTPError)?.isTransient ?? false }
            ) { _ in try await client.send(request) }
            guard (200...299).contains(response.status) else {
                logger?.warning("the \(webhook.kind.rawValue) webhook answered HTTP \(response.status); notification not delivered")
                return false
            }
            return true
        } catch {
            logger?.warning("could not deliver the \(webhook.kind.rawValue) notification: \(Self.describe(error))")
            return false
        }
    }

    /// An error's one line without the URL it may quote: webhook and ping URLs hold their secret in the path.
    public static func describe(_ error: any Error) -> String {
        if case HTTPError.invalidURL = error {
            return "the configured URL is not an absolute http:// or https:// URL; check the notify settings"
        }
        return "\(error)"
    }
}
