import Crypto
import FoundationEssentials

/// The age v1 file format (https://age-encryption.org/v1) with X25519 recipients: a text header that wraps a
/// random 16-byte file key for each recipient, then the payload in 64 KiB ChaCha20-Poly1305 chunks (STREAM).
/// ``AgeEncryptingSink`` writes it, ``AgeDecryptingSource`` reads it; both stream with bounded memory.
public enum Age {
    /// The first line of every age file (without its LF).
    public static let magic = "age-encryption.org/v1"

    /// Whether `prefix` (the first bytes of a file, at least 22 to be sure) starts like a binary age file.
    /// ASCII-armored files (`-----BEGIN AGE ENCRYPTED FILE-----`) are not recognised: opskit does not read them.
    public static func looksEncrypted(_ prefix: [UInt8]) -> Bool {
        prefix.starts(with: AgeHeader.versionLine)
    }

    static let chunkSize = 64 << 10
    static let tagSize = 16
    static let sealedChunkSize = chunkSize + tagSize
    static let nonceSize = 16

    static func randomKey(_ size: SymmetricKeySize) -> SymmetricKey { SymmetricKey(size: size) }

    static func payloadKey(fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    /// The STREAM nonce: the chunk counter as 11 big-endian bytes, then 1 on the final chunk, else 0.
    static func chunkNonce(_ counter: UInt64, last: Bool) throws -> ChaChaPoly.Nonce {
        try withUnsafeTemporaryAllocation(byteCount: 12, alignment: 1) { bytes in
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            for index in 0..<8 { bytes[3 + index] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * index)) }
            bytes[11] = last ? 1 : 0
            return try ChaChaPoly.Nonce(data: UnsafeRawBufferPointer(bytes))
        }
    }
}

/// Encrypts everything written to it to `recipients`, writing the age file to `next`; `finish()` writes the
/// final chunk and finishes `next`.
///
/// The header and payload nonce are written to `next` by `init`. Plaintext is buffered into whole 64 KiB
/// chunks (a full chunk waits until more data or `finish` says whether it is the last), so `next` sees one
/// `write` of 64 KiB + 16 per chunk. Memory: one chunk buffer, plus the sealed chunk while it is written.
public final class AgeEncryptingSink: ByteSink {
    private let next: ByteSink
    private let key: SymmetricKey
    private var counter: UInt64 = 0
    private let plain: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var finished = false

    public init(recipients: [AgeRecipient], next: ByteSink) throws {
        guard !recipients.isEmpty else { throw AgeError.noRecipients }
        let fileKey = Age.randomKey(.bits128)
        var stanzas: [AgeStanza] = []
        for recipient in recipients { stanzas.append(try X25519Stanza.wrap(fileKey, to: recipient)) }
        let nonce = Age.randomKey(.bits128).withUnsafeBytes { Array($0) }
        self.key = Age.payloadKey(fileKey: fileKey, nonce: nonce)
        self.next = next
        plain = .allocate(byteCount: Age.chunkSize, alignment: 16)
        try next.write(AgeHeader.encode(stanzas, fileKey: fileKey) + nonce)
    }

    deinit {
        plain.deallocate()
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "AgeEncryptingSink.write after finish")
        var input = chunk
        while !input.isEmpty {
            if filled == Age.chunkSize {
                // More data follows, so the buffered chunk is not the last.
                try seal(UnsafeRawBufferPointer(plain), last: false)
                filled = 0
            }
            if filled == 0 && input.count > Age.chunkSize {
                // A whole chunk with more after it: seal it in place, without copying it into `plain`.
                try seal(UnsafeRawBufferPointer(rebasing: input[..<Age.chunkSize]), last: false)
                input = UnsafeRawBufferPointer(rebasing: input[Age.chunkSize...])
                continue
            }
            let count = min(Age.chunkSize - filled, input.count)
            UnsafeMutableRawBufferPointer(rebasing: plain[filled..<filled + count])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[..<count]))
            filled += count
            input = UnsafeRawBufferPointer(rebasing: input[count...])
        }
    }

    /// Seals what is buffered as the final chunk (empty only if nothing was written) and finishes `next`.
    public func finish() throws {
        precondition(!finished, "AgeEncryptingSink.finish called twice")
        finished = true
        try seal(UnsafeRawBufferPointer(rebasing: plain[..<filled]), last: true)
        filled = 0
        try next.finish()
    }

    private func seal(_ chunk: UnsafeRawBufferPointer, last: Bool) throws {
        let box = try ChaChaPoly.seal(chunk, using: key, nonce: try Age.chunkNonce(counter, last: last))
        counter += 1
        // `combined` is nonce || ciphertext || tag (documented layout): written without the nonce, in one
        // piece and without another copy (`ciphertext + tag` would concatenate into a new buffer).
        try box.combined.withUnsafeBytes { combined in
            precondition(combined.count == 12 + chunk.count + Age.tagSize)
            try next.write(UnsafeRawBufferPointer(rebasing: combined[12...]))
        }
    }
}

