import Crypto
import FoundationEssentials

/// One recipient stanza: `-> type arg…` and a base64 body.
struct AgeStanza: Equatable {
    /// The words after `->`; the first names the recipient type (`X25519`).
    var arguments: [String]
    var body: [UInt8]

    var type: String { arguments[0] }
}

/// The age v1 header: the version line, recipient stanzas, and the MAC line.
struct AgeHeader {
    static let versionLine = Array((Age.magic + "\n").utf8)
    /// The MAC line: `--- ` + 43 base64 characters + LF.
    static let macLineLength = 48
    /// Headers larger than this are refused (each X25519 stanza takes ~110 bytes).
    static let sizeLimit = 1 << 20

    var stanzas: [AgeStanza]
    var mac: [UInt8]
    /// How many leading bytes of the encoded header the MAC covers (up to and including `---`).
    var macInputLength: Int

    /// Encodes a header for `stanzas`, authenticated with `fileKey`.
    static func encode(_ stanzas: [AgeStanza], fileKey: SymmetricKey) -> [UInt8] {
        var out = versionLine
        for stanza in stanzas {
            out += Array(("-> " + stanza.arguments.joined(separator: " ") + "\n").utf8)
            let body = Base64.encode(stanza.body)
            var offset = 0
            // Full 64-column lines, then a shorter final line, which is empty when the body fills its lines.
            while true {
                let end = min(offset + 64, body.count)
                out += body[offset..<end]
                out.append(UInt8(ascii: "\n"))
                if end - offset < 64 { break }
                offset = end
            }
        }
        out += Array("---".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: out, using: macKey(fileKey))
        out += Array(" ".utf8) + Base64.encode(Array(mac)) + [UInt8(ascii: "\n")]
        return out
    }

    static func macKey(_ fileKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
    }

    /// Whether `bytes`' MAC (over its first `macInputLength` bytes) is right for `fileKey`; constant time.
    func isAuthentic(_ bytes: [UInt8], fileKey: SymmetricKey) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: bytes[..<macInputLength], using: Self.macKey(fileKey))
    }

    /// Where the header in `bytes` ends (the index after the MAC line's LF), or nil when more bytes are
    /// needed. `scanned` carries the search position between calls so a slowly arriving header is scanned once.
    static func end(in bytes: [UInt8], scanned: inout Int) -> Int? {
        // The MAC line is the first line starting with "---": body lines are base64 (no '-'), and argument
        // lines start with "->". A malformed header is caught by `parse`.
        var index = max(scanned, versionLine.count - 1)
        while index + 3 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") && bytes[index + 1] == UInt8(ascii: "-")
                && bytes[index + 2] == UInt8(ascii: "-") && bytes[index + 3] == UInt8(ascii: "-")
            {
                let end = index + 1 + macLineLength
                scanned = index
                return end <= bytes.count ? end : nil
            }
            index += 1
        }
        scanned = index
        return nil
    }

    /// Parses a whole header (`bytes` ends with the MAC line's LF), strictly: LF line ends, canonical base64,
    /// 64-column body lines ending with a shorter one, arguments of visible ASCII separated by single spaces.
    static func parse(_ bytes: [UInt8]) throws(AgeError) -> AgeHeader {
        var position = 0
        func nextLine() -> ArraySlice<UInt8>? {
            guard position < bytes.count, let newline = bytes[position...].firstIndex(of: UInt8(ascii: "\n"))
            else { return nil }
            defer { position = newline + 1 }
            return bytes[position..<newline]
        }
        guard bytes.starts(with: versionLine) else { throw .notAgeFile }
        position = versionLine.count
        var stanzas: [AgeStanza] = []
        while true {
            let lineStart = position
            guard let line = nextLine() else { throw .malformedHeader("it ends without its --- line") }
            if line.starts(with: "---".utf8) {
                guard line.count == macLineLength - 1, line[line.startIndex + 3] == UInt8(ascii: " "),
                    let mac = Base64.decode(line.dropFirst(4)), mac.count == 32
                else { throw .malformedHeader("the --- line does not hold a 32-byte base64 MAC") }
                guard !stanzas.isEmpty else { throw .malformedHeader("it has no recipient stanza") }
                guard position == bytes.count else { throw .malformedHeader("bytes after the --- line") }
                return AgeHeader(stanzas: stanzas, mac: mac, macInputLength: lineStart + 3)
            }
            guard line.starts(with: "-> ".utf8) else {
                throw .malformedHeader("a line starts with neither -> nor ---")
            }
            var arguments: [String] = []
            for word in line.dropFirst(3).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
                guard !word.isEmpty, word.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
                    throw .malformedHeader("a stanza argument is empty or has a character other than visible ASCII")
                }
                arguments.append(String(decoding: word, as: UTF8.self))
            }
            var encoded: [UInt8] = []
            while true {
                guard let bodyLine = nextLine() else { throw .malformedHeader("a stanza body does not end") }
                guard bodyLine.count <= 64, bodyLine.allSatisfy(Base64.isAlphabet) else {
                    throw .malformedHeader("a stanza body line is longer than 64 columns or not base64")
                }
                encoded += bodyLine
                if bodyLine.count < 64 { break }
                guard encoded.count <= sizeLimit else { throw .malformedHeader("a stanza body is too large") }
            }
            guard let body = Base64.decode(encoded) else {
                throw .malformedHeader("a stanza body is not canonical base64")
            }
            stanzas.append(AgeStanza(arguments: arguments, body: body))
        }
    }
}

