import OpsCore
import Shell

/// One thing a backup copies, as written in opskit.yml or `--source`.
///
/// - `dir:/opt/app/data/lancedb` — a directory tree;
/// - `sqlite:/app/data/bot.db` — an SQLite database, snapshotted online through SQLite's backup API;
/// - `postgres://user@host:5432/db` (or `postgresql://`) — a PostgreSQL database, `pg_dump -Fc` streamed;
/// - `volume:NAME` — a Docker volume (its directory on this host).
public enum BackupSource: Sendable, Equatable, CustomStringConvertible {
    case directory(String)
    case sqlite(String)
    case postgres(String)
    case volume(String)

    public enum Kind: String, Sendable, CaseIterable { case dir, sqlite, postgres, volume }

    public var kind: Kind {
        switch self {
        case .directory: .dir
        case .sqlite: .sqlite
        case .postgres: .postgres
        case .volume: .volume
        }
    }

    /// Parses a source spec; the error says which forms exist.
    public init(parsing spec: String) throws(BackupSettingsError) {
        let text = spec.trimmingSpaces
        func path(after prefix: String) throws(BackupSettingsError) -> String {
            var path = String(text.dropFirst(prefix.count))
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            guard path.hasPrefix("/") else {
                throw .invalidSource(spec: spec, why: "\(prefix) needs an absolute path, e.g. \(prefix)/opt/app/data")
            }
            guard !path.split(separator: "/").contains("..") else {
                throw .invalidSource(spec: spec, why: "the path may not contain `..`")
            }
            return path
        }
        if text.hasPrefix("dir:") {
            self = .directory(try path(after: "dir:"))
        } else if text.hasPrefix("sqlite:") {
            self = .sqlite(try path(after: "sqlite:"))
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(text)
        } else if text.hasPrefix("volume:") {
            let name = String(text.dropFirst("volume:".count))
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
                throw .invalidSource(spec: spec, why: "a Docker volume name is letters, digits, _ . and -")
            }
            self = .volume(name)
        } else if text.hasPrefix("/") {
            throw .invalidSource(spec: spec, why: "say what it is: dir:\(text) or sqlite:\(text)")
        } else {
            throw .invalidSource(spec: spec, why: "expected dir:PATH, sqlite:PATH, postgres://… or volume:NAME")
        }
    }

    /// The spec with any password replaced by `***`: safe for logs, manifests and `--list`.
    public var description: String {
        switch self {
        case .directory(let path): "dir:\(path)"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Redactor.redact(url)
        case .volume(let name): "volume:\(name)"
        }
    }

    /// The last path component (or database / volume name): the base of its name inside the archive.
    var label: String {
        switch self {
        case .directory(let path), .sqlite(let path):
            let name = path.split(separator: "/").last.map(String.init) ?? "root"
            return name
        case .volume(let name):
            return name
        case .postgres(let url):
            var rest = url[...]
            if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
            if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
            guard let slash = rest.firstIndex(of: "/") else { return "postgres" }
            let db = rest[rest.index(after: slash)...]
            return db.isEmpty ? "postgres" : String(db)
        }
    }
}

extension [BackupSource] {
    /// Where each source goes inside the archive: `files/NAME`, `sqlite/NAME`, `postgres/NAME.dump`,
    /// `volumes/NAME`. Two sources with the same name get `-2`, `-3`… so nothing overwrites another.
    public func archivePaths() -> [String] {
        var used: Set<String> = []
        return map { source in
            let base: String
            switch source {
            case .directory: base = "files/" + safe(source.label)
            case .sqlite: base = "sqlite/" + safe(source.label)
            case .postgres: base = "postgres/" + safe(source.label) + ".dump"
            case .volume: base = "volumes/" + safe(source.label)
            }
            var candidate = base
            var n = 2
            while used.contains(candidate) {
                if source.kind == .postgres {
                    candidate = String(base.dropLast(".dump".count)) + "-\(n).dump"
                } else {
                    candidate = base + "-\(n)"
                }
                n += 1
            }
            used.insert(candidate)
            return candidate
        }
    }

    private func safe(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\\" ? "_" : $0 })
        return cleaned == "." || cleaned == ".." || cleaned.isEmpty ? "data" : cleaned
    }
}

extension String {
    var trimmingSpaces: String {
        var s = self[...]
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
