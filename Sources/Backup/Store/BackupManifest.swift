import FoundationEssentials
import OpsCore

/// What a backup is: written last, after its object is complete and its size checked. A backup without a
/// manifest does not exist; nothing lists, restores or counts it.
///
/// Stored as pretty JSON with sorted keys (`encoded()`), so two manifests compare byte for byte. Dates are
/// kept to the whole second (`init` truncates them), so a manifest reads back equal to what was written.
public struct BackupManifest: Sendable, Equatable {
    /// One thing the backup holds.
    public struct Source: Sendable, Equatable {
        /// `dir`, `sqlite`, `postgres` or `volume`.
        public var kind: String
        /// Where it came from, with passwords redacted.
        public var location: String
        /// Where its files are inside the archive.
        public var archivePath: String

        public init(kind: String, location: String, archivePath: String) {
            self.kind = kind
            self.location = location
            self.archivePath = archivePath
        }
    }

    /// The manifest format this code writes; a manifest with a higher one is refused, not misread.
    public static let formatVersion = 1

    public var id: BackupID
    public var createdAt: Date
    public var sources: [Source]
    /// The archive's object name, relative to the store (`backup-20260120-020000.tar.zst.age`).
    public var object: String
    public var sizeBytes: Int
    /// Lowercase hex SHA-256 of the object's bytes.
    public var sha256: String
    /// `zstd`, `gzip`, `none`.
    public var compression: String
    public var encrypted: Bool
    /// The age recipients (public keys) it is encrypted to.
    public var recipients: [String]
    public var toolVersion: String
    /// Kept by retention whatever the policy says.
    public var permanent: Bool
    /// When a restore test last read it back and found the checksum right.
    public var verifiedAt: Date?

    public init(id: BackupID, createdAt: Date, sources: [Source], object: String, sizeBytes: Int, sha256: String,
                compression: String, encrypted: Bool, recipients: [String], toolVersion: String,
                permanent: Bool = false, verifiedAt: Date? = nil) {
        self.id = id
        self.createdAt = Self.wholeSecond(createdAt)
        self.sources = sources
        self.object = object
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.compression = compression
        self.encrypted = encrypted
        self.recipients = recipients
        self.toolVersion = toolVersion
        self.permanent = permanent
        self.verifiedAt = verifiedAt.map(Self.wholeSecond)
    }

    /// The manifest's file (or key) name next to the object: `<id>.manifest.json`.
    public var fileName: String { Self.fileName(for: id) }

    public static func fileName(for id: BackupID) -> String { "\(id).manifest.json" }

    static let fileSuffix = ".manifest.json"

    /// Pretty JSON with keys in a stable (sorted) order, ending in a newline.
    public func encoded() -> [UInt8] {
        let document = Document(
            format: Self.formatVersion, id: id.description, createdAt: Self.iso8601(createdAt),
            sources: sources.map { Document.Source(kind: $0.kind, location: $0.location, archivePath: $0.archivePath) },
            object: object, sizeBytes: sizeBytes, sha256: sha256, compression: compression, encrypted: encrypted,
            recipients: recipients, toolVersion: toolVersion, permanent: permanent, verifiedAt: verifiedAt.map(Self.iso8601))
        // Every field is a string, number, bool, date or array of those: encoding cannot fail.
        let data = (try? JSONCoding.encoder().encode(document)) ?? Data()
        return Array(data) + [0x0A]
    }

    /// Reads a manifest; `what` names it in errors (a path or an `s3://` URL).
    public init(decoding bytes: [UInt8], from what: String) throws {
        let document: Document
        do {
            document = try JSONCoding.decoder().decode(Document.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw BackupStoreError.manifestUnreadable(what, reason: Self.reason(error))
        }
        func bad(_ reason: String) -> BackupStoreError { .manifestUnreadable(what, reason: reason) }
        guard document.format <= Self.formatVersion else {
            throw bad("format \(document.format) is newer than this opskit reads (\(Self.formatVersion)); upgrade opskit")
        }
        guard let id = BackupID(parsing: document.id) else { throw bad("'id' is not a backup id: '\(document.id)'") }
        guard BackupObjectName.isValid(document.object) else { throw bad("'object' is not an object name: '\(document.object)'") }
        guard document.sizeBytes >= 0 else { throw bad("'sizeBytes' is negative") }
        guard document.sha256.utf8.count == 64, document.sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw bad("'sha256' is not 64 lowercase hex digits")
        }
        // Dates are read here, not by the decoder: its date errors do not say which field was wrong.
        func date(_ text: String, _ field: String) throws -> Date {
            guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
                throw bad("'\(field)' is not an ISO 8601 date: '\(text)'")
            }
            return date
        }
        self.init(id: id, createdAt: try date(document.createdAt, "createdAt"),
                  sources: document.sources.map { Source(kind: $0.kind, location: $0.location, archivePath: $0.archivePath) },
                  object: document.object, sizeBytes: document.sizeBytes, sha256: document.sha256,
                  compression: document.compression, encrypted: document.encrypted, recipients: document.recipients,
                  toolVersion: document.toolVersion, permanent: document.permanent,
                  verifiedAt: try document.verifiedAt.map { try date($0, "verifiedAt") })
    }

    /// `2026-01-20T02:00:00Z`.
    private static func iso8601(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    private static func wholeSecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    private static func reason(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            var out = ""
            for key in context.codingPath + (key.map { [$0] } ?? []) {
                if let index = key.intValue { out += "[\(index)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
            }
            return out
        }
        switch error {
        case .keyNotFound(let key, let context): return "field '\(path(context, key))' is missing"
        case .valueNotFound(_, let context): return "field '\(path(context))' is null"
        case .typeMismatch(let type, let context): return "field '\(path(context))' is not \(typeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "field '\(path(context))' is malformed"
        @unknown default: return "not a manifest"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        default: "of the expected type"
        }
    }

    /// The JSON shape; field names are the file format.
    private struct Document: Codable {
        struct Source: Codable {
            var kind: String
            var location: String
            var archivePath: String
        }
        var format: Int
        var id: String
        var createdAt: String
        var sources: [Source]
        var object: String
        var sizeBytes: Int
        var sha256: String
        var compression: String
        var encrypted: Bool
        var recipients: [String]
        var toolVersion: String
        var permanent: Bool
        var verifiedAt: String?
    }
}

/// The names a store gives objects: `<backup id>.<extensions>`, one path component, not hidden. Only
/// names of this shape are ever removed as leftovers, so a store never deletes a stranger's file.
enum BackupObjectName {
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix("."), !name.contains("/"),
              !name.hasSuffix(BackupManifest.fileSuffix), !name.utf8.contains(0) else { return false }
        return backupID(of: name) != nil
    }

    /// The id a name starts with: `backup-20260120-020000.tar.zst.age` → `backup-20260120-020000`.
    static func backupID(of name: String) -> BackupID? {
        guard let dot = name.firstIndex(of: ".") else { return nil }
        return BackupID(parsing: String(name[..<dot]))
    }

    /// The id of a manifest name `<id>.manifest.json`.
    static func manifestID(of name: String) -> BackupID? {
        guard name.hasSuffix(BackupManifest.fileSuffix), !name.hasPrefix(".") else { return nil }
        return BackupID(parsing: String(name.dropLast(BackupManifest.fileSuffix.count)))
    }
}
