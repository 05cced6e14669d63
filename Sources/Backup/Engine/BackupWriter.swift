#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore

/// A source checked and resolved to what the archive writer reads without any async work.
public enum PreparedSource: Sendable, Equatable {
    /// A directory tree: a `dir:` source, or a Docker volume's directory on this host.
    case tree(path: String)
    case sqlite(path: String)
    case postgres(PostgresURL)
}

/// One source of a backup: what was asked for, what will be read, and its name inside the archive.
public struct PlannedSource: Sendable, Equatable {
    public var source: BackupSource
    public var prepared: PreparedSource
    public var archivePath: String

    public init(source: BackupSource, prepared: PreparedSource, archivePath: String) {
        self.source = source
        self.prepared = prepared
        self.archivePath = archivePath
    }
}

/// The one streaming pass: sources → tar → zstd/gzip → age → SHA-256 → store, then the manifest, last.
///
/// With zstd, the calling thread reads the sources and writes tar into fixed-size blocks that zstd workers
/// compress (one per core); the frames come back in order on the calling thread, which encrypts, hashes and
/// hands them to the store. With gzip or none, tar is written on a thread of its own and the calling thread
/// compresses, encrypts, hashes and stores, behind a bounded queue. Either way memory does not grow with the
/// data. If anything fails, the upload is aborted and no manifest
/// is written: the backup does not exist.
public struct BackupWriter: Sendable {
    public var compression: CompressionKind
    public var level: Int?
    public var recipients: [AgeRecipient]
    /// Where SQLite snapshots are taken (the backup API writes a database file); removed right after.
    public var scratchDirectory: String
    /// Called on the archiving thread with the bytes read from the sources so far.
    public var progress: (@Sendable (Int) -> Void)?

    public init(compression: CompressionKind, level: Int?, recipients: [AgeRecipient], scratchDirectory: String,
                progress: (@Sendable (Int) -> Void)? = nil) {
        self.compression = compression
        self.level = level
        self.recipients = recipients
        self.scratchDirectory = scratchDirectory
        self.progress = progress
    }

    /// zstd's blocks and the store's part share one memory budget (the issue's: 64 MiB peak RSS at the
    /// default 16 MiB S3 part). Two workers hold five blocks: 4 MiB blocks (20 MiB, ratio 1.71 on the bench
    /// set) when the store holds nothing in memory, 2 MiB (10 MiB, ratio 1.65) beside a part over 4 MiB.
    static func zstdBlockSize(besides uploadMemory: Int) -> Int {
        uploadMemory > 4 << 20 ? 2 << 20 : ZstdCompressingSink.defaultBlockSize
    }

    /// The object's name in the store: `backup-20260120-020000.tar.zst.age`.
    public func objectName(for id: BackupID) -> String {
        id.description + compression.fileSuffix + (recipients.isEmpty ? "" : ".age")
    }

    /// Writes the backup and commits its manifest; returns the manifest.
    public func write(id: BackupID, createdAt: Date, sources: [PlannedSource], permanent: Bool,
                      to store: BackupStore) throws -> BackupManifest {
        let upload = try store.beginUpload(object: objectName(for: id))
        var tar: ThreadedSource?
        do {
            let digest = DigestSink(next: upload)
            var sink: ByteSink = digest
            if !recipients.isEmpty { sink = try AgeEncryptingSink(recipients: recipients, next: sink) }
            sink = try Compression.compressingSink(
                compression, level: level, zstdBlockSize: Self.zstdBlockSize(besides: store.uploadMemory), next: sink)

            let index = try ArchiveIndex(id: id.description, createdAt: createdAt, sources: sources.map(\.source))
                .encoded()
            let scratch = scratchDirectory
            let progress = self.progress
            let archive: (ByteSink) throws -> Void = { tarSink in
                let writer = try TarWriter(sink: tarSink)
                try writer.addBytes(index, as: ArchiveIndex.entryName, mode: 0o644,
                                    modified: Int(createdAt.timeIntervalSince1970))
                var before = 0
                for planned in sources {
                    switch planned.prepared {
                    case .tree(let path):
                        let base = before
                        let summary = try writer.addTree(at: path, as: planned.archivePath,
                                                         progress: progress.map { report in { report(base + $0) } })
                        before += summary.bytes
                    case .sqlite(let path):
                        let snapshot = scratch + "/.sqlite-snapshot-\(getpid())-\(before)"
                        defer { unlink(snapshot) }
                        try SQLiteDatabase.snapshot(of: path, to: snapshot)
                        try writer.addFile(at: snapshot, as: planned.archivePath)
                        var info = stat()
                        if stat(snapshot, &info) == 0 { before += Int(info.st_size) }
                    case .postgres(let url):
                        let dump = try ThreadedSource(capacity: 2 << 20) { dumpSink in
                            try PostgresTools.dump(url, to: dumpSink)
                            try dumpSink.finish()
                        }
                        let counted = DigestSource(dump)
                        try writer.addStream(from: counted, as: planned.archivePath, partSize: 4 << 20)
                        before += counted.byteCount
                    }
                    progress?(before)
                }
                try writer.finish()
            }
            if compression == .zstd {
                // zstd compresses on workers of its own: the tar writer feeds it directly, and the frames
                // are encrypted, hashed and stored on this thread while the workers compress the next blocks.
                try archive(sink)
            } else {
                let stream = try ThreadedSource(capacity: 2 << 20) { try archive($0) }
                tar = stream
                try stream.copy(to: sink, bufferSize: 1 << 20)
                try sink.finish()
            }
            guard let sha = digest.sha256Hex else { throw BackupError.internalInconsistency("no checksum after finishing") }
            let manifest = BackupManifest(
                id: id, createdAt: createdAt,
                sources: sources.map { .init(kind: $0.source.kind.rawValue, location: $0.source.description,
                                             archivePath: $0.archivePath) },
                object: objectName(for: id), sizeBytes: digest.byteCount, sha256: sha,
                compression: compression.rawValue, encrypted: !recipients.isEmpty,
                recipients: recipients.map(\.description), toolVersion: OpsKit.version, permanent: permanent,
                verifiedAt: nil)
            try store.commit(manifest)
            return manifest
        } catch {
            tar?.cancel()
            upload.abort()
            throw error
        }
    }
}
