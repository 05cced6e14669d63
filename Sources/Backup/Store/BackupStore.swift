import OpsCore

/// Where backups live: a local directory or an S3 bucket prefix.
///
/// A backup is one object (the archive) plus a manifest written last, after the object is complete and its
/// size checked (`commit`). Without its manifest a backup does not exist: `list` skips the object and
/// `removeLeftovers` deletes it. Every call blocks the calling thread; the backup pipeline runs on threads of
/// its own, never on Swift concurrency's pool. Callers hold the backup lock, so one process at a time
/// changes a store.
public protocol BackupStore: AnyObject, Sendable {
    /// `/opt/app/backups` or `s3://bucket/prefix`; never a secret.
    var description: String { get }
    /// The complete backups (those with a manifest), oldest first. An unreadable manifest throws: deciding
    /// retention on a partial view could delete the wrong backups.
    func list() throws -> [BackupManifest]
    /// Starts writing the object `object` (`<backup id>.<extensions>`); nothing is visible until `finish`.
    func beginUpload(object: String) throws -> BackupUpload
    /// Writes the manifest (atomically). The object must exist with `manifest.sizeBytes` bytes and the id
    /// must have no manifest yet, else this throws and writes nothing.
    func commit(_ manifest: BackupManifest) throws
    /// Replaces the manifest of an existing backup (e.g. to set `verifiedAt`).
    func updateManifest(_ manifest: BackupManifest) throws
    /// Streams the object's bytes, with bounded memory.
    func open(_ manifest: BackupManifest) throws -> ByteSource
    /// Removes the manifest first (the backup disappears at once), then the object.
    func delete(_ manifest: BackupManifest) throws
    /// Removes what failed or interrupted runs left: objects without a manifest, partial files, unfinished
    /// multipart uploads. Only names this store writes (starting with a backup id) are touched. Returns
    /// what was removed. Call it only while holding the backup lock: an upload in progress counts as a leftover.
    func removeLeftovers() throws -> [String]
    /// Bytes an upload holds in memory at a time (an S3 part), which the writer leaves out of its own budget.
    var uploadMemory: Int { get }
}

extension BackupStore {
    public var uploadMemory: Int { 0 }
}

/// One object being written. `write` as often as needed, then `finish` to make the object complete; or
/// `abort` to remove everything written so far. After a failed `write` or `finish` the upload has already
/// cleaned up after itself; `abort` is still safe to call.
public protocol BackupUpload: ByteSink {
    /// Removes everything this upload wrote, the finished object included. Never throws.
    func abort()
    /// Bytes accepted by `write` so far.
    var bytesWritten: Int { get }
}

/// Why a store operation failed, in one line: what went wrong, what was kept, what to do.
public enum BackupStoreError: Error, Sendable, CustomStringConvertible {
    /// The disk filled up while writing into `directory`; the partial file was removed.
    case diskFull(directory: String, freeBytes: Int)
    /// The store directory cannot be created or written.
    case notWritable(directory: String, reason: String)
    /// Writing `path` failed for another reason; the partial file was removed.
    case writeFailed(path: String, reason: String)
    /// Reading or removing `path` failed.
    case ioFailed(path: String, action: String, reason: String)
    /// `commit` found the object missing (`actual` nil) or of another size; no manifest was written.
    case incomplete(object: String, expected: Int, actual: Int?)
    /// Writing a manifest failed; `kept` says what state the store is in.
    case manifestWriteFailed(String, reason: String, kept: String)
    /// A committed backup's object is missing or differs from its manifest.
    case damaged(object: String, reason: String)
    /// A manifest that is not JSON, lacks a field or has a wrong value.
    case manifestUnreadable(String, reason: String)
    /// No backup with this id in the store.
    case notFound(BackupID, store: String)
    /// The object or manifest exists already.
    case alreadyExists(String, store: String)
    /// Not a name this store accepts for an object.
    case invalidObjectName(String)
    /// The upload was finished, aborted or failed before; start a new one.
    case uploadClosed(String)
    /// More bytes than `S3Client.maximumPartCount` parts can hold.
    case tooLarge(object: String, limit: Int)
    /// The object store refused or failed; `action` says what was being done and what was kept.
    case s3(StoreError, action: String)
    /// The object store could not be reached.
    case network(HTTPError, action: String)
    /// Not an `s3://bucket/prefix` location.
    case invalidLocation(String, reason: String)
    /// No usable object store credentials in the environment; names the variables, never their values.
    case missingCredentials(String)

    public var description: String {
        switch self {
        case .diskFull(let directory, let free):
            "disk full in \(directory) (\(Self.size(free)) free): nothing from this run was kept: free space or prune old backups"
        case .notWritable(let directory, let reason):
            "cannot store backups in \(directory): \(reason): create it or fix its permissions"
        case .writeFailed(let path, let reason):
            "writing \(path) failed: \(reason): nothing from this run was kept; check the disk and run the backup again"
        case .ioFailed(let path, let action, let reason):
            "\(action) \(path) failed: \(reason)"
        case .incomplete(let object, let expected, nil):
            "backup object \(object) is missing (expected \(expected) bytes): no manifest was written, so this backup does not exist; run it again"
        case .incomplete(let object, let expected, let actual?):
            "backup object \(object) has \(actual) bytes, expected \(expected): no manifest was written, so this backup does not exist; run it again"
        case .manifestWriteFailed(let path, let reason, let kept):
            "writing manifest \(path) failed: \(reason): \(kept)"
        case .damaged(let object, let reason):
            "backup object \(object) is damaged: \(reason): restore from another backup"
        case .manifestUnreadable(let what, let reason):
            "manifest \(what) is unreadable: \(reason): nothing was changed; repair or move the file away"
        case .notFound(let id, let store):
            "no backup \(id) in \(store): list the backups to see which exist"
        case .alreadyExists(let name, let store):
            "\(name) already exists in \(store): nothing was overwritten; use another backup id"
        case .invalidObjectName(let name):
            "'\(name)' is not a backup object name: it must start with a backup id (backup-YYYYMMDD-HHMMSS.tar.zst) and hold no '/'"
        case .uploadClosed(let object):
            "the upload of \(object) was already finished or aborted: start a new upload"
        case .tooLarge(let object, let limit):
            "\(object) is larger than \(Self.size(limit)), the most \(S3Client.maximumPartCount) parts hold: nothing from this run was kept; raise the part size"
        case .s3(let error, let action):
            "\(action): \(error)"
        case .network(let error, let action):
            "\(action): \(error)"
        case .invalidLocation(let text, let reason):
            "invalid S3 location '\(text)': \(reason) (expected s3://bucket or s3://bucket/prefix)"
        case .missingCredentials(let what):
            what
        }
    }

    /// `512 B`, `3.2 MiB`, `1.5 GiB`.
    static func size(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
