import FoundationEssentials
import Logging
import Shell

/// Where to tell people how a job ended: Slack and Discord incoming webhooks, or any URL that takes JSON.
public struct Webhook: Sendable, Equatable {
    public enum Kind: String, Sendable { case slack, discord, json }
    public var kind: Kind
    public var url: String

    public init(kind: Kind, url: String) {
        self.kind = kind
        self.url = url
    }
}

/// One message about a finished job: a line for chat, and the fields for machines.
public struct Notification: Sendable {
    public var text: String
    public var fields: [String: JSONValue]

    public init(text: String, fields: [String: JSONValue]) {
        self.text = text
        self.fields = fields
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

    func post(_ notification: Notification, to webhook: Webhook, logger: Logger?) async -> Bool {
        let payload: JSONValue
        switch webhook.kind {
        case .slack: payload = .object(["text": .string(notification.text)])
        case .discord: payload = .object(["content": .string(notification.text)])
        case .json: payload = .object(notification.fields.merging(["text": .string(notification.text)]) { a, _ in a })
        }
        do {
            let body = try JSONEncoder().encode(payload)
            var request = HTTPRequest(url: webhook.url, method: "POST",
                                      headers: [(name: "Content-Type", value: "application/json")],
                                      body: .bytes(Array(body)))
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
            logger?.warning("could not deliver the \(webhook.kind.rawValue) notification: \(error)")
            return false
        }
    }
}
