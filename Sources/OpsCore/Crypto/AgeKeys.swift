#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// An age X25519 recipient: the public key a backup is encrypted to, written `age1…`.
public struct AgeRecipient: Sendable, Hashable, CustomStringConvertible {
    /// The 32-byte X25519 public key.
    let key: [UInt8]

    init(key: [UInt8]) {
        precondition(key.count == 32)
        self.key = key
    }

    /// Parses an `age1…` string (surrounding whitespace is ignored).
    public init(parsing text: String) throws {
        let trimmed = trimWhitespace(text)
        let shown = Self.quoted(trimmed)
        let upper = trimmed.uppercased()
        if upper.hasPrefix("AGE-SECRET-KEY") {
            throw AgeError.invalidRecipient(
                "(that is a secret key, AGE-SECRET-KEY-1…, which must stay private, not a public key)")
        }
        if trimmed.hasPrefix("ssh-") || trimmed.hasPrefix("ecdsa-") {
            throw AgeError.invalidRecipient("\(shown) (SSH public keys are not supported)")
        }
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(trimmed)
        } catch {
            throw AgeError.invalidRecipient("\(shown) (\(error.reason))")
        }
        guard decoded.hrp == "age" else {
            let reason = decoded.hrp == "AGE"
                ? "it must be lower case"
                : decoded.hrp.hasPrefix("age1")
                    ? "plugin and post-quantum recipients (\(decoded.hrp)1…) are not supported, only X25519 keys"
                    : "it must start with age1"
            throw AgeError.invalidRecipient("\(shown) (\(reason))")
        }
        guard decoded.data.count == 32 else {
            throw AgeError.invalidRecipient(
                "\(shown) (it holds \(decoded.data.count) bytes, an X25519 key has 32)")
        }
        self.key = decoded.data
    }

    /// The `age1…` encoding.
    public var description: String { Bech32.encode(hrp: "age", data: key) }

    /// The input for an error message: quoted, cut to 80 characters, control characters replaced.
    static func quoted(_ text: String) -> String {
        let printable = String(text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
        return "\"" + printable + (text.unicodeScalars.count > 80 ? "…" : "") + "\""
    }
}

/// An age X25519 identity: the secret key that decrypts backups, written `AGE-SECRET-KEY-1…`.
///
/// Its `description` shows only the public key, so printing one by mistake reveals nothing.
public struct AgeIdentity: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let secret: Curve25519.KeyAgreement.PrivateKey
    public let recipient: AgeRecipient
    /// Where it was read from (`path`), for error messages; nil for generated or parsed-from-string identities.
    let origin: String?

    init(secret: Curve25519.KeyAgreement.PrivateKey, origin: String?) {
        self.secret = secret
        self.recipient = AgeRecipient(key: Array(secret.publicKey.rawRepresentation))
        self.origin = origin
    }

    /// Parses an `AGE-SECRET-KEY-1…` string (surrounding whitespace is ignored).
    public init(parsing text: String) throws {
        self = try Self.parse(trimWhitespace(text), file: nil, line: 1)
    }

    /// A new random identity.
    public static func generate() -> AgeIdentity {
        AgeIdentity(secret: Curve25519.KeyAgreement.PrivateKey(), origin: nil)
    }

    /// The `AGE-SECRET-KEY-1…` encoding: the secret itself. Write it only to a file only its owner can read.
    public var encoded: String {
        Bech32.encode(hrp: "AGE-SECRET-KEY-", data: Array(secret.rawRepresentation))
    }

    public var description: String { "age identity for \(recipient)" }
    public var debugDescription: String { "AgeIdentity(\(recipient))" }
    public var customMirror: Mirror { Mirror(self, children: ["recipient": recipient]) }

    static func parse(_ line: String, file: String?, line number: Int) throws(AgeError) -> AgeIdentity {
        func fail(_ reason: String) -> AgeError { .invalidIdentity(file: file, line: number, reason: reason) }
        if line.hasPrefix("age1") { throw fail("this is a public key, age1…, not a secret key") }
        if line.hasPrefix("AGE-PLUGIN-") { throw fail("age plugin identities are not supported, only X25519 keys") }
        if line.hasPrefix("-----BEGIN") { throw fail("SSH and PEM keys are not supported, only age-keygen keys") }
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(line)
        } catch {
            throw fail(error.reason)
        }
        guard decoded.hrp == "AGE-SECRET-KEY-" else {
            throw fail(decoded.hrp == "age-secret-key-"
                ? "it must be upper case" : "it does not start with AGE-SECRET-KEY-1")
        }
        guard decoded.data.count == 32,
            let secret = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
        else {
            throw fail("it holds \(decoded.data.count) bytes, an X25519 key has 32")
        }
        return AgeIdentity(secret: secret, origin: file)
    }
}

/// Identity files as `age-keygen` writes them: one `AGE-SECRET-KEY-1…` per line; blank lines and lines
/// starting with `#` are ignored.
public enum AgeIdentityFile {
    /// Larger files are certainly not identity files (age-keygen writes ~190 bytes per key).
    static let sizeLimit = 1 << 20

    public static func load(path: String) throws -> [AgeIdentity] {
        let bytes = try readSmallFile(path)
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses the text of an identity file; `path` is only used in error messages and `noMatchingIdentity`.
    public static func parse(_ text: String, path: String) throws -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        var number = 0
        // Split on LF bytes: as Characters, "\r\n" is one that does not equal "\n".
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let line = trimWhitespace(String(decoding: raw, as: UTF8.self))
            if line.isEmpty || line.hasPrefix("#") { continue }
            identities.append(try AgeIdentity.parse(line, file: path, line: number))
        }
        guard !identities.isEmpty else { throw AgeError.noIdentities(file: path) }
        return identities
    }

    private static func readSmallFile(_ path: String) throws(AgeError) -> [UInt8] {
        func fail(_ code: Int32) -> AgeError {
            .unreadableIdentityFile(path: path, reason: String(cString: strerror(code)))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail(errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[..<count])
            guard bytes.count <= sizeLimit else {
                throw .unreadableIdentityFile(path: path, reason: "it is larger than 1 MiB, so not an identity file")
            }
        }
    }
}

/// Drops spaces, tabs, CR and LF at both ends.
func trimWhitespace(_ text: String) -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
    guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(text[first...last])
}
