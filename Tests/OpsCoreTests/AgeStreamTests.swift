import OpsCore
import Testing

@Suite struct AgeStreamTests {
    let alice = AgeIdentity.generate()
    let bob = AgeIdentity.generate()

    static let sizes = [0, 1, 65535, 65536, 65537, 3 * 65536, (1 << 20) + 123]

    @Test(arguments: sizes) func roundTripsAndHasTheSTREAMLength(size: Int) throws {
        let plaintext = AgeTest.random(size)
        let file = try AgeTest.encrypt(plaintext, to: [alice.recipient])
        #expect(Age.looksEncrypted(file))
        // One 16-byte tag per chunk; a final chunk always exists (empty only for an empty plaintext).
        let chunks = max(1, (size + 65535) / 65536)
        #expect(file.count - AgeTest.payloadStart(file) == size + 16 * chunks)
        #expect(try AgeTest.decrypt(file, with: [alice]) == plaintext)
    }

    @Test func writeAndReadSizesDoNotMatter() throws {
        let plaintext = AgeTest.random(3 * 65536 + 999)
        var files: [[UInt8]] = []
        for writeSize in [1, 7, 4096, 65535, 65536, 65537, 200_000] {
            // One-byte writes of the whole thing take long in debug builds: only for the first 70 KB.
            let data = writeSize == 1 ? Array(plaintext.prefix(70_000)) : plaintext
            let file = try AgeTest.encrypt(data, to: [alice.recipient], writeSize: writeSize)
            #expect(try AgeTest.decrypt(file, with: [alice], readSize: 65536) == data, "write size \(writeSize)")
            if writeSize != 1 { files.append(file) }
        }
        for readSize in [1, 100, 65535, 65536, 65537, 1 << 20] {
            let source = try AgeDecryptingSource(source: BytesSource(files[0]), identities: [alice])
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: readSize)
            // Stop one-byte reads early for time; a partial comparison still checks ordering.
            while out.count < (readSize == 1 ? 70_000 : .max) {
                let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                if count == 0 { break }
                out += buffer[..<count]
            }
            #expect(out == Array(plaintext.prefix(out.count)), "read size \(readSize)")
            if readSize != 1 { #expect(out.count == plaintext.count) }
        }
        // Fresh file key and nonce every time: equal plaintexts never give equal files.
        #expect(Set(files).count == files.count)
    }

    @Test func nextSeesTheHeaderThenWholeSealedChunks() throws {
        final class Recorder: ByteSink {
            var sizes: [Int] = []
            var finished = 0
            func write(_ chunk: UnsafeRawBufferPointer) throws { sizes.append(chunk.count) }
            func finish() throws { finished += 1 }
        }
        let recorder = Recorder()
        let sink = try AgeEncryptingSink(recipients: [alice.recipient, bob.recipient], next: recorder)
        #expect(recorder.sizes.count == 1)  // header + nonce
        try sink.write(AgeTest.random(100))
        try sink.write(AgeTest.random(65436))
        #expect(recorder.sizes.count == 1)  // a full chunk waits: is it the last one?
        try sink.write(AgeTest.random(1))
        #expect(recorder.sizes.dropFirst() == [65552])
        try sink.write(AgeTest.random(65535))
        #expect(recorder.sizes.dropFirst() == [65552])
        try sink.finish()
        #expect(recorder.sizes.dropFirst() == [65552, 65552])  // the final chunk is full
        #expect(recorder.finished == 1)

        // A big write: the whole chunks in it are sealed in place, the rest is kept.
        let second = Recorder()
        let direct = try AgeEncryptingSink(recipients: [alice.recipient], next: second)
        try direct.write(AgeTest.random(10))
        try direct.write(AgeTest.random(200_000))
        #expect(second.sizes.dropFirst() == [65552, 65552, 65552])
        try direct.finish()
        #expect(second.sizes.dropFirst() == [65552, 65552, 65552, 200_010 - 3 * 65536 + 16])
    }

    @Test func eachRecipientAloneDecrypts() throws {
        let plaintext = AgeTest.random(100_000)
        let file = try AgeTest.encrypt(plaintext, to: [alice.recipient, bob.recipient])
        #expect(try AgeTest.decrypt(file, with: [alice]) == plaintext)
        #expect(try AgeTest.decrypt(file, with: [bob]) == plaintext)
        let carol = AgeIdentity.generate()
        #expect(try AgeTest.decrypt(file, with: [carol, bob]) == plaintext)
    }

