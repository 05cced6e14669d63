import FoundationEssentials
import OpsCore
import Shell
import Synchronization
import Testing
import TestSupport
@testable import Backup

/// S3BackupStore against a moto that checks every signature; the `aws` CLI checks what landed.
@Suite struct S3StoreTests {
    static let fastRetry = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(5), jitter: false)

    static func freshBucket(_ moto: MotoS3) async throws -> String {
        let bucket = "opskit-store-\(UInt32.random(in: 0...UInt32.max))"
        try await client(moto).createBucket(bucket)
        return bucket
    }

    static func client(_ moto: MotoS3) -> S3Client {
        S3Client(endpoint: moto.endpoint, region: moto.region,
                 credentials: AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey))
    }

    static func store(_ moto: MotoS3, bucket: String, prefix: String = "nightly", secret: String? = nil,
                      beforePart: (@Sendable (Int, Int) throws -> Void)? = nil) -> S3BackupStore {
        S3BackupStore(location: S3Location(bucket: bucket, prefix: prefix),
                      credentials: AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: secret ?? moto.secretAccessKey),
                      endpoint: moto.endpoint, region: moto.region, partSize: S3Client.minimumPartSize,
                      retry: fastRetry, logger: nil, beforePart: beforePart)
    }

    @Test func multipartBackupReadsBackWithAwsAndThroughRangedGets() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let parts = Recorder()
        let store = Self.store(moto, bucket: bucket) { part, attempt in parts.append("\(part).\(attempt)") }
        #expect(store.description == "s3://\(bucket)/nightly")
        let bytes = randomBytes(12 << 20, seed: 11)
        let manifest = try await onThread { try backUp(bytes, as: backupID(), to: store, chunk: 1 << 20) }
        #expect(parts.values == ["1.1", "2.1", "3.1"])  // 5 + 5 + 2 MiB
        #expect(manifest.sizeBytes == bytes.count)

        // The independent client: aws downloads it, sha256sum hashes it; its ETag says "3 parts".
        let temp = try TempDirectory(prefix: "opskit-s3store")
        defer { temp.remove() }
        _ = try await moto.aws(["s3", "cp", "s3://\(bucket)/nightly/\(manifest.object)", temp.file("download")])
        #expect(try sha256sum(temp.file("download")) == manifest.sha256)
        let head = try await moto.aws(["s3api", "head-object", "--bucket", bucket, "--key", "nightly/\(manifest.object)"])
        #expect(head.contains("-3\\\""))
        let manifestJSON = try await moto.aws(["s3", "cp", "s3://\(bucket)/nightly/\(manifest.fileName)", "-"])
        #expect(Array(manifestJSON.utf8) == manifest.encoded())

        #expect(try await onThread { try store.list() } == [manifest])
        let read = try await onThread { try readBack(manifest, from: store) }
        #expect(read.sha256 == manifest.sha256)
        #expect(read.bytes == bytes)

        let verified = { var m = manifest; m.verifiedAt = Date(timeIntervalSince1970: 1_768_900_000); return m }()
        try await onThread { try store.updateManifest(verified) }
        #expect(try await onThread { try store.list() } == [verified])

        try await onThread { try store.delete(verified) }
        #expect(try await onThread { try store.list() } == [])
        #expect(try await Self.client(moto).listObjects(bucket: bucket).isEmpty)
        await #expect(throws: BackupStoreError.self) { try await onThread { try store.delete(verified) } }
    }

    @Test func smallBackupIsOnePutAndCommitChecksTheSize() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let store = Self.store(moto, bucket: bucket, prefix: "")
        #expect(store.description == "s3://\(bucket)")
        let manifest = try await onThread { try upload(randomBytes(1000, seed: 12), as: backupID(), to: store) }
        #expect(try await onThread { try store.list() } == [])  // not committed: does not exist
        let wrong = { var m = manifest; m.sizeBytes = 999; return m }()
        let error = await #expect(throws: BackupStoreError.self) { try await onThread { try store.commit(wrong) } }
        guard case .incomplete(_, 999, 1000)? = error else {
            Issue.record("expected incomplete, got \(String(describing: error))")
            return
        }
        #expect(try await onThread { try store.list() } == [])
        try await onThread { try store.commit(manifest) }
        #expect(try await onThread { try store.list() } == [manifest])
        #expect(try await onThread { try readBack(manifest, from: store) }.sha256 == manifest.sha256)
        #expect(try await Self.client(moto).listObjects(bucket: bucket).map(\.key).sorted() == [manifest.fileName, manifest.object])
    }

    @Test func aFailedPartIsRetried() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let attempts = Recorder()
        let store = Self.store(moto, bucket: bucket) { part, attempt in
            attempts.append("\(part).\(attempt)")
            if part == 2 && attempt == 1 {
                throw StoreError.rejected(status: 503, code: "ServiceUnavailable", message: "injected")
            }
        }
        let bytes = randomBytes(11 << 20, seed: 13)
        let manifest = try await onThread { try backUp(bytes, as: backupID(), to: store) }
        #expect(attempts.values == ["1.1", "2.1", "2.2", "3.1"])
        #expect(try await onThread { try readBack(manifest, from: store) }.bytes == bytes)
    }

    @Test func anUploadThatKeepsFailingIsAborted() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let attempts = Recorder()
        let store = Self.store(moto, bucket: bucket) { part, attempt in
            attempts.append("\(part).\(attempt)")
            if part == 2 { throw HTTPError.timedOut(after: .seconds(300)) }
        }
        let error = await #expect(throws: BackupStoreError.self) {
            try await onThread { try backUp(randomBytes(11 << 20, seed: 14), as: backupID(), to: store) }
        }
        #expect(attempts.values == ["1.1", "2.1", "2.2", "2.3"])
        guard case .network(.timedOut, let action)? = error else {
            Issue.record("expected a network timeout, got \(String(describing: error))")
            return
        }
        #expect(action == "uploading s3://\(bucket)/nightly/\(backupID()).tar.zst.age failed, nothing from this run was kept")
        let uploads = try await moto.aws(["s3api", "list-multipart-uploads", "--bucket", bucket])
        #expect(!uploads.contains("UploadId"))
        #expect(try await Self.client(moto).listMultipartUploads(bucket: bucket).isEmpty)
        #expect(try await Self.client(moto).listObjects(bucket: bucket).isEmpty)
    }

    @Test func permanentErrorsAreNotRetried() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let attempts = Recorder()
        let store = Self.store(moto, bucket: bucket) { part, attempt in
            attempts.append("\(part).\(attempt)")
            throw StoreError.accessDenied(resource: "s3://\(bucket)/nightly")
        }
        await #expect(throws: BackupStoreError.self) {
            try await onThread { try backUp(randomBytes(6 << 20, seed: 15), as: backupID(), to: store) }
        }
        #expect(attempts.values == ["1.1"])
        #expect(try await Self.client(moto).listMultipartUploads(bucket: bucket).isEmpty)
    }

    @Test func wrongSecretSaysSoWithoutShowingAnySecret() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let secret = "wrongSecretValue1234567890abcdefghijklmno"
        let store = Self.store(moto, bucket: bucket, secret: secret)
        for operation in [{ _ = try store.list() }, { _ = try backUp([1, 2, 3], as: backupID(), to: store) }] as [@Sendable () throws -> Void] {
            let error = await #expect(throws: BackupStoreError.self) { try await onThread { try operation() } }
            guard case .s3(.signatureMismatch, _)? = error else {
                Issue.record("expected signatureMismatch, got \(String(describing: error))")
                continue
            }
            let message = error?.description ?? ""
            #expect(message.hasSuffix(": S3 rejected the request signature: check AWS_SECRET_ACCESS_KEY (or B2_APP_KEY)"))
            for text in [message, store.description, "\(store.client.signer.credentials)"] {
                #expect(!text.contains(secret))
                #expect(!text.contains(moto.secretAccessKey))
            }
        }
    }

    @Test func missingBucketIsNoSuchBucket() async throws {
        let moto = try await MotoS3.shared
        let store = Self.store(moto, bucket: "opskit-no-such-bucket")
        let error = await #expect(throws: BackupStoreError.self) { try await onThread { try store.list() } }
        guard case .s3(.noSuchBucket("opskit-no-such-bucket"), _)? = error else {
            Issue.record("expected noSuchBucket, got \(String(describing: error))")
            return
        }
        #expect(error?.description == "listing the backups in s3://opskit-no-such-bucket/nightly failed: "
            + "bucket 'opskit-no-such-bucket' does not exist: create it or check the bucket name and endpoint")
        await #expect(throws: BackupStoreError.self) {
            try await onThread { try backUp([1], as: backupID(), to: store) }
        }
    }

    @Test func leftoversAreRemovedAndNothingElse() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let store = Self.store(moto, bucket: bucket)
        let s3 = Self.client(moto)
        let kept = try await onThread { try backUp(randomBytes(2000, seed: 16), as: backupID(0), to: store) }
        let uncommitted = try await onThread { try upload(randomBytes(2000, seed: 17), as: backupID(60), to: store) }
        // Not ours, or not under this prefix: left alone.
        for key in ["nightly/README", "nightly-other/\(backupID(1)).tar.zst", "nightly/deeper/\(backupID(2)).tar.zst"] {
            try await s3.putObject(bucket: bucket, key: key, bytes: [1])
        }
        let otherUpload = try await s3.createMultipartUpload(bucket: bucket, key: "nightly-other/\(backupID(3)).tar.zst")

        // An upload a crash interrupted: one 5 MiB part uploaded, never completed.
        let unfinished = "\(backupID(120)).tar.zst.age"
        let removed = try await onThread { () -> [String] in
            let upload = try store.beginUpload(object: unfinished)
            try upload.write(randomBytes((5 << 20) + 10, seed: 18))
            return try withExtendedLifetime(upload) { try store.removeLeftovers() }
        }
        #expect(removed == [uncommitted.object, "unfinished upload of \(unfinished)"])

        let keys = try await s3.listObjects(bucket: bucket).map(\.key).sorted()
        #expect(keys == ["nightly-other/\(backupID(1)).tar.zst", "nightly/README", "nightly/deeper/\(backupID(2)).tar.zst",
                         "nightly/\(kept.fileName)", "nightly/\(kept.object)"].sorted())
        let uploads = try await moto.aws(["s3api", "list-multipart-uploads", "--bucket", bucket])
        #expect(!uploads.contains(unfinished))
        #expect(try await s3.listMultipartUploads(bucket: bucket) == [
            S3MultipartUpload(key: "nightly-other/\(backupID(3)).tar.zst", uploadID: otherUpload),
        ])
        #expect(try await onThread { try store.list() } == [kept])
        #expect(try await onThread { try readBack(kept, from: store) }.sha256 == kept.sha256)
    }

    @Test func b2VariablesBecomeCredentialsAndBucket() async throws {
        let moto = try await MotoS3.shared
        let bucket = try await Self.freshBucket(moto)
        let env = ["B2_KEY_ID": moto.accessKeyID, "B2_APP_KEY": moto.secretAccessKey, "B2_BUCKET": bucket, "PATH": "/bin"]
        let (credentials, named) = try StoreCredentials.fromEnvironment(env)
        #expect(named == bucket)
        #expect(credentials.accessKeyID == moto.accessKeyID)
        #expect(credentials.sessionToken == nil)
        let store = S3BackupStore(location: S3Location(bucket: named ?? "", prefix: "b2"), credentials: credentials,
                                  endpoint: moto.endpoint, region: moto.region, retry: Self.fastRetry)
        let manifest = try await onThread { try backUp([1, 2, 3], as: backupID(), to: store) }
        #expect(try await onThread { try store.list() } == [manifest])
    }
}

