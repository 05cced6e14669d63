#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import Testing
import TestSupport

/// `backup-db`/`restore` against S3 (moto, signatures checked), PostgreSQL, and a Docker volume with a
/// container stopped for the copy.
@Suite(.serialized) struct BackupStoresCLITests {
    @Test func encryptedBackupToS3IsWhatTheAWSCLIDownloadsAndRestores() async throws {
        let s3 = try await MotoS3.shared
        let bucket = "opskit-cli-\(getpid())"
        _ = try await s3.aws(["s3", "mb", "s3://\(bucket)"])
        let f = try await BackupFixture.make(store: "s3://\(bucket)/nightly")
        defer { f.remove() }
        let key = f.root.file("backup.key")
        try await BackupFixture.sh("age-keygen -o '\(key)' 2>/dev/null")
        let recipient = try await BackupFixture.sh("age-keygen -y '\(key)'").trimmingCharacters()
        let env: [String: String?] = [
            "AWS_ACCESS_KEY_ID": s3.accessKeyID, "AWS_SECRET_ACCESS_KEY": s3.secretAccessKey,
            "AWS_ENDPOINT_URL": s3.endpoint, "AWS_REGION": s3.region,
        ]

        let backup = try await f.run("backup-db", ["--encrypt-to", recipient, "--json"], environment: env)
        #expect(backup.exitCode == 0, "\(backup.stderr)")
        #expect(!backup.stdout.contains(s3.secretAccessKey) && !backup.stderr.contains(s3.secretAccessKey))
        let done = try #require(JSONValue.parse(Array(backup.stdout.utf8)))
        let object = try #require(done["backup"]?["object"]?.stringValue)
        let sha = try #require(done["backup"]?["sha256"]?.stringValue)

        // The independent client downloads exactly what the manifest describes, and age + zstd + tar open it.
        let download = f.root.file("download.age")
        _ = try await s3.aws(["s3", "cp", "s3://\(bucket)/nightly/\(object)", download])
        #expect(try await BackupFixture.sh("sha256sum '\(download)' | cut -d' ' -f1").trimmingCharacters() == sha)
        let listing = try await BackupFixture.sh("age -d -i '\(key)' '\(download)' | zstd -d | tar -tf -")
        #expect(listing.contains("sqlite/bot.db"))

        let target = f.root.file("restored")
        let restore = try await f.run("restore", ["latest", "--to", target, "--identity", key], environment: env)
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        #expect(try await BackupFixture.fingerprint(target + "/files/files") == BackupFixture.fingerprint(f.data))

        // A wrong secret: the signature is refused, said in one line, the secret never printed; nothing stored.
        var bad = env
        bad["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-value-1234567890"
        let refused = try await f.run("backup-db", [], environment: bad)
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("signature"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("wrong-secret-value"))
        // A bucket that does not exist.
        let missing = try await f.run("backup-db", ["--to", "s3://no-such-bucket-\(getpid())/x"], environment: env)
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("does not exist"), "\(missing.stderr)")
        #expect(try await f.run("backup-db", ["--list", "--json"], environment: env).stdout.contains(object))
    }

    @Test func postgresIsDumpedStreamedAndRestoredInOneTransaction() async throws {
        let pg = try await PostgresServer.shared
        let database = try await pg.createDatabase()
        try await pg.psql(database: database, """
            CREATE TABLE orders(id serial PRIMARY KEY, item text, qty int);
            INSERT INTO orders(item, qty) SELECT 'item ' || g, g % 7 FROM generate_series(1, 20000) g;
            """)
        let url = pg.url(database: database)
        let f = try await BackupFixture.make()
        defer { f.remove() }
        let backup = try await f.run("backup-db", "--source", url, "--json")
        #expect(backup.exitCode == 0, "\(backup.stderr)")
        #expect(!backup.stdout.contains(pg.password) && !backup.stderr.contains(pg.password))

        try await pg.psql(database: database, "DELETE FROM orders WHERE id > 100; UPDATE orders SET qty = -1;")
        // The manifest keeps no password: restore takes it from PGPASSWORD (or ~/.pgpass, or opskit.yml's URL).
        let restore = try await f.run("restore", ["latest", "--yes", "--no-safety-backup"],
                                      environment: ["PGPASSWORD": pg.password])
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        let count = try await pg.psql(database: database, "SELECT count(*), sum(qty) FROM orders;")
        #expect(count.contains("20000"), "\(count)")

        // Restored elsewhere, the dump is one file pg_restore reads.
        let target = f.root.file("restored")
        #expect(try await f.run("restore", "latest", "--to", target).exitCode == 0)
        let toc = try await BackupFixture.sh("pg_restore --list '\(target)/postgres/\(database).dump'")
        #expect(toc.contains("TABLE public orders"), "\(toc)")

        // A server that is down: one clear line, nothing written.
        let down = try await f.run("backup-db", "--source", "postgres://opskit@127.0.0.1:1/\(database)")
        #expect(down.exitCode == 1 && down.stderr.contains("does not answer"), "\(down.stderr)")
    }
}

/// With the Docker deploy suites, one at a time: containers and volumes on the shared engine.
extension DockerDeploySuites {
    @Suite(.serialized) struct BackupVolumeTests {
        @Test func dockerVolumeIsBackedUpWithItsContainerStoppedAndStartedAgain() async throws {
            try await DockerFixture.ensure()
            let name = "opskit-vol-\(getpid())"
            let runner = Runner()
            _ = try await runner.capture(Command("docker", "volume", "create", name))
            _ = try await runner.capture(Command("docker", "run", "--rm", "-v", "\(name):/data", "opskit-test/app:v1",
                                                 "sh", "-c", "echo precious > /data/file.txt && mkdir /data/sub && echo x > /data/sub/y"))
            _ = try await runner.capture(Command("docker", "run", "-d", "--name", name, "-v", "\(name):/data",
                                                 "opskit-test/app:v1", "sleep", "3600"))
            let f = try await BackupFixture.make(extraConfig: "  stop_containers: [\(name)]")
            defer { f.remove() }
            do {
                try await backUpAndRestore(volume: name, fixture: f, runner: runner)
            } catch {
                await removeContainerAndVolume(name)
                throw error
            }
            // Awaited, not a detached Task: the test process may exit before a detached clean-up runs.
            await removeContainerAndVolume(name)
        }

        func removeContainerAndVolume(_ name: String) async {
            _ = try? await Runner().capture(Command("docker", "rm", "-f", name))
            _ = try? await Runner().capture(Command("docker", "volume", "rm", "-f", name))
        }

        func backUpAndRestore(volume name: String, fixture f: BackupFixture, runner: Runner) async throws {
            let backup = try await f.run("backup-db", "--source", "volume:\(name)", "--verbose")
            #expect(backup.exitCode == 0, "\(backup.stderr)")
            #expect(backup.stderr.contains("stopping \(name)"), "\(backup.stderr)")
            let state = try await runner.capture(Command("docker", "inspect", "-f", "{{.State.Running}}", name)).stdoutText
            #expect(state == "true")

            _ = try await runner.capture(Command("docker", "exec", name, "sh", "-c", "echo overwritten > /data/file.txt"))
            let restore = try await f.run("restore", "latest", "--yes")
            #expect(restore.exitCode == 0, "\(restore.stderr)")
            let content = try await runner.capture(Command("docker", "exec", name, "cat", "/data/file.txt")).stdoutText
            #expect(content == "precious")
            #expect(try await runner.capture(Command("docker", "inspect", "-f", "{{.State.Running}}", name)).stdoutText == "true")
        }
    }
}
