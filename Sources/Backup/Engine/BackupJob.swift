#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
import OpsCore
import Shell

/// What a finished backup run did.
public struct BackupOutcome: Sendable {
    public var manifest: BackupManifest
    public var sourceBytes: Int
    public var duration: Duration
    public var pruned: [BackupID]
    public var leftoversRemoved: [String]
}

/// What `--dry-run` would do.
public struct BackupPlan: Sendable {
    public var id: BackupID
    public var object: String
    public var sources: [PlannedSource]
    public var store: String
    public var wouldPrune: [BackupID]
}

/// One `backup-db` run from start to end: lock, clean up leftovers, check sources, stop containers, write,
/// start containers, prune, and tell whoever needs to know (webhooks, dead-man pings, failure counter).
public struct BackupJob: Sendable {
    public var settings: BackupSettings
    public var environment: [String: String]
    public var stateDirectory: String
    public var logger: Logger
    public var docker: Docker
    public var now: @Sendable () -> Date
    public var progress: (@Sendable (Int) -> Void)?
    public var host: String

    public init(settings: BackupSettings, environment: [String: String], stateDirectory: String, logger: Logger,
                docker: Docker = Docker(target: .local), now: @escaping @Sendable () -> Date = { Date() },
                progress: (@Sendable (Int) -> Void)? = nil) {
        self.settings = settings
        self.environment = environment
        self.stateDirectory = stateDirectory
        self.logger = logger
        self.docker = docker
        self.now = now
        self.progress = progress
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        host = String(cString: name)
    }

    var lockPath: String { stateDirectory + "/backup.lock" }

    public func openStore() throws -> BackupStore {
        try StoreFactory.open(settings.store, environment: environment)
    }