    @Test func wrongIdentityFailsBeforeAnyPlaintext() throws {
        let file = try AgeTest.encrypt(AgeTest.random(1000), to: [alice.recipient])
        #expect(AgeTest.decryptionError(file, with: []) == .noMatchingIdentity(recipients: [], files: []))
        let identities = try AgeIdentityFile.parse(bob.encoded + "\n", path: "/etc/opskit/backup.key")
        do {
            _ = try AgeDecryptingSource(source: BytesSource(file), identities: identities)
            Issue.record("a wrong identity was accepted")
        } catch let error as AgeError {
            #expect(error == .noMatchingIdentity(recipients: [bob.recipient.description], files: ["/etc/opskit/backup.key"]))
            #expect(error.description.contains("/etc/opskit/backup.key"))
            #expect(error.description.contains(bob.recipient.description))
            #expect(!error.description.contains(bob.encoded))
        }
    }

    @Test func noRecipientsIsAnError() {
        #expect(throws: AgeError.noRecipients) { try AgeEncryptingSink(recipients: [], next: BytesSink()) }
    }

    // MARK: payload damage

    /// 3 full chunks and a short one: chunks 0, 1, 2 are 65552 bytes, chunk 3 is 1016.
    func fourChunks() throws -> (plaintext: [UInt8], file: [UInt8], start: Int) {
        let plaintext = AgeTest.random(3 * 65536 + 1000)
        let file = try AgeTest.encrypt(plaintext, to: [alice.recipient])
        return (plaintext, file, AgeTest.payloadStart(file))
    }

