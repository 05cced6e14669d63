import ArgumentParser
import Backup
import FoundationEssentials
import OpsCore
import Shell

/// `backup-db`: a streaming, encrypted, verified backup that exists only when it is whole.
struct BackupCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "backup-db",
        abstract: "Back up directories, SQLite, PostgreSQL and Docker volumes in one verified, streaming pass.",
        discussion: """
        Sources and the store come from the backup: section of opskit.yml (see docs/backup.md) or the flags. One
        pass: tar → zstd (or gzip) → age encryption (optional) → SHA-256 → the store (a directory, default
        /opt/<app>/backups, or s3://bucket/prefix). The manifest is written last: until then the backup does not
        exist, and what a killed run left behind is removed by the next one. After a backup the retention policy
        is applied (default: keep 7 daily, like backup-db.sh).

        EXIT CODES: 0 done   1 failed (nothing half-written remains; the reason is printed)   2 bad arguments/config

        EXAMPLES:
          backup-db                                            # cron: 0 2 * * * /opt/opskit/bin/backup-db --quiet
          backup-db pre-migration --permanent                  # a named manual backup that is never pruned
          backup-db --source sqlite:/app/data/bot.db --source dir:/opt/app/data/lancedb --to /srv/backups
          backup-db --to s3://my-bucket/app --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          backup-db --list                                     # id, size, age, encrypted, permanent, verified
          backup-db --verify latest --identity ~/.config/opskit/backup.key
          backup-db --prune --keep-daily 7 --keep-weekly 4 --dry-run
        """
    )

    @Argument(help: ArgumentHelp("Name for a manual backup (id NAME-YYYYMMDD-HHMMSS; default backup).", valueName: "name"))
    var name: String?

    @Option(name: .customLong("source"), help: ArgumentHelp(
        "What to back up (repeatable; replaces backup.sources): dir:PATH, sqlite:PATH, postgres://…, volume:NAME.",
        valueName: "spec"))
    var sources: [String] = []

    @Option(name: .customLong("to"), help: ArgumentHelp("Store: a directory or s3://bucket/prefix.", valueName: "store"))
    var store: String?

    @Option(help: ArgumentHelp("zstd (default), gzip or none.", valueName: "kind"))
    var compression: String?

    @Option(help: ArgumentHelp("Compression level (zstd 1–19, default 3; gzip 1–9).", valueName: "n"))
    var level: Int?

    @Option(name: .customLong("encrypt-to"), help: ArgumentHelp("age recipient (age1…) to encrypt to (repeatable).",
                                                               valueName: "recipient"))
    var recipients: [String] = []

    @Option(name: .customLong("identity"), help: ArgumentHelp("age identity file, for --verify of encrypted backups.",
                                                              valueName: "file"))
    var identities: [String] = []

    @Option(name: .customLong("keep-last"), help: ArgumentHelp("Keep the N newest backups.", valueName: "n"))
    var keepLast: Int?
    @Option(name: .customLong("keep-daily"), help: ArgumentHelp("Keep the newest backup of each of N days.", valueName: "n"))
    var keepDaily: Int?
    @Option(name: .customLong("keep-weekly"), help: ArgumentHelp("… of each of N ISO weeks.", valueName: "n"))
    var keepWeekly: Int?
    @Option(name: .customLong("keep-monthly"), help: ArgumentHelp("… of each of N months.", valueName: "n"))
    var keepMonthly: Int?

    @Flag(help: "Never prune this backup.")
    var permanent = false

    @Flag(help: "Apply the retention policy now, without a new backup.")
    var prune = false

    @Flag(help: "List the complete backups.")
    var list = false

    @Option(help: ArgumentHelp("Re-read a backup and check it (checksum; with an identity also decryption and tar).",
                               valueName: "id|latest"))
    var verify: String?

    @Flag(name: .long, help: "Say what would be backed up or pruned, and change nothing.")
    var dryRun = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        let modes = [list, prune, verify != nil].filter { $0 }.count
        if modes > 1 { throw ValidationError("--list, --prune and --verify exclude each other") }
        if modes == 1 && name != nil { throw ValidationError("a backup name goes with making a backup, not with --list/--prune/--verify") }
        for (flag, value) in [("--keep-last", keepLast), ("--keep-daily", keepDaily), ("--keep-weekly", keepWeekly),
                              ("--keep-monthly", keepMonthly)] {
            if let value, value < 0 { throw ValidationError("\(flag) must be 0 or more") }
        }
    }

    var overrides: BackupSettings.Overrides {
        var o = BackupSettings.Overrides()
        o.sources = sources
        o.store = store
        o.compression = compression
        o.level = level
        o.recipients = recipients
        o.identityFiles = identities
        o.keepLast = keepLast
        o.keepDaily = keepDaily
        o.keepWeekly = keepWeekly
        o.keepMonthly = keepMonthly
        return o
    }

    mutating func execute() async -> Int32 {
        let makesBackup = !list && !prune && verify == nil
        guard let session = await BackupSession.start(Self.self, output: output, overrides: overrides,
                                                      requireSources: makesBackup, progress: makesBackup)
        else { return Self.usageExitCode }
        let job = session.job
        let tool = "backup-db"
        do {
            if list {
                let manifests = try await job.list()
                BackupSession.printList(manifests, store: try job.openStore().description, json: output.json, now: Date())
                return 0
            }
            if let verify {
                let (manifest, summary) = try await job.verify(verify)
                if output.json {
                    writeStdout(DeploySession.json(Verified(status: "verified", backup: BackupSession.listed(manifest),
                                                            fullCheck: summary != nil, entries: summary?.entries)))
                } else if !output.quiet {
                    let steps = manifest.encrypted ? "checksum, decryption, decompression" : "checksum, decompression"
                    let depth = summary.map { ": \(steps) and all \($0.entries) tar entries" }
                        ?? ": checksum only (encrypted; give --identity to also check decryption and the archive)"
                    writeStdout("backup \(manifest.id) is intact\(depth)")
                }
                return 0
            }
            if prune {
                let (removed, kept) = try await job.prune(dryRun: dryRun)
                if output.json {
                    writeStdout(DeploySession.json(Pruned(dryRun: dryRun, removed: removed.map(\.description),
                                                          kept: kept.map(\.candidate.id.description))))
                } else if !output.quiet || dryRun {
                    let verb = dryRun ? "would remove" : "removed"
                    var lines = removed.map { "\(verb) \($0)" }
                    lines += kept.map { "keep \($0.candidate.id) (\($0.reasons.joined(separator: ", ")))" }
                    if removed.isEmpty { lines.append("nothing to prune") }
                    writeStdout(lines.joined(separator: "\n"))
                    if dryRun { writeStderr("dry run: nothing was deleted\n") }
                }
                return 0
            }
            if dryRun {
                let plan = try await job.plan(name: name)
                if output.json {
                    writeStdout(DeploySession.json(Planned(dryRun: true, id: plan.id.description, object: plan.object,
                                                           store: plan.store, sources: plan.sources.map(\.source.description),
                                                           wouldPrune: plan.wouldPrune.map(\.description))))
                } else {
                    var lines = ["would write \(plan.object) to \(plan.store) from:"]
                    lines += plan.sources.map { "  \($0.source) → \($0.archivePath)" }
                    lines += plan.wouldPrune.map { "then prune \($0)" }
                    writeStdout(lines.joined(separator: "\n"))
                    writeStderr("dry run: nothing was written\n")
                }
                return 0
            }
            let outcome = try await job.backup(name: name, permanent: permanent)
            ProgressMeter.clearLine()
            if output.json {
                writeStdout(DeploySession.json(Done(status: "ok", backup: BackupSession.listed(outcome.manifest),
                                                    sourceBytes: outcome.sourceBytes,
                                                    seconds: Self.seconds(outcome.duration),
                                                    pruned: outcome.pruned.map(\.description))))
            } else if !output.quiet {
                let m = outcome.manifest
                let secs = Self.seconds(outcome.duration)
                let rate = secs > 0 ? " (\(BackupSession.bytes(Int(Double(outcome.sourceBytes) / secs)))/s)" : ""
                var line = "backup \(m.id) stored in \(try job.openStore().description): \(BackupSession.bytes(m.sizeBytes))"
                    + " from \(BackupSession.bytes(outcome.sourceBytes)) in \(Self.format(secs)) s\(rate)"
                    + (m.encrypted ? ", encrypted" : "")
                if !outcome.pruned.isEmpty { line += "; pruned \(outcome.pruned.map(\.description).joined(separator: ", "))" }
                writeStdout(line)
            }
            return 0
        } catch {
            return BackupSession.fail(tool, error, json: output.json)
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func format(_ s: Double) -> String { String((s * 10).rounded() / 10) }

    struct Verified: Encodable {
        let status: String
        let backup: BackupSession.Listed
        let fullCheck: Bool
        let entries: Int?
    }

    struct Pruned: Encodable {
        let dryRun: Bool
        let removed: [String]
        let kept: [String]
    }

    struct Planned: Encodable {
        let dryRun: Bool
        let id: String
        let object: String
        let store: String
        let sources: [String]
        let wouldPrune: [String]
    }

    struct Done: Encodable {
        let status: String
        let backup: BackupSession.Listed
        let sourceBytes: Int
        let seconds: Double
        let pruned: [String]
    }
}