/// Reads an age file from `source` and serves the plaintext.
///
/// `init` reads the header and unwraps the file key, so a wrong identity (``AgeError/noMatchingIdentity``) or a
/// damaged header fails before any plaintext is produced. `read` then authenticates every chunk before
/// handing out a byte of it, and throws ``AgeError`` on a truncated, reordered, tampered or over-long file;
/// plaintext already served is authentic, but a restore must still treat the whole stream as failed.
/// Errors of `source` itself pass through unchanged. Memory: about two chunks.
public final class AgeDecryptingSource: ByteSource {
    private let source: ByteSource
    private let key: SymmetricKey
    /// Room for one sealed chunk plus one byte of look-ahead, which tells a full chunk with more after it
    /// (not the last) from a full chunk at the end of the file (the last).
    private let sealed: UnsafeMutableRawBufferPointer
    private var sealedCount = 0
    /// A decrypted chunk that did not fit the caller's buffer, served from `pendingOffset` on.
    private var pending = Data()
    private var pendingOffset = 0
    private var counter: UInt64 = 0
    private var sawFinal = false
    /// Once the stream proved bad, every later read fails the same way.
    private var failure: AgeError?

    public init(source: ByteSource, identities: [AgeIdentity]) throws {
        self.source = source
        var buffered: [UInt8] = []
        var scanned = 0
        var headerEnd: Int?
        var eof = false
        while headerEnd == nil {
            if buffered.count >= AgeHeader.versionLine.count && !buffered.starts(with: AgeHeader.versionLine) {
                throw Self.versionError(buffered)
            }
            headerEnd = AgeHeader.end(in: buffered, scanned: &scanned)
            if headerEnd != nil { break }
            if eof {
                if buffered.isEmpty { throw AgeError.truncated }
                if buffered.count < AgeHeader.versionLine.count && !AgeHeader.versionLine.starts(with: buffered) {
                    throw Self.versionError(buffered)
                }
                throw AgeError.truncated
            }
            guard buffered.count <= AgeHeader.sizeLimit else {
                throw AgeError.malformedHeader("no --- line in the first MiB")
            }
            let got = try Self.readSome(source, into: &buffered, count: 4096)
            eof = got == 0
        }
        let end = headerEnd!
        let headerBytes = Array(buffered[..<end])
        let header = try AgeHeader.parse(headerBytes)
        let fileKey = try Self.unwrap(header, identities)
        guard header.isAuthentic(headerBytes, fileKey: fileKey) else { throw AgeError.headerMACMismatch }

        var rest = Array(buffered[end...])
        while rest.count < Age.nonceSize {
            guard try Self.readSome(source, into: &rest, count: Age.nonceSize - rest.count) > 0 else {
                throw AgeError.truncated
            }
        }
        key = Age.payloadKey(fileKey: fileKey, nonce: Array(rest[..<Age.nonceSize]))
        sealed = .allocate(byteCount: Age.sealedChunkSize + 1, alignment: 16)
        let leftover = rest[Age.nonceSize...]
        // The header was read 4 KiB at a time, so what came after it fits the chunk buffer.
        leftover.withUnsafeBytes { sealed.copyMemory(from: $0) }
        sealedCount = leftover.count
    }