    @Test func flippedPayloadByteFailsItsChunkAfterServingTheChunksBefore() throws {
        let (plaintext, file, start) = try fourChunks()
        var damaged = file
        damaged[start + 65552 + 300] ^= 0x01
        let source = try AgeDecryptingSource(source: BytesSource(damaged), identities: [alice])
        var buffer = [UInt8](repeating: 0, count: 65536)
        let first = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        #expect(first == 65536 && buffer == Array(plaintext[..<65536]))
        #expect(throws: AgeError.authenticationFailed(chunk: 1)) {
            _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        }
        // And it stays failed.
        #expect(throws: AgeError.authenticationFailed(chunk: 1)) {
            _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        }

        var lastDamaged = file
        lastDamaged[file.count - 5] ^= 0x80
        #expect(AgeTest.decryptionError(lastDamaged, with: [alice]) == .authenticationFailed(chunk: 3))
        var tagDamaged = file
        tagDamaged[start + 65535 + 16] ^= 0x01
        #expect(AgeTest.decryptionError(tagDamaged, with: [alice]) == .authenticationFailed(chunk: 0))
    }

    @Test func reorderedChunksFail() throws {
        let (_, file, start) = try fourChunks()
        let chunk0 = file[start..<start + 65552]
        let chunk1 = file[start + 65552..<start + 2 * 65552]
        let swapped = Array(file[..<start]) + chunk1 + chunk0 + file[(start + 2 * 65552)...]
        #expect(AgeTest.decryptionError(swapped, with: [alice]) == .authenticationFailed(chunk: 0))
        // A middle chunk moved to the end (where it would be the final one) fails too.
        let moved = Array(file[..<start]) + chunk0 + chunk1 + file[(start + 3 * 65552)...] + file[(start + 2 * 65552)..<(start + 3 * 65552)]
        #expect(AgeTest.decryptionError(moved, with: [alice]) != nil)
    }

    @Test func truncationIsReported() throws {
        let (_, file, start) = try fourChunks()
        // The short final chunk dropped: the file ends after a full middle chunk.
        #expect(AgeTest.decryptionError(Array(file[..<(start + 3 * 65552)]), with: [alice]) == .truncated)
        // Cut right after the nonce, and inside the nonce, and inside the header.
        #expect(AgeTest.decryptionError(Array(file[..<start]), with: [alice]) == .truncated)
        #expect(AgeTest.decryptionError(Array(file[..<(start - 5)]), with: [alice]) == .truncated)
        #expect(AgeTest.decryptionError(Array(file[..<40]), with: [alice]) == .truncated)
        #expect(AgeTest.decryptionError([], with: [alice]) == .truncated)
        // Cut inside the final chunk leaving less than a tag.
        #expect(AgeTest.decryptionError(Array(file[..<(start + 3 * 65552 + 10)]), with: [alice]) == .truncated)
        // Cut in the middle of a chunk: indistinguishable from damage to a short final chunk, so it is an
        // authentication failure of that chunk (whose message says "damaged, modified or cut short").
        #expect(AgeTest.decryptionError(Array(file[..<(start + 2 * 65552 + 30000)]), with: [alice])
            == .authenticationFailed(chunk: 2))

        // A plaintext of whole chunks: its final chunk is full; dropping it leaves a full non-final chunk.
        let whole = try AgeTest.encrypt(AgeTest.random(2 * 65536), to: [alice.recipient])
        let wholeStart = AgeTest.payloadStart(whole)
        #expect(whole.count == wholeStart + 2 * 65552)
        #expect(AgeTest.decryptionError(Array(whole[..<(wholeStart + 65552)]), with: [alice]) == .truncated)
    }

    @Test func trailingDataIsReported() throws {
        let whole = try AgeTest.encrypt(AgeTest.random(2 * 65536), to: [alice.recipient])
        #expect(AgeTest.decryptionError(whole + [0], with: [alice]) == .trailingData)
        #expect(AgeTest.decryptionError(whole + AgeTest.random(70_000), with: [alice]) == .trailingData)
        // After a short final chunk the extra bytes become part of it: an authentication failure.
        let (_, file, _) = try fourChunks()
        #expect(AgeTest.decryptionError(file + [0, 0, 0], with: [alice]) == .authenticationFailed(chunk: 3))
        // An empty file's final chunk is empty; anything after it makes it a full-size (non-final) read or a
        // longer final one, which fails.
        let empty = try AgeTest.encrypt([], to: [alice.recipient])
        #expect(AgeTest.decryptionError(empty + [1], with: [alice]) == .authenticationFailed(chunk: 0))
    }

    // MARK: header damage

    @Test func headerMACProtectsTheHeader() throws {
        let file = try AgeTest.encrypt(AgeTest.random(100), to: [alice.recipient])
        let macAt = AgeTest.payloadStart(file) - 16 - 44  // the first MAC character
        var badMAC = file
        badMAC[macAt] = badMAC[macAt] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(AgeTest.decryptionError(badMAC, with: [alice]) == .headerMACMismatch)

        // An extra (unknown, so ignored) stanza added by someone without the file key.
        let dashes = macAt - 4
        let grease = Array("-> grease x\n\n".utf8)
        let added = Array(file[..<dashes]) + grease + file[dashes...]
        #expect(AgeTest.decryptionError(added, with: [alice]) == .headerMACMismatch)
    }

    @Test func malformedHeadersAndOtherFiles() throws {
        let file = try AgeTest.encrypt(AgeTest.random(100), to: [alice.recipient])
        #expect(AgeTest.decryptionError(Array("hello world, this is not an age file\n".utf8), with: [alice]) == .notAgeFile)
        #expect(AgeTest.decryptionError([0x1f, 0x8b, 8, 0], with: [alice]) == .notAgeFile)
        #expect(!Age.looksEncrypted(Array("age-encryption.org/v1".utf8)))
        #expect(!Age.looksEncrypted([0x28, 0xb5, 0x2f, 0xfd]))

        var version = file
        version[20] = UInt8(ascii: "2")  // age-encryption.org/v2
        guard case .malformedHeader? = AgeTest.decryptionError(version, with: [alice]) else {
            Issue.record("v2 accepted")
            return
        }
        // A CR before an LF in the header.
        let lineEnd = file.firstIndex(of: UInt8(ascii: "\n"))!
        let crlf = Array(file[..<lineEnd]) + [13] + file[lineEnd...]
        guard case .malformedHeader? = AgeTest.decryptionError(crlf, with: [alice]) else {
            Issue.record("CRLF accepted")
            return
        }
        // A stanza whose X25519 body lost a character.
        let text = String(decoding: file[..<AgeTest.payloadStart(file)], as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1].hasPrefix("-> X25519 ") && lines[2].count == 43)
        let shortBody = Array(file[..<(lineEnd + 1 + lines[1].utf8.count + 1)]) + Array(lines[2].utf8.dropLast()) + file[(lineEnd + 1 + lines[1].utf8.count + 1 + 43)...]
        guard case .malformedHeader? = AgeTest.decryptionError(shortBody, with: [alice]) else {
            Issue.record("short X25519 body accepted")
            return
        }
        // A file with only passphrase (scrypt) recipients.
        let scrypt = Array("age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\nAAAA\n--- ".utf8)
            + Array(repeating: UInt8(ascii: "A"), count: 43) + [10] + AgeTest.random(40)
        #expect(AgeTest.decryptionError(scrypt, with: [alice]) == .unsupportedRecipients(["scrypt"]))
    }

    @Test func everyErrorIsOneLine() {
        let errors: [AgeError] = [
            .invalidRecipient("\"x\" (y)"), .invalidIdentity(file: "k", line: 3, reason: "r"),
            .invalidIdentity(file: nil, line: 1, reason: "r"), .unreadableIdentityFile(path: "p", reason: "r"),
            .noIdentities(file: "f"), .noRecipients, .noMatchingIdentity(recipients: ["age1x"], files: []),
            .noMatchingIdentity(recipients: ["a", "b", "c", "d"], files: ["f", "g"]),
            .noMatchingIdentity(recipients: [], files: []),
            .unsupportedRecipients(["scrypt"]), .notAgeFile, .malformedHeader("m"), .headerMACMismatch,
            .truncated, .authenticationFailed(chunk: 2), .malformedPayload("m"), .trailingData,
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(": "), "says what to do: \(error)")
        }
    }
}
