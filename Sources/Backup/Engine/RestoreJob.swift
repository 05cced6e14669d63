#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What a restore should do.
public struct RestoreRequest: Sendable {
    /// `latest`, an id, or a unique prefix.
    public var reference: String
    /// Restore into this new or empty directory instead of over live data.
    public var toDirectory: String?
    public var dryRun: Bool
    public var safetyBackup: Bool

    public init(reference: String, toDirectory: String? = nil, dryRun: Bool = false, safetyBackup: Bool = true) {
        self.reference = reference
        self.toDirectory = toDirectory
        self.dryRun = dryRun
        self.safetyBackup = safetyBackup
    }
}

/// What a restore did (or, with `--dry-run`, would do).
public struct RestoreOutcome: Sendable {
    public struct Item: Sendable {
        public var source: String
        /// Where the restored data is now.
        public var path: String
    }

    public var manifest: BackupManifest
    public var items: [Item]
    public var safetyBackup: BackupID?
    public var dryRun: Bool
    public var duration: Duration
}

/// One source of a backup, matched to where it goes back.
struct RestoreTarget: Sendable {
    enum Kind: Sendable { case tree, sqlite, postgres }
    var kind: Kind
    var source: BackupSource
    var archivePath: String
    /// The live path (a directory, a database file); nil for PostgreSQL.
    var livePath: String?
    var postgres: PostgresURL?
}

/// `restore`: fetch, verify the checksum before touching anything, decrypt and extract into staging beside
/// the live data, check the staged copy, take a safety backup, stop the containers, swap atomically, restore
/// PostgreSQL in one transaction, start the containers, check health — and on any failure swap back.
public struct RestoreJob: Sendable {
    public var backup: BackupJob

    public init(backup: BackupJob) {
        self.backup = backup
    }

