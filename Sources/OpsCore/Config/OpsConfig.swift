import FoundationEssentials
import Shell
#if canImport(Glibc)
import Glibc
#endif

/// `opskit.yml`: found in the current directory, or named by `--config` / `OPSKIT_CONFIG`.
///
/// Precedence is the caller's: flags > environment > this file > defaults. This type only reads the file
/// and answers dotted keys (`health.url`).
public struct OpsConfig: Sendable {
    public static let fileName = "opskit.yml"

    public var root: JSONValue
    /// Where it was read from; nil when no file was found (an empty configuration).
    public var path: String?

    public init(root: JSONValue = .object([:]), path: String? = nil) {
        self.root = root
        self.path = path
    }

    /// Loads the configuration. A file named explicitly must exist; `./opskit.yml` is optional.
    public static func load(
        explicitPath: String?,
        environment: [String: String],
        currentDirectory: String = "."
    ) throws(ConfigError) -> OpsConfig {
        let named = explicitPath ?? environment["OPSKIT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let path = named ?? (currentDirectory == "." ? fileName : currentDirectory + "/" + fileName)
        guard let bytes = AtomicFile.read(path) else {
            if named == nil && access(path, F_OK) != 0 { return OpsConfig() }
            let reason = access(path, F_OK) != 0 ? "no such file" : "permission denied or not a regular file"
            throw .unreadable(file: path, reason: reason + (named != nil ? " (named by --config or OPSKIT_CONFIG)" : ""))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let root = try YAMLSubset.parse(text, file: path)
        if case .object = root {} else {
            throw .syntax(file: path, line: 1, "the top level must be a mapping (`key: value`)")
        }
        return OpsConfig(root: root, path: path)
    }

    /// A scalar at a dotted key, as text; nil when absent or null.
    public func string(_ key: String) throws(ConfigError) -> String? {
        switch root.value(atPath: key) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .bool?, .number?: return root.value(atPath: key)?.scalarText
        case .array?, .object?:
            throw .invalidValue(key: key, value: "a list or mapping", expected: "a single value" + where_)
        }
    }

    /// A string or a list of strings at a dotted key.
    public func strings(_ key: String) throws(ConfigError) -> [String]? {
        switch root.value(atPath: key) {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item throws(ConfigError) in
                guard case .string(let s) = item else {
                    throw .invalidValue(key: key, value: item.scalarText, expected: "a list of strings" + where_)
                }
                return s
            }
        default: return try string(key).map { [$0] }
        }
    }

    private var where_: String { path.map { " in \($0)" } ?? "" }
}
