import OpsCore

/// What the user asked for: the bump argument.
public enum BumpRequest: Sendable, Equatable {
    /// From the Conventional Commits since the last tag.
    case auto
    case explicit(VersionIncrement)

    public init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let increment = VersionIncrement(rawValue: argument) else { return nil }
        self = .explicit(increment)
    }
}

/// How commits bump a version while the major version is 0 (semver §4: anything may change in 0.y.z).
/// Printed with every 0.x plan, so nobody has to guess.
public struct ZeroMajorPolicy: Sendable, Equatable {
    public var breaking: ReleaseLevel = .minor
    public var feature: ReleaseLevel = .minor
    public var fix: ReleaseLevel = .patch

    public init() {}

    public func level(for level: ReleaseLevel) -> ReleaseLevel {
        switch level {
        case .major: breaking
        case .minor: feature
        case .patch: fix
        }
    }

    public var summary: String { "breaking → \(breaking), feat → \(feature), fix → \(fix)" }
}

/// A file whose version version-tag keeps in step.
public struct VersionFileSpec: Sendable, Equatable {
    /// Relative to the repository's top.
    public var path: String
    public var kind: VersionFileKind

    public init(path: String, kind: VersionFileKind) {
        self.path = path
        self.kind = kind
    }
}

/// Everything that decides a release, from flags and `opskit.yml`'s `version_tag:` section.
public struct ReleaseSettings: Sendable {
    public var request: BumpRequest = .auto
    public var preid: String?
    public var tagPrefix = "v"
    public var zeroMajor = ZeroMajorPolicy()
    /// Files named with `--file` or in the configuration (the well-known ones are found by themselves).
    public var extraFiles: [VersionFileSpec] = []
    public var changelog = true
    public var changelogPath = "CHANGELOG.md"
    /// Write CHANGELOG.md anew from the whole history (every release's section), not only the new one.
    public var changelogAll = false
    /// Commit the changed files; false tags HEAD as it is and changes no file.
    public var commit = true
    public var push = false
    public var remote = "origin"
    /// The release date (YYYY-MM-DD, UTC).
    public var today: String

    public init(today: String) { self.today = today }

    static let knownKeys: Set<String> = ["tag_prefix", "files", "changelog", "zero_major", "push", "remote"]

    /// Reads `version_tag:` from the configuration; unknown keys are refused with the list of known ones.
    public static func resolve(config: OpsConfig, today: String) throws -> ReleaseSettings {
        var settings = ReleaseSettings(today: today)
        let file = config.path ?? OpsConfig.fileName
        let section: [String: JSONValue]
        switch config.root["version_tag"] {
        case .object(let object)?: section = object
        case nil, .null?: section = [:]
        case let other?: throw ReleaseError("version_tag: in \(file) must be a mapping, not '\(other.scalarText)'", exitCode: 2)
        }
        if let unknown = section.keys.sorted().first(where: { !knownKeys.contains($0) }) {
            throw ReleaseError("unknown key version_tag.\(unknown) in \(file) (known: \(knownKeys.sorted().joined(separator: ", ")))", exitCode: 2)
        }
        func scalar(_ key: String) throws -> String? {
            switch section[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case let value? where value.isScalar: return value.scalarText
            default: throw ReleaseError("version_tag.\(key) in \(file) must be a single value", exitCode: 2)
            }
        }
        func flag(_ key: String) throws -> Bool? {
            guard let text = try scalar(key) else { return nil }
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw ReleaseError("version_tag.\(key) in \(file) must be true or false, not '\(text)'", exitCode: 2)
            }
        }
        if let prefix = try scalar("tag_prefix") { settings.tagPrefix = prefix }
        if let push = try flag("push") { settings.push = push }
        if let remote = try scalar("remote") { settings.remote = remote }
        switch section["changelog"] {
        case nil, .null?: break
        case .bool(let on)?: settings.changelog = on
        case .string(let text)?:
            switch text.lowercased() {
            case "false", "no", "off": settings.changelog = false
            case "true", "yes", "on": settings.changelog = true
            default: settings.changelogPath = text
            }
        default: throw ReleaseError("version_tag.changelog in \(file) must be true, false or a path", exitCode: 2)
        }
        switch section["zero_major"] {
        case nil, .null?: break
        case .object(let policy)?:
            for (key, value) in policy {
                guard let text = value.stringValue, let level = ReleaseLevel(name: text) else {
                    throw ReleaseError("version_tag.zero_major.\(key) in \(file) must be major, minor or patch", exitCode: 2)
                }
                switch key {
                case "breaking": settings.zeroMajor.breaking = level
                case "feat", "feature": settings.zeroMajor.feature = level
                case "fix": settings.zeroMajor.fix = level
                default: throw ReleaseError("unknown key version_tag.zero_major.\(key) in \(file) (known: breaking, feat, fix)", exitCode: 2)
                }
            }
        default: throw ReleaseError("version_tag.zero_major in \(file) must be a mapping (breaking:, feat:, fix:)", exitCode: 2)
        }
        switch section["files"] {
        case nil, .null?: break
        case .array(let items)?:
            for item in items {
                switch item {
                case .string(let path): settings.extraFiles.append(try fileSpec(path: path, pattern: nil))
                case .object(let object):
                    guard let path = object["path"]?.stringValue else {
                        throw ReleaseError("each version_tag.files entry in \(file) needs a path", exitCode: 2)
                    }
                    settings.extraFiles.append(try fileSpec(path: path, pattern: object["pattern"]?.stringValue))
                default: throw ReleaseError("version_tag.files in \(file) must list paths or {path, pattern}", exitCode: 2)
                }
            }
        default: throw ReleaseError("version_tag.files in \(file) must be a list", exitCode: 2)
        }
        return settings
    }

    /// A file by its name's kind, or a pattern with `{version}`; a file of no known kind needs a pattern.
    public static func fileSpec(path: String, pattern: String?) throws -> VersionFileSpec {
        if let pattern {
            guard pattern.firstRange(of: "{version}") != nil else {
                throw ReleaseError("the pattern for \(path) must contain {version}, e.g. 'VERSION = \"{version}\"'", exitCode: 2)
            }
            return VersionFileSpec(path: path, kind: .pattern(pattern))
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let kind = VersionFileKind.forFileName(name) else {
            throw ReleaseError("version-tag does not know where the version is in \(path); name it with a pattern in opskit.yml (version_tag.files: [{path: \(path), pattern: 'version = \"{version}\"'}])", exitCode: 2)
        }
        return VersionFileSpec(path: path, kind: kind)
    }
}

extension JSONValue {
    var isScalar: Bool {
        switch self {
        case .bool, .number, .string: true
        default: false
        }
    }
}