/// StoreCredentials and S3Location: no services needed.
@Suite struct StoreConfigurationTests {
    @Test func awsVariablesWinAndCarryTheSessionToken() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "t0k3n",
                   "B2_KEY_ID": "b2id", "B2_APP_KEY": "b2key", "B2_BUCKET": "b2bucket"]
        let (credentials, bucket) = try StoreCredentials.fromEnvironment(env)
        #expect(credentials.accessKeyID == "AKIA1")
        #expect(credentials.secretAccessKey == "s3cr3t")
        #expect(credentials.sessionToken == "t0k3n")
        #expect(bucket == nil)
        #expect("\(credentials)" == "access key AKIA1 (secret hidden, session token hidden)")
    }

    @Test func b2WithoutBucketAndEmptyValuesCountAsUnset() throws {
        let (credentials, bucket) = try StoreCredentials.fromEnvironment(
            ["AWS_ACCESS_KEY_ID": "", "B2_KEY_ID": "b2id", "B2_APP_KEY": "b2key", "B2_BUCKET": ""])
        #expect(credentials.accessKeyID == "b2id")
        #expect(credentials.secretAccessKey == "b2key")
        #expect(bucket == nil)
    }

    @Test(arguments: [
        ([:], "no object store credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or B2_KEY_ID, B2_APP_KEY and B2_BUCKET)"),
        (["AWS_ACCESS_KEY_ID": "AKIA1"], "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both"),
        (["AWS_SECRET_ACCESS_KEY": "s3cr3t"], "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both"),
        (["B2_APP_KEY": "s3cr3t", "B2_BUCKET": "b"], "B2_APP_KEY is set but B2_KEY_ID is not: set both"),
    ])
    func missingVariablesAreNamedNeverTheirValues(env: [String: String], message: String) {
        let error = #expect(throws: BackupStoreError.self) { try StoreCredentials.fromEnvironment(env) }
        #expect(error?.description == message)
        #expect(error?.description.contains("s3cr3t") == false)
    }

    @Test func locationsParse() throws {
        #expect(try S3Location(parsing: "s3://bucket") == S3Location(bucket: "bucket", prefix: ""))
        #expect(try S3Location(parsing: "s3://my.bucket/a/b/") == S3Location(bucket: "my.bucket", prefix: "a/b"))
        #expect(try S3Location(parsing: "s3://My_Bucket-1/x").description == "s3://My_Bucket-1/x")
        #expect(S3Location(bucket: "b", prefix: "/p/").key("o") == "p/o")
        #expect(S3Location(bucket: "b").key("o") == "o")
    }

    @Test(arguments: ["bucket/prefix", "s3://", "s3:///prefix", "s3://ab", "s3://bad bucket/x", "s3://b" + String(repeating: "x", count: 63),
                      "s3://bucket/a//b", "https://bucket/x"])
    func badLocationsAreOneLineErrors(text: String) {
        let error = #expect(throws: BackupStoreError.self) { try S3Location(parsing: text) }
        #expect(error?.description.hasPrefix("invalid S3 location '\(text)': ") == true)
        #expect(error?.description.hasSuffix("(expected s3://bucket or s3://bucket/prefix)") == true)
    }
}

/// Collects strings from any thread.
final class Recorder: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ value: String) { storage.withLock { $0.append(value) } }
    var values: [String] { storage.withLock { $0 } }
}
