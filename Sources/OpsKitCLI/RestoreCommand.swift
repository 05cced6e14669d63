import ArgumentParser
import Backup
import FoundationEssentials
import OpsCore
import Shell

/// `restore`: put a backup back, verified first, swapped atomically, and swapped back on any failure.
struct RestoreCommand: OpsKitTool {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup: verify first, stage beside the data, swap atomically, swap back on failure.",
        discussion: """
        Without an id, lists the backups. With one (or `latest`): the object's checksum is checked before anything is
        touched, then it is decrypted and extracted into a staging directory beside the live data (absolute paths,
        `..` and links leading outside are refused), checked (SQLite integrity_check, pg_restore --list), a safety
        backup of the current data is taken, the configured containers are stopped, the directories are swapped
        atomically, PostgreSQL is restored in one transaction, the containers are started and the health URL is
        checked. On any failure everything is swapped back and restore says what is live.

        EXIT CODES: 0 restored (or listed)   1 not restored (what is live is printed)   2 bad arguments/config

        EXAMPLES:
          restore                                              # list the backups
          restore latest --yes                                 # last night's backup, no questions (runbooks, CI)
          restore backup-20260120-020000 --identity /root/.config/opskit/backup.key
          restore latest --to /tmp/inspect                     # somewhere else; live data untouched
          restore pre-migration --dry-run                      # what would be replaced
        """
    )

    @Argument(help: ArgumentHelp("Backup id, a name like pre-migration (its newest), or latest.", valueName: "id"))
    var reference: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("Store: a directory or s3://bucket/prefix.", valueName: "store"))
    var store: String?

    @Option(name: .customLong("to"), help: ArgumentHelp("Restore into this new or empty directory instead.", valueName: "dir"))
    var toDirectory: String?

    @Option(name: .customLong("identity"), help: ArgumentHelp("age identity file for encrypted backups.", valueName: "file"))
    var identities: [String] = []

    @Flag(help: "List the backups.")
    var list = false

    @Flag(name: .customLong("no-safety-backup"), help: "Do not back up the current data first.")
    var noSafetyBackup = false

    @OptionGroup var change: ChangeOptions
    @OptionGroup var output: OutputOptions

    mutating func execute() async -> Int32 {
        var overrides = BackupSettings.Overrides()
        overrides.store = store
        overrides.identityFiles = identities
        guard let session = await BackupSession.start(Self.self, output: output, overrides: overrides,
                                                      requireSources: false, progress: false)
        else { return Self.usageExitCode }
        let job = session.job
        do {
            guard let reference, !list else {
                BackupSession.printList(try await job.list(), store: try job.openStore().description, json: output.json,
                                        now: Date())
                return 0
            }
            if toDirectory == nil && !change.dryRun {
                let question = "replace the live data with backup \(reference)"
                    + (noSafetyBackup ? " (no safety backup)" : " (a safety backup is taken first)")
                do {
                    guard try Prompt(assumeYes: change.yes).confirm(question) else {
                        writeStderr("restore: not confirmed; nothing was changed\n")
                        return 1
                    }
                } catch {
                    writeStderr("restore: \(error); nothing was changed\n")
                    return 1
                }
            }
            let request = RestoreRequest(reference: reference, toDirectory: toDirectory, dryRun: change.dryRun,
                                         safetyBackup: !noSafetyBackup)
            let outcome = try await RestoreJob(backup: job).restore(request)
            if output.json {
                writeStdout(DeploySession.json(Done(
                    status: outcome.dryRun ? "dry-run" : "restored", backup: BackupSession.listed(outcome.manifest),
                    restored: outcome.items.map { Item(source: $0.source, path: $0.path) },
                    safetyBackup: outcome.safetyBackup?.description)))
            } else if outcome.dryRun {
                var lines = ["would restore \(outcome.manifest.id) (\(BackupSession.bytes(outcome.manifest.sizeBytes))):"]
                lines += outcome.items.map { "  \($0.source) → \($0.path)" }
                writeStdout(lines.joined(separator: "\n"))
                writeStderr("dry run: nothing was changed\n")
            } else if !output.quiet {
                var lines = ["restored \(outcome.manifest.id):"]
                lines += outcome.items.map { "  \($0.source) → \($0.path)" }
                if let safety = outcome.safetyBackup { lines.append("the previous data is in safety backup \(safety)") }
                writeStdout(lines.joined(separator: "\n"))
            }
            return 0
        } catch {
            return BackupSession.fail("restore", error, json: output.json)
        }
    }

    struct Item: Encodable {
        let source: String
        let path: String
    }

    struct Done: Encodable {
        let status: String
        let backup: BackupSession.Listed
        let restored: [Item]
        let safetyBackup: String?
    }
}