    var logger: Logger { backup.logger }

    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        if request.dryRun {
            return try await restoreLocked(request)
        }
        return try await backup.locked("restore \(request.reference)") { try await restoreLocked(request) }
    }

    func restoreLocked(_ request: RestoreRequest) async throws -> RestoreOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let store = try backup.openStore()
        let manifests = try await OwnThread.run { try store.list() }
        let manifest = try BackupJob.find(request.reference, in: manifests, store: store.description)
        let identities = try backup.loadIdentities()
        if manifest.encrypted && identities.isEmpty {
            throw BackupError.identityRequired(id: manifest.id.description, recipients: manifest.recipients)
        }
        let targets = try await resolveTargets(manifest, toDirectory: request.toDirectory)

        if request.dryRun {
            let items = targets.map { RestoreOutcome.Item(source: $0.source.description, path: $0.livePath ?? $0.source.description) }
            return RestoreOutcome(manifest: manifest, items: items, safetyBackup: nil, dryRun: true, duration: clock.now - started)
        }

        // 1. The checksum, before anything live is touched. With --to nothing live is touched at all: the
        //    extraction itself checks the checksum to the last byte, and a failure empties the directory again.
        if request.toDirectory == nil {
            logger.info("verifying \(manifest.id) (\(manifest.sizeBytes) bytes) before touching anything")
            try await OwnThread.run { try BackupReader.verifyChecksum(manifest, in: store) }
        }

        // 2. Extract into staging.
        let stagingRoot = try stagingRoot(for: targets, manifest: manifest, toDirectory: request.toDirectory)
        var keepStaging = false
        defer {
            if !keepStaging {
                if request.toDirectory != nil { PathSwap.emptyDirectory(stagingRoot) } else { PathSwap.removeTree(stagingRoot) }
            }
        }
        logger.info("extracting into \(stagingRoot)")
        let reader = BackupReader(identities: identities)
        do {
            try await OwnThread.run { try Self.extract(manifest, from: store, reader: reader, into: stagingRoot) }
        } catch {
            // A damaged object often breaks decompression before the checksum is reached: say which it is.
            if request.toDirectory != nil {
                do { try await OwnThread.run { try BackupReader.verifyChecksum(manifest, in: store) } } catch let damaged as BackupError {
                    throw damaged
                } catch {}
            }
            throw error
        }

        // 3. Check what was staged.
        for target in targets { try await check(target, stagedIn: stagingRoot) }

        if let toDirectory = request.toDirectory {
            keepStaging = true
            let items = targets.map { target in
                RestoreOutcome.Item(source: target.source.description, path: toDirectory + "/" + stagedName(target))
            }
            return RestoreOutcome(manifest: manifest, items: items, safetyBackup: nil, dryRun: false, duration: clock.now - started)
        }

        // The staged copy reaches the disk before it replaces anything (one syncfs for the whole tree).
        Self.syncFilesystem(of: stagingRoot)

        // 4. Stop the app, then take the safety backup of what is live now.
        let stopped = try await backup.stopContainers()
        var safety: BackupID?
        do {
            if request.safetyBackup {
                logger.info("taking a safety backup of the current data")
                var job = backup
                job.settings.sources = targets.map(\.source)
                job.settings.stopContainers = []
                job.progress = nil
                safety = try await job.backupLocked(name: "pre-restore", permanent: false, prune: false).manifest.id
            }
        } catch {
            await backup.startContainers(stopped)
            throw BackupError.restoreFailed(step: "taking the safety backup", why: String(describing: error),
                                            inPlace: "nothing was changed; fix that, or rerun with --no-safety-backup")
        }

        // 5. Swap, restore PostgreSQL, start, check.
        var swaps: [PathSwap.Done] = []
        var sidecars: [(live: String, aside: String)] = []
        var postgresRestored: [RestoreTarget] = []
        var step = "swapping the data into place"
        do {
            for target in targets {
                switch target.kind {
                case .tree, .sqlite:
                    guard let live = target.livePath else { continue }
                    let staged = try placeBeside(live, staged: stagingRoot + "/" + target.archivePath, id: manifest.id)
                    if target.kind == .sqlite {
                        // A stale -wal/-shm/-journal next to the new file would be replayed into it.
                        for suffix in ["-wal", "-shm", "-journal"] where PathSwap.exists(live + suffix) {
                            let aside = PathSwap.parent(of: staged) + "/" + PathSwap.baseName(of: live) + suffix + ".opskit-old-\(manifest.id)"
                            guard rename(live + suffix, aside) == 0 else {
                                throw PathSwap.Failure(operation: "move \(live + suffix) aside", code: errno)
                            }
                            sidecars.append((live + suffix, aside))
                        }
                    }
                    swaps.append(try PathSwap.swap(staged: staged, into: live))
                    logger.info("restored \(target.source) in place")
                case .postgres:
                    guard let url = target.postgres else { continue }
                    step = "restoring PostgreSQL database \(url.database)"
                    let dump = stagingRoot + "/" + target.archivePath
                    try await OwnThread.run { try PostgresTools.restore(from: try FileSource(path: dump), into: url) }
                    postgresRestored.append(target)
                    logger.info("restored \(target.source) (one transaction)")
                }
            }
            step = "starting the containers"
            if !stopped.isEmpty { try await backup.docker.start(containers: stopped) }
            if let url = backup.settings.healthURL {
                step = "checking health at \(Redactor.redact(url))"
                let outcome = try await HealthGate(successes: 2, budget: .seconds(backup.settings.healthTimeout)).wait(for: url, logger: logger)
                guard outcome.passed else {
                    throw BackupError.unsupported("the app is not healthy after the restore: \(outcome.last?.summary ?? "no answer")")
                }
            }
        } catch {
            let inPlace = await rollBack(swaps: swaps, sidecars: sidecars, postgres: postgresRestored, safety: safety,
                                         stopped: stopped, store: store, identities: identities)
            throw BackupError.restoreFailed(step: step, why: String(describing: error), inPlace: inPlace)
        }

        // 6. Done: the old data (now at the staged names) and the staging root go.
        for swap in swaps {
            if case .exchanged(_, let staged) = swap { PathSwap.removeTree(staged) }
        }
        for sidecar in sidecars { PathSwap.removeTree(sidecar.aside) }
        let items = targets.map { RestoreOutcome.Item(source: $0.source.description, path: $0.livePath ?? $0.source.description) }
        return RestoreOutcome(manifest: manifest, items: items, safetyBackup: safety, dryRun: false, duration: clock.now - started)
    }

    /// Undoes every swap, restores PostgreSQL from the safety backup, starts the app; says what is live.
    func rollBack(swaps: [PathSwap.Done], sidecars: [(live: String, aside: String)], postgres: [RestoreTarget],
                  safety: BackupID?, stopped: [String], store: BackupStore, identities: [AgeIdentity]) async -> String {
        var problems: [String] = []
        if !stopped.isEmpty { try? await backup.docker.stop(containers: stopped) }
        for swap in swaps.reversed() {
            do { try PathSwap.undo(swap) } catch { problems.append("could not swap back: \(error)") }
        }
        for sidecar in sidecars.reversed() where rename(sidecar.aside, sidecar.live) != 0 {
            problems.append("could not move \(sidecar.aside) back to \(sidecar.live)")
        }
        if !postgres.isEmpty {
            if let safety {
                do {
                    try await restorePostgres(postgres, fromBackup: safety, store: store, identities: identities)
                } catch {
                    problems.append("PostgreSQL still holds the restored data; the previous data is in safety backup \(safety): restore \(safety)")
                }
            } else {
                problems.append("PostgreSQL holds the restored data (no safety backup was taken)")
            }
        }
        await backup.startContainers(stopped)
        if problems.isEmpty {
            return "everything was put back as it was" + (safety.map { " (safety backup \($0) also kept)" } ?? "")
        }
        return problems.joined(separator: "; ")
    }

    func restorePostgres(_ targets: [RestoreTarget], fromBackup id: BackupID, store: BackupStore,
                         identities: [AgeIdentity]) async throws {
        let manifests = try await OwnThread.run { try store.list() }
        guard let manifest = manifests.first(where: { $0.id == id }) else { return }
        let root = backup.stateDirectory + "/.opskit-rollback-\(id)"
        PathSwap.removeTree(root)
        guard mkdir(root, 0o700) == 0 else { throw PathSwap.Failure(operation: "mkdir \(root)", code: errno) }
        defer { PathSwap.removeTree(root) }
        try await OwnThread.run {
            try Self.extract(manifest, from: store, reader: BackupReader(identities: identities), into: root)
        }
        for target in targets {
            guard let url = target.postgres,
                  let source = manifest.sources.first(where: { $0.kind == "postgres" && $0.location == target.source.description })
            else { continue }
            let dump = root + "/" + source.archivePath
            try await OwnThread.run { try PostgresTools.restore(from: try FileSource(path: dump), into: url) }
        }
    }

    // MARK: Targets and staging

    /// Matches each source in the manifest with where it goes back (the configured source with the same
    /// description, which carries the database password; else the manifest's own location).
    func resolveTargets(_ manifest: BackupManifest, toDirectory: String?) async throws -> [RestoreTarget] {
        var targets: [RestoreTarget] = []
        for recorded in manifest.sources {
            let configured = backup.settings.sources.first { $0.description == recorded.location }
            let source: BackupSource
            if let configured {
                source = configured
            } else {
                // The manifest keeps no password (`user:***@`): the tools then take PGPASSWORD or ~/.pgpass.
                let location = recorded.location.replacing(":\(Redactor.mask)@", with: "@")
                do { source = try BackupSource(parsing: location) } catch {
                    throw BackupError.unsupported("backup \(manifest.id) lists a source this opskit cannot read: \(recorded.location)")
                }
            }
            switch source {
            case .directory(let path):
                targets.append(RestoreTarget(kind: .tree, source: source, archivePath: recorded.archivePath, livePath: path))
            case .sqlite(let path):
                targets.append(RestoreTarget(kind: .sqlite, source: source, archivePath: recorded.archivePath, livePath: path))
            case .volume(let name):
                var live: String?
                if toDirectory == nil {
                    guard let mountpoint = try await backup.docker.volumeMountpoint(name) else {
                        throw BackupError.unsupported("Docker has no volume \(name) to restore into: create it (docker volume create \(name)) or use --to DIR")
                    }
                    live = mountpoint
                }
                targets.append(RestoreTarget(kind: .tree, source: source, archivePath: recorded.archivePath, livePath: live))
            case .postgres(let text):
                let url = try PostgresURL(parsing: text)
                targets.append(RestoreTarget(kind: .postgres, source: source, archivePath: recorded.archivePath,
                                             livePath: nil, postgres: url))
            }
        }
        return targets
    }

    /// Where the archive is extracted: `--to DIR` itself, or a hidden directory beside the first live path
    /// (same filesystem, so the swap is a rename), or the state directory for PostgreSQL only.
    func stagingRoot(for targets: [RestoreTarget], manifest: BackupManifest, toDirectory: String?) throws -> String {
        if let toDirectory {
            if PathSwap.exists(toDirectory) {
                guard PathSwap.entries(of: toDirectory)?.isEmpty == true else { throw BackupError.targetNotEmpty(toDirectory) }
            } else {
                guard mkdir(toDirectory, 0o700) == 0 else {
                    throw BackupError.unsupported("cannot create \(toDirectory): \(String(cString: strerror(errno)))")
                }
            }
            return toDirectory
        }
        let base = targets.compactMap(\.livePath).first.map { PathSwap.parent(of: $0) } ?? backup.stateDirectory
        if !PathSwap.exists(base) {
            guard mkdir(base, 0o755) == 0 else {
                throw BackupError.unsupported("cannot create \(base): \(String(cString: strerror(errno)))")
            }
        }
        let root = base + "/.opskit-restore-\(manifest.id)"
        PathSwap.removeTree(root) // a leftover of an interrupted restore of the same backup
        guard mkdir(root, 0o700) == 0 else {
            throw BackupError.unsupported("cannot create the staging directory \(root): \(String(cString: strerror(errno))); nothing was touched")
        }
        return root
    }

    func stagedName(_ target: RestoreTarget) -> String { target.archivePath }

    private typealias SyncFS = @convention(c) (Int32) -> Int32

    /// `syncfs(2)` on the filesystem holding `path` (hidden by Glibc's module map; looked up at run time).
    static func syncFilesystem(of path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") {
            _ = unsafeBitCast(symbol, to: SyncFS.self)(fd)
        } else {
            sync()
        }
    }

    /// The staged copy, moved beside the live path when the staging root is on another filesystem.
    func placeBeside(_ live: String, staged: String, id: BackupID) throws -> String {
        let parent = PathSwap.parent(of: live)
        if let a = PathSwap.device(of: parent), let b = PathSwap.device(of: staged), a == b { return staged }
        let beside = parent + "/." + PathSwap.baseName(of: live) + ".opskit-restore-\(id)"
        PathSwap.removeTree(beside)
        try TreeCopy.copy(from: staged, to: beside)
        return beside
    }

    /// Decrypts, decompresses and extracts a backup into `root`; PostgreSQL dump parts are joined into one
    /// file per database. The checksum is checked to the last byte.
    static func extract(_ manifest: BackupManifest, from store: BackupStore, reader: BackupReader, into root: String) throws {
        let stream = try reader.openArchive(manifest, in: store)
        let dumps = Set(manifest.sources.filter { $0.kind == "postgres" }.map(\.archivePath))
        var openDumps: [String: FileSink] = [:]
        for dump in dumps {
            let path = root + "/" + dump
            try TreeCopy.makeParents(of: path)
            openDumps[dump] = try FileSink(path: path)
        }
        do {
            // Our own backup: its symlinks come back as they were, absolute ones too.
            _ = try TarReader(source: stream.source).extract(into: root, symlinks: .asArchived) { entry in
                if let dot = entry.path.ranges(of: ".part-").last {
                    let base = String(entry.path[..<dot.lowerBound])
                    if let sink = openDumps[base] { return .stream(sink) }
                }
                return .extract
            }
            try stream.finish()
            for sink in openDumps.values { try sink.finish() }
        } catch {
            stream.cancel()
            throw error
        }
    }

    /// SQLite integrity check, pg_restore --list; a directory is as complete as its tar was.
    func check(_ target: RestoreTarget, stagedIn root: String) async throws {
        let path = root + "/" + target.archivePath
        switch target.kind {
        case .tree:
            guard PathSwap.exists(path) else {
                throw BackupError.stagedCheckFailed(source: target.source.description, why: "the archive has no \(target.archivePath)")
            }
        case .sqlite:
            let problems = try await OwnThread.run { try SQLiteDatabase.integrityCheck(path: path) }
            guard problems.isEmpty else {
                throw BackupError.stagedCheckFailed(source: target.source.description,
                                                    why: "integrity_check: " + problems.prefix(3).joined(separator: "; "))
            }
        case .postgres:
            let entries = try await OwnThread.run { try PostgresTools.list(from: try FileSource(path: path)) }
            logger.debug("pg_restore --list: \(entries.count) entries in \(target.archivePath)")
        }
    }
}
