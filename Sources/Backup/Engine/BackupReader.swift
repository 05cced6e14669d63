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

    /// The plaintext tar stream of a backup. Two threads of its own produce it: one reads the object and
    /// hashes it, the other decrypts and decompresses, so that the caller's thread can spend its time on
    /// extracting; chunks pass between them without copies. `finish()` on the returned handle drains the
    /// object to its end and checks the checksum.
    public func openArchive(_ manifest: BackupManifest, in store: BackupStore) throws -> ArchiveStream {
        guard let compression = CompressionKind(rawValue: manifest.compression) else {
            throw BackupError.unsupported("backup \(manifest.id) uses compression `\(manifest.compression)`, which this opskit does not know: upgrade opskit")
        }
        if manifest.encrypted && identities.isEmpty {
            throw BackupError.identityRequired(id: manifest.id.description, recipients: manifest.recipients)
        }
        let raw = DigestSource(try store.open(manifest))
        let fetched = try ThreadedSource(capacity: 4 << 20) { out in
            while try out.fill(upTo: 1 << 20, { try raw.readFully(into: $0) }) > 0 {}
            try out.finish()
        }
        // Decrypting reads the header now: a wrong identity fails here, before anything else happens.
        var plain: ByteSource = fetched
        if manifest.encrypted { plain = try AgeDecryptingSource(source: fetched, identities: identities) }
        let tar = try Compression.decompressingSource(compression, plain)
        let checked = try ThreadedSource(capacity: 4 << 20) { out in
            defer { fetched.cancel() }  // on a failure, the reading thread stops too
            while try out.fill(upTo: 1 << 20, { try tar.readFully(into: $0) }) > 0 {}
            // Past the end of the compressed stream: nothing may follow, and the whole object is hashed.
            // The reading thread has ended once its stream did, so `raw` is complete and ours to read.
            let rest = DigestSink()
            try fetched.copy(to: rest)
            try Self.check(raw, against: manifest)
            try out.finish()
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
