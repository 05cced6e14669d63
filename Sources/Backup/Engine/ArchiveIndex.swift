import FoundationEssentials
import OpsCore

/// `opskit-backup.json`, the first entry of every archive: what the archive holds and where each source
/// came from, so an archive opened by hand (`age -d | zstd -d | tar -x`) explains itself.
struct ArchiveIndex: Codable, Sendable, Equatable {
    static let entryName = "opskit-backup.json"

    struct Source: Codable, Sendable, Equatable {
        var kind: String
        var location: String
        var archivePath: String
        /// How to put it back by hand.
        var restoreByHand: String
    }

    var format = 1
    var id: String
    var createdAt: Date
    var tool: String
    var sources: [Source]

    init(id: String, createdAt: Date, sources: [BackupSource]) {
        self.id = id
        self.createdAt = createdAt
        tool = "opskit \(OpsKit.version)"
        self.sources = zip(sources, sources.archivePaths()).map { source, path in
            let hint: String
            switch source {
            case .directory(let dir): hint = "copy \(path)/ to \(dir)/ (stop the app first)"
            case .sqlite(let file): hint = "stop the app, remove \(file)-wal and \(file)-shm, copy \(path) to \(file)"
            case .postgres: hint = "cat \(path).part-* | pg_restore --single-transaction --clean --if-exists -d DATABASE_URL"
            case .volume(let name): hint = "copy \(path)/ into the volume \(name) (docker volume inspect \(name))"
            }
            return Source(kind: source.kind.rawValue, location: source.description, archivePath: path, restoreByHand: hint)
        }
    }

    func encoded() throws -> [UInt8] {
        Array(try JSONCoding.encoder().encode(self)) + [0x0A]
    }
}
