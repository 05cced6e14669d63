import Shell

/// Why a backup, verify, prune or restore stopped — one line: what, what was left as it was, what to do.
public enum BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    case sourceUnusable(source: String, why: String)
    case checksumMismatch(id: String, expected: String, actual: String, expectedSize: Int, actualSize: Int)
    case identityRequired(id: String, recipients: [String])
    case notFound(reference: String, store: String, newest: [String])
    case emptyStore(store: String)
    case targetNotEmpty(String)
    case stagedCheckFailed(source: String, why: String)
    case unsupported(String)
    case internalInconsistency(String)
    case restoreFailed(step: String, why: String, inPlace: String)
    case retentionRefused(String)

    public var description: String {
        switch self {
        case .sourceUnusable(let source, let why):
            return "cannot back up \(Redactor.redact(source)): \(why); no backup was written"
        case .checksumMismatch(let id, let expected, let actual, let expectedSize, let actualSize):
            let size = expectedSize == actualSize ? "" : " and \(actualSize) bytes instead of \(expectedSize)"
            return "backup \(id) is damaged: its SHA-256 is \(actual.prefix(12))… instead of \(expected.prefix(12))…\(size);"
                + " nothing was touched — restore an older backup (restore --list)"
        case .identityRequired(let id, let recipients):
            let keys = recipients.isEmpty ? "" : " (encrypted to \(recipients.joined(separator: ", ")))"
            return "backup \(id) is encrypted\(keys): give the age identity file with --identity FILE"
                + " or backup.identity in opskit.yml"
        case .notFound(let reference, let store, let newest):
            let hint = newest.isEmpty ? "the store has no backups" : "newest: " + newest.joined(separator: ", ")
            return "no backup `\(reference)` in \(store) (\(hint)); see --list"
        case .emptyStore(let store):
            return "\(store) holds no complete backup yet: run backup-db first"
        case .targetNotEmpty(let path):
            return "\(path) is not empty: restore --to needs a new or empty directory, so nothing there is overwritten"
        case .stagedCheckFailed(let source, let why):
            return "the restored copy of \(Redactor.redact(source)) failed its check (\(why)); live data was not touched"
        case .unsupported(let why):
            return why
        case .internalInconsistency(let why):
            return "internal error: \(why); nothing was committed"
        case .restoreFailed(let step, let why, let inPlace):
            return "restore failed while \(step): \(why); \(inPlace)"
        case .retentionRefused(let why):
            return why
        }
    }
}
