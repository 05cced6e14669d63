/// How a backup's tar stream is compressed.
public enum CompressionKind: String, Sendable, CaseIterable {
    case zstd, gzip, none

    /// The file name ending for a tar archive compressed this way.
    public var fileSuffix: String {
        switch self {
        case .zstd: ".tar.zst"
        case .gzip: ".tar.gz"
        case .none: ".tar"
        }
    }
}

/// Builds the compressing or decompressing stage for a ``CompressionKind``.
public enum Compression {
    /// A sink that compresses into `next`; `level` nil is the kind's default (zstd 3, gzip 6), `zstdBlockSize`
    /// the input per zstd frame (see ``ZstdCompressingSink``). With `.none` it returns `next` itself.
    public static func compressingSink(_ kind: CompressionKind, level: Int?,
                                       zstdBlockSize: Int = ZstdCompressingSink.defaultBlockSize,
                                       next: ByteSink) throws -> ByteSink {
        switch kind {
        case .zstd: try ZstdCompressingSink(level: level ?? 3, blockSize: zstdBlockSize, next: next)
        case .gzip: try GzipCompressingSink(level: level ?? 6, next: next)
        case .none: next
        }
    }

    /// A source of the decompressed bytes of `source`; with `.none`, `source` itself.
    public static func decompressingSource(_ kind: CompressionKind, _ source: ByteSource) throws -> ByteSource {
        switch kind {
        case .zstd: try ZstdDecompressingSource(source)
        case .gzip: try GzipDecompressingSource(source)
        case .none: source
        }
    }
}
