import Backup
import OpsCore
import Testing

@Suite struct BackupSettingsTests {
    func config(_ yaml: String) throws -> OpsConfig {
        OpsConfig(root: try YAMLSubset.parse(yaml, file: "opskit.yml"), path: "opskit.yml")
    }

    @Test func sourceSpecsParseAndRefuseWhatTheyCannotBe() throws {
        #expect(try BackupSource(parsing: "dir:/opt/app/data/lancedb/") == .directory("/opt/app/data/lancedb"))
        #expect(try BackupSource(parsing: "sqlite:/app/data/bot.db") == .sqlite("/app/data/bot.db"))
        #expect(try BackupSource(parsing: "volume:pgdata") == .volume("pgdata"))
        #expect(try BackupSource(parsing: "postgresql://u:pw@db:5432/shop") == .postgres("postgresql://u:pw@db:5432/shop"))
        #expect(try BackupSource(parsing: "postgres://u:hunter2@db/shop").description == "postgres://u:***@db/shop")
        for bad in ["/opt/app", "dir:relative", "dir:/a/../b", "volume:bad name", "ftp://x", ""] {
            #expect(throws: BackupSettingsError.self, "\(bad)") { try BackupSource(parsing: bad) }
        }
        let error = try #require(throws: BackupSettingsError.self) { try BackupSource(parsing: "/opt/app") }
        #expect(error.description.contains("dir:/opt/app or sqlite:/opt/app"))
    }

    @Test func archivePathsAreDistinctPerSource() {
        let sources: [BackupSource] = [.directory("/a/data"), .directory("/b/data"), .sqlite("/x/bot.db"),
                                       .postgres("postgres://u@h/shop"), .postgres("postgres://u@other/shop"), .volume("v")]
        #expect(sources.archivePaths() == ["files/data", "files/data-2", "sqlite/bot.db", "postgres/shop.dump",
                                           "postgres/shop-2.dump", "volumes/v"])
    }

    @Test func settingsComeFromFlagsThenEnvironmentThenFileThenDefaults() throws {
        let file = try config("""
            app: memoryloop
            backup:
              sources: [dir:/opt/memoryloop/data/lancedb, sqlite:/opt/memoryloop/data/bot.db]
              compression: gzip
              level: 9
              keep: {daily: 3, weekly: 2}
              stop_containers: [worker]
              deadman: https://hc-ping.com/abc
            """)
        let fromFile = try BackupSettings.resolve(config: file, overrides: .init(), environment: [:])
        #expect(fromFile.app == "memoryloop")
        #expect(fromFile.sources.count == 2)
        #expect(fromFile.store == .directory("/opt/memoryloop/backups"))
        #expect(fromFile.compression == .gzip && fromFile.level == 9)
        #expect(fromFile.retention == RetentionPolicy(keepDaily: 3, keepWeekly: 2))
        #expect(fromFile.stopContainers == ["worker"])

        // The scripts' B2 variables pick the bucket; the endpoint's region is used for signing.
        let b2 = try BackupSettings.resolve(config: file, overrides: .init(),
                                            environment: ["B2_BUCKET": "ml-backups", "B2_ENDPOINT": "https://s3.us-west-002.backblazeb2.com"])
        #expect(b2.store == .s3(bucket: "ml-backups", prefix: "", endpoint: "https://s3.us-west-002.backblazeb2.com",
                                region: "us-west-002", partSize: 16 << 20))

        var flags = BackupSettings.Overrides()
        flags.sources = ["volume:pgdata"]
        flags.store = "s3://bucket-name/nightly/"
        flags.compression = "zstd"
        flags.level = nil
        flags.keepLast = 5
        let fromFlags = try BackupSettings.resolve(config: file, overrides: flags, environment: ["AWS_REGION": "eu-west-1"])
        #expect(fromFlags.sources == [.volume("pgdata")])
        #expect(fromFlags.store == .s3(bucket: "bucket-name", prefix: "nightly", endpoint: nil, region: "eu-west-1", partSize: 16 << 20))
        // Flags state the whole policy.
        #expect(fromFlags.retention == RetentionPolicy(keepLast: 5))
    }

    @Test func badSettingsNameTheKey() throws {
        let typo = try config("app: a\nbackup:\n  sourcse: [dir:/x]\n")
        let e1 = try #require(throws: BackupSettingsError.self) {
            try BackupSettings.resolve(config: typo, overrides: .init(), environment: [:])
        }
        #expect(e1.description.contains("backup.sourcse") && e1.description.contains("sources"))

        let none = try config("app: a\n")
        let e2 = try #require(throws: BackupSettingsError.self) {
            try BackupSettings.resolve(config: none, overrides: .init(), environment: [:])
        }
        #expect(e2.description.contains("nothing to back up"))
        // Reading the store needs no sources.
        #expect(try BackupSettings.resolve(config: none, overrides: .init(), environment: [:], requireSources: false).sources.isEmpty)

        var level = BackupSettings.Overrides()
        level.sources = ["dir:/x"]
        level.level = 22
        #expect(throws: BackupSettingsError.self) { try BackupSettings.resolve(config: none, overrides: level, environment: [:]) }
        var store = BackupSettings.Overrides()
        store.sources = ["dir:/x"]
        store.store = "s3://UPPER/x"
        #expect(throws: BackupSettingsError.self) { try BackupSettings.resolve(config: none, overrides: store, environment: [:]) }
        var recipient = BackupSettings.Overrides()
        recipient.sources = ["dir:/x"]
        recipient.recipients = ["ssh-ed25519 AAAA"]
        #expect(throws: BackupSettingsError.self) { try BackupSettings.resolve(config: none, overrides: recipient, environment: [:]) }
    }
}
