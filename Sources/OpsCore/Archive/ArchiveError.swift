/// What went wrong while writing, reading or extracting an archive, or (de)compressing a stream.
///
/// Each description is one line: what failed (naming the entry or path), what was left alone, and what to do.
public enum ArchiveError: Error, CustomStringConvertible, Equatable {
    /// An entry that would write outside the target directory (or through a symlink); nothing of it was written.
    case unsafeEntry(path: String, reason: String)
    /// The stream ends before the archive does (a cut-off upload or download).
    case truncated(String)
    /// The bytes are not a readable tar archive.
    case corrupt(String)
    /// A file or directory on this machine could not be read or written.
    case io(path: String, reason: String)
    /// A zstd or gzip stream could not be produced or decoded.
    case compression(String)
    /// The caller asked for something the archive code does not do (a bad name or level).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unsafeEntry(let path, let reason):
            return "refused archive entry \"\(Self.oneLine(path))\": \(reason); it and every entry after it were "
                + "not extracted and nothing outside the target directory was written — this archive was not made "
                + "by opskit or was tampered with: inspect it with `tar -tvf` before restoring from it"
        case .truncated(let detail):
            return "the archive ends too early (\(Self.oneLine(detail))); nothing after that point can be restored from "
                + "it — it was cut short in transfer or storage: fetch it again, or use an older backup"
        case .corrupt(let detail):
            return "the archive is damaged (\(Self.oneLine(detail))); nothing after that point can be restored from it "
                + "— use an older backup, or see how far it reads with `tar -tvf`"
        case .io(let path, let reason):
            return "\(Self.oneLine(path)): \(Self.oneLine(reason))"
        case .compression(let detail), .invalidArgument(let detail):
            return Self.oneLine(detail)
        }
    }

    /// Keeps a message on one line whatever bytes a file name holds.
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                out += "\\x" + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