    /// Takes the app's backup lock (shared with restore) for the duration of `body`.
    func locked<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let lock = try await FileLock.acquire(at: lockPath, command: what)
        if let stale = lock.takenOverFrom { logger.warning("took over a stale lock left by \(stale)") }
        do {
            let value = try await body()
            try? lock.release()
            return value
        } catch {
            try? lock.release()
            throw error
        }
    }

    // MARK: Backup

    /// Validates a manual backup's name (`pre-migration`).
    public static func checkName(_ name: String) throws(BackupError) {
        guard !name.isEmpty, name.count <= 64,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
              name.first?.isLetter == true else {
            throw .unsupported("backup name `\(name)` is not usable: start with a letter, then letters, digits, - or _ (at most 64)")
        }
    }

    /// Makes one backup. Alerts and pings happen here, whatever the outcome.
    public func backup(name: String?, permanent: Bool, prune: Bool = true) async throws -> BackupOutcome {
        let alerts = BackupAlerts(webhooks: settings.webhooks, deadManURL: settings.deadManURL, app: settings.app)
        let counter = FailureCounter(stateDirectory: stateDirectory)
        await alerts.ping(.start, logger: logger)
        do {
            let outcome = try await locked("backup-db \(name ?? "")") {
                try await backupLocked(name: name, permanent: permanent, prune: prune)
            }
            let before = counter.recordSuccess(at: now())
            await alerts.ping(.success, message: "\(outcome.manifest.id) \(outcome.manifest.sizeBytes) bytes", logger: logger)
            await alerts.backupRecovered(id: outcome.manifest.id.description, failuresBefore: before, host: host, logger: logger)
            return outcome
        } catch {
            let text = String(describing: error)
            let record = counter.recordFailure(text, at: now())
            await alerts.ping(.fail, message: text, logger: logger)
            await alerts.backupFailed(text, record: record, host: host, logger: logger)
            throw error
        }
    }

    /// The backup itself, under the lock: no alerts (a safety backup before a restore uses this too).
    func backupLocked(name: String?, permanent: Bool, prune: Bool) async throws -> BackupOutcome {
        if let name { try Self.checkName(name) }
        let clock = ContinuousClock()
        let started = clock.now
        let store = try openStore()
        let leftovers = try await OwnThread.run { try store.removeLeftovers() }
        for item in leftovers { logger.warning("removed \(item), left incomplete by an interrupted run") }

        let sources = try await prepare(settings.sources)
        let recipients = try settings.recipients.map { try AgeRecipient(parsing: $0) }
        let createdAt = now()
        var id = BackupID(name: name ?? "backup", at: createdAt)
        let existing = try await OwnThread.run { try store.list() }
        if existing.contains(where: { $0.id == id }) {
            // Two runs in the same second: never overwrite, take the next second.
            id = BackupID(name: name ?? "backup", at: createdAt.addingTimeInterval(1))
        }
        let sourceBytes = SourceByteCounter()
        let report = progress
        let writer = BackupWriter(compression: settings.compression, level: settings.level, recipients: recipients,
                                  scratchDirectory: stateDirectory, progress: { bytes in
                                      sourceBytes.set(bytes)
                                      report?(bytes)
                                  })

        let stopped = try await stopContainers()
        let manifest: BackupManifest
        do {
            manifest = try await OwnThread.run { [id] in
                try writer.write(id: id, createdAt: createdAt, sources: sources, permanent: permanent, to: store)
            }
        } catch {
            await startContainers(stopped)
            throw error
        }
        await startContainers(stopped)
        logger.info("backup \(manifest.id) stored in \(store.description): \(manifest.sizeBytes) bytes, sha256 \(manifest.sha256.prefix(12))…")

        var pruned: [BackupID] = []
        if prune {
            pruned = try await pruneLocked(store: store, dryRun: false).removed
        }
        return BackupOutcome(manifest: manifest, sourceBytes: sourceBytes.value, duration: clock.now - started,
                             pruned: pruned, leftoversRemoved: leftovers)
    }

    /// What a run would do, touching nothing.
    public func plan(name: String?) async throws -> BackupPlan {
        if let name { try Self.checkName(name) }
        let sources = try await prepare(settings.sources)
        let recipients = try settings.recipients.map { try AgeRecipient(parsing: $0) }
        let id = BackupID(name: name ?? "backup", at: now())
        let writer = BackupWriter(compression: settings.compression, level: settings.level, recipients: recipients,
                                  scratchDirectory: stateDirectory)
        let store = try openStore()
        let manifests = try await OwnThread.run { try store.list() }
        var candidates = manifests.map { RetentionCandidate(id: $0.id, createdAt: $0.createdAt, permanent: $0.permanent) }
        candidates.append(RetentionCandidate(id: id, createdAt: now(), permanent: false))
        let decision = try Backup.plan(candidates, policy: settings.retention)
        return BackupPlan(id: id, object: writer.objectName(for: id), sources: sources, store: store.description,
                          wouldPrune: decision.remove.map(\.id))
    }

    /// Checks every source before anything is written, so a typo fails in a second with its name.
    func prepare(_ sources: [BackupSource]) async throws -> [PlannedSource] {
        var planned: [PlannedSource] = []
        for (source, archivePath) in zip(sources, sources.archivePaths()) {
            let prepared: PreparedSource
            switch source {
            case .directory(let path):
                try Self.checkDirectory(path, source: source)
                prepared = .tree(path: path)
            case .sqlite(let path):
                var info = stat()
                guard stat(path, &info) == 0 else {
                    throw BackupError.sourceUnusable(source: source.description, why: "no such file")
                }
                guard (info.st_mode & S_IFMT) == S_IFREG else {
                    throw BackupError.sourceUnusable(source: source.description, why: "not a regular file")
                }
                guard access(path, R_OK) == 0 else {
                    throw BackupError.sourceUnusable(source: source.description, why: "permission denied (run as the app's user or root)")
                }
                guard SQLiteDatabase.looksLikeDatabase(path: path) else {
                    throw BackupError.sourceUnusable(source: source.description, why: "not an SQLite database")
                }
                prepared = .sqlite(path: path)
            case .postgres(let text):
                let url = try PostgresURL(parsing: text)
                let reachable = await (try? OwnThread.run { PostgresTools.isReachable(url) }) ?? false
                guard reachable else {
                    throw BackupError.sourceUnusable(source: source.description,
                                                     why: "the database server does not answer (is PostgreSQL running, and the host/port right?)")
                }
                prepared = .postgres(url)
            case .volume(let name):
                guard let mountpoint = try await docker.volumeMountpoint(name) else {
                    throw BackupError.sourceUnusable(source: source.description, why: "Docker has no volume named \(name) (docker volume ls)")
                }
                try Self.checkDirectory(mountpoint, source: source)
                prepared = .tree(path: mountpoint)
            }
            planned.append(PlannedSource(source: source, prepared: prepared, archivePath: archivePath))
        }
        return planned
    }

    static func checkDirectory(_ path: String, source: BackupSource) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw BackupError.sourceUnusable(source: source.description, why: "no such directory") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw BackupError.sourceUnusable(source: source.description, why: "not a directory (use sqlite: for a database file)")
        }
        guard access(path, R_OK | X_OK) == 0 else {
            throw BackupError.sourceUnusable(source: source.description, why: "permission denied (run as the app's user or root)")
        }
    }

    /// Stops the configured containers that are running; returns them, to be started again.
    func stopContainers() async throws -> [String] {
        guard !settings.stopContainers.isEmpty else { return [] }
        let running = try await docker.runningContainers(settings.stopContainers)
        guard !running.isEmpty else { return [] }
        logger.info("stopping \(running.joined(separator: ", ")) for a consistent copy")
        do {
            try await docker.stop(containers: running)
        } catch {
            await startContainers(running)
            throw error
        }
        return running
    }

    /// Starts containers again; a failure is logged loudly, never hidden.
    func startContainers(_ names: [String]) async {
        guard !names.isEmpty else { return }
        do {
            try await docker.start(containers: names)
            logger.info("started \(names.joined(separator: ", ")) again")
        } catch {
            logger.error("could not start \(names.joined(separator: ", ")) again: \(error) — start them by hand: docker start \(names.joined(separator: " "))")
        }
    }

    // MARK: List, verify, prune

    public func list() async throws -> [BackupManifest] {
        let store = try openStore()
        return try await OwnThread.run { try store.list() }
    }

    /// Finds `latest` or an id (exact, or a unique prefix like `pre-migration`).
    public static func find(_ reference: String, in manifests: [BackupManifest], store: String) throws -> BackupManifest {
        let sorted = manifests.sorted { $0.id < $1.id }
        if reference == "latest" {
            guard let last = sorted.last else { throw BackupError.emptyStore(store: store) }
            return last
        }
        if let exact = sorted.first(where: { $0.id.description == reference }) { return exact }
        let matches = sorted.filter { $0.id.name == reference || $0.id.description.hasPrefix(reference) }
        if let newest = matches.last, !reference.isEmpty { return newest }
        throw BackupError.notFound(reference: reference, store: store, newest: sorted.suffix(3).map(\.id.description))
    }

    /// Re-reads a backup: always the checksum; with identities (or unencrypted), also decryption and the tar.
    public func verify(_ reference: String) async throws -> (BackupManifest, TarExtractSummary?) {
        let store = try openStore()
        let identities = try loadIdentities()
        let manifests = try await OwnThread.run { try store.list() }
        var manifest = try Self.find(reference, in: manifests, store: store.description)
        let chosen = manifest
        let summary: TarExtractSummary?
        if !chosen.encrypted || !identities.isEmpty {
            summary = try await OwnThread.run {
                try BackupReader(identities: identities).verifyFully(chosen, in: store)
            }
        } else {
            try await OwnThread.run { try BackupReader.verifyChecksum(chosen, in: store) }
            summary = nil
        }
        manifest.verifiedAt = now()
        let updated = manifest
        try await OwnThread.run { try store.updateManifest(updated) }
        return (updated, summary)
    }

    /// Applies the retention policy now.
    public func prune(dryRun: Bool) async throws -> (removed: [BackupID], kept: [RetainedBackup]) {
        let store = try openStore()
        if dryRun { return try await pruneLocked(store: store, dryRun: true) }
        return try await locked("backup-db --prune") { try await pruneLocked(store: store, dryRun: false) }
    }

    func pruneLocked(store: BackupStore, dryRun: Bool) async throws -> (removed: [BackupID], kept: [RetainedBackup]) {
        let manifests = try await OwnThread.run { try store.list() }
        guard !manifests.isEmpty else { return ([], []) }
        let candidates = manifests.map { RetentionCandidate(id: $0.id, createdAt: $0.createdAt, permanent: $0.permanent) }
        let decision = try Backup.plan(candidates, policy: settings.retention)
        var removed: [BackupID] = []
        for candidate in decision.remove {
            guard let manifest = manifests.first(where: { $0.id == candidate.id }) else { continue }
            if !dryRun {
                try await OwnThread.run { try store.delete(manifest) }
                logger.info("pruned \(manifest.id) (retention: \(Self.describe(settings.retention)))")
            }
            removed.append(candidate.id)
        }
        return (removed, decision.keep)
    }

    static func describe(_ policy: RetentionPolicy) -> String {
        var parts: [String] = []
        if policy.keepLast > 0 { parts.append("last \(policy.keepLast)") }
        if policy.keepDaily > 0 { parts.append("\(policy.keepDaily) daily") }
        if policy.keepWeekly > 0 { parts.append("\(policy.keepWeekly) weekly") }
        if policy.keepMonthly > 0 { parts.append("\(policy.keepMonthly) monthly") }
        if policy.keepYearly > 0 { parts.append("\(policy.keepYearly) yearly") }
        return parts.joined(separator: ", ")
    }

    /// The age identities from the configured files (none configured: none).
    public func loadIdentities() throws -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        for file in settings.identityFiles { identities += try AgeIdentityFile.load(path: file) }
        return identities
    }
}

/// The newest progress figure, readable from another thread.
final class SourceByteCounter: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var bytes = 0
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func set(_ value: Int) { pthread_mutex_lock(&mutex); bytes = value; pthread_mutex_unlock(&mutex) }
    var value: Int { pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }; return bytes }
}
