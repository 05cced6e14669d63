import Logging

/// The one log handler every opskit tool uses: human lines or JSON lines, secrets redacted.
///
/// Redaction happens here, at the last step before output, so no caller can forget it: the message and
/// every metadata value go through ``Redactor/redact(_:)``, and a metadata key that is a secret name
/// (``Redactor/isSecretName(_:)``) has its whole value replaced by `***`.
public struct OpsLogHandler: LogHandler {
    /// The tool name that starts every human line and fills the JSON `tool` field.
    public let tool: String
    public let format: LogFormat
    /// Whether human lines carry ANSI colors; JSON is never colored.
    public let color: Bool
    private let sink: @Sendable (String) -> Void

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler that hands each complete line, including its trailing `"\n"`, to `sink`.
    public init(tool: String, format: LogFormat, color: Bool, sink: @escaping @Sendable (String) -> Void) {
        self.tool = tool
        self.format = format
        self.color = color
        self.sink = sink
    }

    /// A handler writing to stderr, colored only when stderr is a terminal and `NO_COLOR` is unset or empty.
    public static func standardError(tool: String, format: LogFormat) -> OpsLogHandler {
        let color = shouldColor(isTerminal: StandardStreams.isTerminal(2), noColor: StandardStreams.environment("NO_COLOR"))
        return OpsLogHandler(tool: tool, format: format, color: color) { StandardStreams.writeAll($0, to: 2) }
    }

    /// The NO_COLOR convention (https://no-color.org): any non-empty value turns color off.
    static func shouldColor(isTerminal: Bool, noColor: String?) -> Bool {
        isTerminal && (noColor ?? "").isEmpty
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let fields = Self.redact(merged)
        let message = Redactor.redact(event.message.description)
        switch format {
        case .human: sink(humanLine(level: event.level, message: message, fields: fields))
        case .json: sink(jsonLine(level: event.level, message: message, fields: fields, timestamp: Timestamp.now()))
        }
    }

    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.reduce(into: [:]) { out, pair in
            out[pair.key] = Redactor.isSecretName(pair.key) ? .string(Redactor.mask) : redact(pair.value)
        }
    }

    static func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let s): .string(Redactor.redact(s))
        case .stringConvertible(let c): .string(Redactor.redact(c.description))
        case .array(let items): .array(items.map(redact))
        case .dictionary(let dict): .dictionary(redact(dict))
        @unknown default: .string(Redactor.redact(value.description))
        }
    }
}
