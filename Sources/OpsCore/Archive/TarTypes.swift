/// One entry of a tar archive, as ``TarReader`` sees it.
public struct TarEntryInfo: Sendable, Equatable {
    public enum Kind: Sendable {
        case file, directory, symlink, hardlink
        /// Devices, fifos, sockets: never extracted.
        case other
    }

    /// The entry's name in the archive, without a leading `./` or a trailing `/`.
    public var path: String
    public var kind: Kind
    /// Bytes of data the entry carries (0 for directories, links).
    public var size: Int
    /// Permission bits (`0o7777`).
    public var mode: UInt32
    /// A symlink's target, or for a hard link the archive path it links to.
    public var linkTarget: String?

    public init(path: String, kind: Kind, size: Int, mode: UInt32, linkTarget: String? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.linkTarget = linkTarget
    }
}

/// What ``TarWriter/addTree(at:as:progress:)`` put into the archive.
public struct TarTreeSummary: Sendable {
    /// Regular files, hard links included.
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    /// File data bytes (headers and padding not counted).
    public var bytes = 0
    /// Paths left out: sockets, fifos, devices, and files that disappeared while the tree was read.
    public var skipped: [String] = []
    /// Files whose size or modification time changed while they were read; the archive holds a consistent
    /// entry for each (cut at, or zero-padded to, the size in its header) but not necessarily a coherent file.
    public var changedFiles: [String] = []

    public init() {}
}

/// What ``TarReader`` does with one entry.
public enum TarEntryAction {
    case extract
    case skip
    /// The entry's data goes to the sink (which the reader does not finish); nothing is written to disk.
    case stream(ByteSink)
}

/// What ``TarReader`` went through.
public struct TarExtractSummary: Sendable {
    public var entries = 0
    /// Data bytes of all entries read (extracted, streamed or skipped).
    public var bytes = 0

    public init() {}
}