    deinit {
        sealed.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        guard !buffer.isEmpty else { return 0 }
        while pendingOffset == pending.count {
            if sawFinal { return 0 }
            let chunk: Data
            do {
                chunk = try nextChunk()
            } catch let error as AgeError {
                failure = error
                throw error
            }
            if chunk.count <= buffer.count {
                // The common case with big reads: straight into the caller's buffer.
                chunk.withUnsafeBytes { buffer.copyMemory(from: $0) }
                if chunk.isEmpty { continue }
                return chunk.count
            }
            pending = chunk
            pendingOffset = 0
        }
        let count = min(buffer.count, pending.count - pendingOffset)
        pending.withUnsafeBytes { bytes in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[pendingOffset..<pendingOffset + count]))
        }
        pendingOffset += count
        return count
    }

    /// Reads, authenticates and decrypts the next chunk.
    private func nextChunk() throws -> Data {
        let want = Age.sealedChunkSize + 1
        sealedCount += try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: sealed[sealedCount..<want]))
        let index = Int(counter)
        if sealedCount == want {
            // A full chunk and at least one more byte: this cannot be the last chunk.
            let chunk = UnsafeRawBufferPointer(rebasing: sealed[..<Age.sealedChunkSize])
            guard let plaintext = open(chunk, last: false) else {
                throw open(chunk, last: true) != nil ? AgeError.trailingData : AgeError.authenticationFailed(chunk: index)
            }
            sealed[0] = sealed[Age.sealedChunkSize]
            sealedCount = 1
            counter += 1
            return plaintext
        }
        // The end of the file: what is left must be the final chunk.
        guard sealedCount >= Age.tagSize else { throw AgeError.truncated }
        let chunk = UnsafeRawBufferPointer(rebasing: sealed[..<sealedCount])
        guard let plaintext = open(chunk, last: true) else {
            // A full chunk that authenticates as a middle one: the chunks after it are missing.
            if sealedCount == Age.sealedChunkSize, open(chunk, last: false) != nil { throw AgeError.truncated }
            throw AgeError.authenticationFailed(chunk: index)
        }
        if plaintext.isEmpty && counter > 0 {
            throw AgeError.malformedPayload("an empty final chunk after data")
        }
        sealedCount = 0
        sawFinal = true
        return plaintext
    }

    private func open(_ chunk: UnsafeRawBufferPointer, last: Bool) -> Data? {
        let split = chunk.count - Age.tagSize
        guard let box = try? ChaChaPoly.SealedBox(
            nonce: try Age.chunkNonce(counter, last: last),
            ciphertext: UnsafeRawBufferPointer(rebasing: chunk[..<split]),
            tag: UnsafeRawBufferPointer(rebasing: chunk[split...]))
        else { return nil }
        return try? ChaChaPoly.open(box, using: key)
    }

    /// Appends up to `count` bytes read from `source`; returns how many (0 at the end).
    private static func readSome(_ source: ByteSource, into bytes: inout [UInt8], count: Int) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: count)
        let got = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
        bytes += chunk[..<got]
        return got
    }

    private static func versionError(_ bytes: [UInt8]) -> AgeError {
        let prefix = Array("age-encryption.org/".utf8)
        return bytes.starts(with: prefix) || prefix.starts(with: bytes)
            ? .malformedHeader("the first line is not exactly \(Age.magic)") : .notAgeFile
    }

    /// Tries every identity on every X25519 stanza; the header's shape is checked first, whoever it is for.
    private static func unwrap(_ header: AgeHeader, _ identities: [AgeIdentity]) throws -> SymmetricKey {
        if header.stanzas.count > 1 && header.stanzas.contains(where: { $0.type == "scrypt" }) {
            throw AgeError.malformedHeader("a scrypt (passphrase) stanza must be the only one")
        }
        var candidates: [(AgeStanza, [UInt8])] = []
        for stanza in header.stanzas where stanza.type == X25519Stanza.type {
            candidates.append((stanza, try X25519Stanza.validate(stanza)))
        }
        if candidates.isEmpty {
            var kinds: [String] = []
            for stanza in header.stanzas where !kinds.contains(String(stanza.type.prefix(32))) {
                kinds.append(String(stanza.type.prefix(32)))
            }
            throw AgeError.unsupportedRecipients(Array(kinds.prefix(4)))
        }
        for identity in identities {
            for (stanza, share) in candidates {
                if let fileKey = try X25519Stanza.unwrap(stanza, share: share, with: identity) { return fileKey }
            }
        }
        var files: [String] = []
        for case let file? in identities.map(\.origin) where !files.contains(file) { files.append(file) }
        throw AgeError.noMatchingIdentity(recipients: identities.map(\.recipient.description), files: files)
    }
}
