// Placeholder until the archive branch lands (same API).
public enum CompressionKind: String, Sendable, CaseIterable {
    case zstd, gzip, none
    public var fileSuffix: String {
        switch self {
        case .zstd: ".tar.zst"
        case .gzip: ".tar.gz"
        case .none: ".tar"
        }
    }
}
