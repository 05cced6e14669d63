import FoundationEssentials
import OpsCore

/// Reads stored backups back: the checksum alone, or the whole chain (decrypt, decompress, tar).
public struct BackupReader: Sendable {
    public var identities: [AgeIdentity]

    public init(identities: [AgeIdentity]) {
        self.identities = identities
    }

    /// Re-reads the whole object and compares its size and SHA-256 with the manifest's.
    public static func verifyChecksum(_ manifest: BackupManifest, in store: BackupStore) throws {
        let digest = DigestSource(try store.open(manifest))
        let sink = DigestSink()
        try digest.copy(to: sink, bufferSize: 1 << 20)
        try check(digest, against: manifest)
    }

    static func check(_ digest: DigestSource, against manifest: BackupManifest) throws {
        let actual = digest.finalizeHex()
        guard digest.byteCount == manifest.sizeBytes, actual == manifest.sha256 else {
            throw BackupError.checksumMismatch(id: manifest.id.description, expected: manifest.sha256, actual: actual,
                                               expectedSize: manifest.sizeBytes, actualSize: digest.byteCount)
        }
    }

    /// The plaintext tar stream of a backup, produced on a thread of its own (read, hash, decrypt,
    /// decompress) so that the caller's thread can spend its core on extracting. `finish()` on the returned
    /// handle drains the object to its end and checks the checksum.
    public func openArchive(_ manifest: BackupManifest, in store: BackupStore) throws -> ArchiveStream {
        guard let compression = CompressionKind(rawValue: manifest.compression) else {
            throw BackupError.unsupported("backup \(manifest.id) uses compression `\(manifest.compression)`, which this opskit does not know: upgrade opskit")
        }
        if manifest.encrypted && identities.isEmpty {
            throw BackupError.identityRequired(id: manifest.id.description, recipients: manifest.recipients)
        }
        let raw = DigestSource(try store.open(manifest))
        // Decrypting reads the header now: a wrong identity fails here, before anything else happens.
        var plain: ByteSource = raw
        if manifest.encrypted { plain = try AgeDecryptingSource(source: raw, identities: identities) }
        let tar = try Compression.decompressingSource(compression, plain)
        let checked = try ThreadedSource(capacity: 4 << 20) { sink in
            try tar.copy(to: sink, bufferSize: 1 << 20)
            // Past the end of the compressed stream: nothing may follow, and the whole object is hashed.
            let rest = DigestSink()
            try raw.copy(to: rest, bufferSize: 1 << 20)
            try Self.check(raw, against: manifest)
            try sink.finish()
        }
        return ArchiveStream(source: checked)
    }

    /// Full verification in one pass: checksum, decryption (authenticated), decompression, and a tar
    /// archive that is complete. Writes nothing.
    public func verifyFully(_ manifest: BackupManifest, in store: BackupStore) throws -> TarExtractSummary {
        let stream = try openArchive(manifest, in: store)
        let summary = try TarReader(source: stream.source).list()
        try stream.finish()
        return summary
    }
}

/// A backup's tar stream; the checksum is only known good once `finish()` returned.
public final class ArchiveStream: @unchecked Sendable {
    public let source: ThreadedSource

    init(source: ThreadedSource) {
        self.source = source
    }

    /// Reads what the tar reader left (end padding), which also waits for the checksum verdict.
    public func finish() throws {
        let sink = DigestSink()
        try source.copy(to: sink, bufferSize: 64 << 10)
    }

    public func cancel() { source.cancel() }
}
