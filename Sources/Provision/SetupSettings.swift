import OpsCore

/// What setup-vps is asked to make of the server: flags over `opskit.yml`'s `setup:` over defaults.
public struct SetupSettings: Sendable, Equatable {
    /// The deploy user to create.
    public var user = "deploy"
    /// Public keys (authorized_keys lines) for the deploy user; empty means "copy root's".
    public var authorizedKeys: [String] = []
    /// The app: `/opt/<app>/{data,config,backups,logs}`; nil skips that step.
    public var app: String?
    /// Swap file size in bytes; nil means the default (2 GiB when RAM is under 4 GiB, else none); 0 means none.
    public var swapBytes: Int64?
    /// The SSH port sshd should listen on; nil keeps the port it uses now.
    public var sshPort: Int?
    /// Install the systemd timers (or cron entries) for backup-db and monitor.
    public var schedules = false
    /// Where the opskit tools live on the server (for the schedules).
    public var binDirectory = "/opt/opskit/bin"
    /// `MaxAuthTries` in the sshd drop-in.
    public var maxAuthTries = 3

    public init() {}

    /// `2G`, `512M`, `1024K`, `0` (no swap) → bytes; nil for anything else.
    public static func parseSize(_ text: String) -> Int64? {
        var trimmed = text.uppercased().filter { $0 != " " }
        if trimmed.hasSuffix("IB") { trimmed.removeLast(2); trimmed += "B" }
        if trimmed.hasSuffix("B") && trimmed.count > 1 { trimmed.removeLast() }
        guard let last = trimmed.last else { return nil }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let unit = units[last] {
            let number = trimmed.dropLast()
            guard let value = Int64(number), value >= 0 else { return nil }
            return value * unit
        }
        guard let value = Int64(trimmed), value >= 0 else { return nil }
        return value
    }

    /// A Linux user name useradd accepts (and that is safe in every file we write it into).
    public static func isValidUserName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 32,
              ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// An app name safe as a directory under /opt.
    public static func isValidAppName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }
}

extension SetupSettings {
    static let knownKeys: Set<String> = ["user", "ssh_keys", "swap", "ssh_port", "schedules", "bin_dir", "max_auth_tries"]

    /// `app:` and the `setup:` section of opskit.yml (flags override these afterwards).
    public static func resolve(config: OpsConfig) throws -> SetupSettings {
        let file = config.path ?? OpsConfig.fileName
        var settings = SetupSettings()
        if case .string(let app)? = config.root["app"] { settings.app = app }
        let section: [String: JSONValue]
        switch config.root["setup"] {
        case .object(let object)?: section = object
        case nil, .null?: section = [:]
        case let other?: throw SetupError("setup: in \(file) must be a mapping, not '\(other.scalarText)'")
        }
        if let unknown = section.keys.sorted().first(where: { !knownKeys.contains($0) }) {
            throw SetupError("unknown key setup.\(unknown) in \(file) (known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        func text(_ key: String) throws -> String? {
            switch section[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case .number?, .bool?: return section[key]!.scalarText
            default: throw SetupError("setup.\(key) in \(file) must be a single value")
            }
        }
        if let user = try text("user") { settings.user = user }
        if let swap = try text("swap") {
            guard let bytes = parseSize(swap) else { throw SetupError("setup.swap in \(file): '\(swap)' is not a size like 2G or 512M (0 for none)") }
            settings.swapBytes = bytes
        }
        if let port = try text("ssh_port") {
            guard let n = Int(port), (1...65535).contains(n) else { throw SetupError("setup.ssh_port in \(file): '\(port)' is not a port") }
            settings.sshPort = n
        }
        if let tries = try text("max_auth_tries") {
            guard let n = Int(tries), (1...20).contains(n) else { throw SetupError("setup.max_auth_tries in \(file): '\(tries)' is not 1–20") }
            settings.maxAuthTries = n
        }
        if let schedules = try text("schedules") { settings.schedules = ["true", "yes", "on"].contains(schedules.lowercased()) }
        if let bin = try text("bin_dir") { settings.binDirectory = bin }
        switch section["ssh_keys"] {
        case nil, .null?: break
        case .string(let key)?: settings.authorizedKeys = [key]
        case .array(let items)?: settings.authorizedKeys = items.compactMap(\.stringValue)
        default: throw SetupError("setup.ssh_keys in \(file) must be a key line or a list of them")
        }
        return settings
    }

    /// Problems with the settings themselves, before anything connects.
    public func validate() throws {
        guard Self.isValidUserName(user), user != "root" else {
            throw SetupError("'\(user)' is not a usable deploy user name (lowercase letters, digits, - and _; not root)")
        }
        if let app, !Self.isValidAppName(app) { throw SetupError("'\(app)' is not a usable app name (letters, digits, . _ -)") }
        for key in authorizedKeys where DeployUserStep.keyLines(key).isEmpty || !key.contains(" ") {
            throw SetupError("'\(key.prefix(40))' is not an authorized_keys line (type, key, comment)")
        }
    }
}