/// The X25519 recipient type: the file key wrapped with a key agreed between an ephemeral key and the recipient.
enum X25519Stanza {
    static let type = "X25519"
    static let info = Array("age-encryption.org/v1/X25519".utf8)
    /// 12 zero bytes; `Nonce(data:)` throws only for a wrong length, so this never fails in practice.
    static func zeroNonce() throws -> ChaChaPoly.Nonce { try ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)) }

    static func wrap(_ fileKey: SymmetricKey, to recipient: AgeRecipient) throws -> AgeStanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        guard let publicKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.key),
            let wrapKey = try wrapKey(ephemeral, publicKey, share: share, recipient: recipient.key)
        else {
            throw AgeError.invalidRecipient(
                "\(recipient) (it is a low-order point that no secret key belongs to)")
        }
        let sealed = try ChaChaPoly.seal(fileKey.withUnsafeBytes { Array($0) }, using: wrapKey, nonce: zeroNonce())
        return AgeStanza(arguments: [type, Base64.encodeString(share)], body: Array(sealed.ciphertext + sealed.tag))
    }

    /// Checks an X25519 stanza's shape, whoever it is for: a malformed one fails the whole header.
    static func validate(_ stanza: AgeStanza) throws(AgeError) -> [UInt8] {
        guard stanza.arguments.count == 2 else {
            throw .malformedHeader("an X25519 stanza must have exactly one argument")
        }
        guard let share = Base64.decode(stanza.arguments[1].utf8), share.count == 32 else {
            throw .malformedHeader("an X25519 stanza's share is not 32 bytes of canonical base64")
        }
        guard stanza.body.count == 32 else {
            throw .malformedHeader("an X25519 stanza's body is not 32 bytes")
        }
        return share
    }

    /// The file key, or nil when the stanza is for someone else.
    static func unwrap(_ stanza: AgeStanza, share: [UInt8], with identity: AgeIdentity) throws(AgeError)
        -> SymmetricKey?
    {
        guard let sharePoint = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
            let key = try? wrapKey(identity.secret, sharePoint, share: share, recipient: identity.recipient.key)
        else {
            throw .malformedHeader("an X25519 stanza's share is a low-order point")
        }
        let body = stanza.body
        guard let box = try? ChaChaPoly.SealedBox(nonce: zeroNonce(), ciphertext: body[..<16], tag: body[16...]),
            let fileKey = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return SymmetricKey(data: fileKey)
    }

    /// HKDF(X25519(secret, point), salt: share || recipient); nil when the shared secret is all zeros
    /// (a low-order point, which the spec requires rejecting).
    private static func wrapKey(
        _ secret: Curve25519.KeyAgreement.PrivateKey, _ point: Curve25519.KeyAgreement.PublicKey,
        share: [UInt8], recipient: [UInt8]
    ) throws -> SymmetricKey? {
        let shared = try secret.sharedSecretFromKeyAgreement(with: point)
        let isZero = shared.withUnsafeBytes { bytes in bytes.reduce(0 as UInt8) { $0 | $1 } == 0 }
        guard !isZero else { return nil }
        return shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + recipient, sharedInfo: info, outputByteCount: 32)
    }
}
