/// Everything that can go wrong reading keys or encrypting/decrypting age files. Descriptions are one line,
/// say what to do next, and never contain a secret key (not even a mistyped one).
public enum AgeError: Error, CustomStringConvertible, Equatable {
    /// A recipient that is not a valid `age1…` key; the text says which and why (it never echoes a secret key).
    case invalidRecipient(String)
    /// A line of an identity file (or a string given as an identity) that is not a valid `AGE-SECRET-KEY-1…`.
    case invalidIdentity(file: String?, line: Int, reason: String)
    case unreadableIdentityFile(path: String, reason: String)
    /// The identity file parsed but holds no key.
    case noIdentities(file: String)
    /// Encryption was asked for with an empty recipient list.
    case noRecipients
    /// No identity unwraps the file key. `recipients` are the public keys of the identities tried (safe to show),
    /// `files` where they were loaded from.
    case noMatchingIdentity(recipients: [String], files: [String])
    /// The file has no X25519 stanza, only these (unsupported) kinds of recipient, e.g. `scrypt`.
    case unsupportedRecipients([String])
    /// Does not start with `age-encryption.org/v1`.
    case notAgeFile
    case malformedHeader(String)
    case headerMACMismatch
    /// The file ends before its final chunk.
    case truncated
    /// Payload chunk `chunk` (0-based, 64 KiB of plaintext each) failed authentication.
    case authenticationFailed(chunk: Int)
    /// A STREAM rule is broken although every chunk authenticated (an empty final chunk after data).
    case malformedPayload(String)
    /// Bytes follow the final chunk.
    case trailingData

    public var description: String {
        switch self {
        case .invalidRecipient(let detail):
            return "invalid age recipient \(detail): give the age1… public key that `age-keygen -y KEYFILE` prints"
        case .invalidIdentity(let file?, let line, let reason):
            return "line \(line) of \(file) is not a valid age identity (\(reason)): the file must hold "
                + "AGE-SECRET-KEY-1… lines as written by age-keygen, blank lines and # comments"
        case .invalidIdentity(nil, _, let reason):
            return "invalid age identity (\(reason)): give an AGE-SECRET-KEY-1… key as written by age-keygen"
        case .unreadableIdentityFile(let path, let reason):
            return "cannot read the age identity file \(path): \(reason); check the path and that this user may read it"
        case .noIdentities(let file):
            return "\(file) holds no age identity (no AGE-SECRET-KEY-1… line): give the file that age-keygen wrote"
        case .noRecipients:
            return "no age recipient to encrypt to: give at least one age1… public key"
        case .noMatchingIdentity(let recipients, _) where recipients.isEmpty:
            return "no age identity was given to decrypt this backup: give the identity file (AGE-SECRET-KEY-1…) "
                + "whose public key was given to --encrypt-to when it was made"
        case .noMatchingIdentity(let recipients, let files):
            let count = recipients.count == 1 ? "the identity" : "none of the \(recipients.count) identities"
            let from = files.isEmpty ? "" : " in " + files.joined(separator: ", ")
            let label = recipients.count == 1 ? "public key" : "public keys"
            let keys = recipients.count <= 3 ? " (\(label) " + recipients.joined(separator: ", ") + ")" : ""
            let verb = recipients.count == 1 ? "cannot" : "can"
            return "\(count)\(from)\(keys) \(verb) decrypt this backup: use the identity whose public key "
                + "was given to --encrypt-to when it was made"
        case .unsupportedRecipients(let kinds):
            return "this file is encrypted only to recipients of type \(kinds.joined(separator: ", ")), which "
                + "opskit cannot decrypt: decrypt it with the age command (age -d) instead"
        case .notAgeFile:
            return "this is not an age-encrypted file (it does not start with age-encryption.org/v1): "
                + "check that this is the right file, and whether it was made without encryption"
        case .malformedHeader(let detail):
            return "the age header is malformed (\(detail)): the file is damaged or was not written by age or opskit"
        case .headerMACMismatch:
            return "the age header failed its integrity check (MAC mismatch): the file was modified or damaged; "
                + "use another copy of the backup"
        case .truncated:
            return "the encrypted file ends early (its final part is missing): it was cut short, e.g. by an "
                + "interrupted transfer or a full disk; use another copy of the backup"
        case .authenticationFailed(let chunk):
            return "the encrypted data from plaintext byte \(chunk << 16) (chunk \(chunk)) failed authentication: "
                + "the file was damaged, modified or cut short; use another copy of the backup"
        case .malformedPayload(let detail):
            return "the encrypted data is malformed (\(detail)): the file was not written by a correct age "
                + "implementation; use another copy of the backup"
        case .trailingData:
            return "the encrypted file has extra bytes after its end: it was appended to or damaged; "
                + "use another copy of the backup"
        }
    }
}
