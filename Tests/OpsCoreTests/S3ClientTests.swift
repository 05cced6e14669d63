import FoundationEssentials
import Subprocess
import Testing
import TestSupport
@testable import OpsCore

/// S3Client against a moto that checks every signature; `aws` reads back what was uploaded.
@Suite struct S3ClientTests {
    static func client(_ moto: MotoS3, secret: String? = nil) -> S3Client {
        S3Client(endpoint: moto.endpoint, region: moto.region,
                 credentials: AWSCredentials(accessKeyID: moto.accessKeyID,
                                             secretAccessKey: secret ?? moto.secretAccessKey))
    }

    static func freshBucket(_ client: S3Client) async throws -> String {
        let bucket = "opskit-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createBucket(bucket)
        return bucket
    }

    @Test func putGetListDeleteRoundTrip() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let bucket = try await Self.freshBucket(s3)
        let bytes = Array("hello, store".utf8) + [0, 255, 10]
        // moto (5.2) re-encodes the URL its own way before checking the signature, so it rejects valid
        // signatures (from `aws` too) for keys with `+ é ( = …` and for a `/` in a query value such as
        // the prefix. The vectors cover those encodings; here keys keep to letters, space, `~` and `/`.
        let keys = ["backups-1/a b/c~d.tar.zst", "backups-2", "other/x"]
        for key in keys { try await s3.putObject(bucket: bucket, key: key, bytes: bytes) }

        #expect(try await s3.getObject(bucket: bucket, key: keys[0]) == bytes)
        #expect(try await s3.headObject(bucket: bucket, key: keys[0]) == bytes.count)
        let listed = try await s3.listObjects(bucket: bucket, prefix: "backups-")
        #expect(listed.map(\.key).sorted() == keys.prefix(2).sorted())
        #expect(listed.allSatisfy { $0.size == bytes.count })

        try await s3.deleteObject(bucket: bucket, key: keys[0])
        #expect(try await s3.listObjects(bucket: bucket, prefix: "backups-").map(\.key) == ["backups-2"])
        await #expect(throws: StoreError.noSuchKey(bucket: bucket, key: keys[0])) {
            try await s3.getObject(bucket: bucket, key: keys[0])
        }
        await #expect(throws: StoreError.noSuchKey(bucket: bucket, key: keys[0])) {
            try await s3.headObject(bucket: bucket, key: keys[0])
        }
    }

    @Test func listingFollowsContinuationTokens() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let bucket = try await Self.freshBucket(s3)
        // moto pages at 1000 keys; 1003 small objects make two pages.
        let keys = (0..<1003).map { "k-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: keys.count, by: 100) {
                group.addTask {
                    for key in keys[chunk..<min(chunk + 100, keys.count)] {
                        try await s3.putObject(bucket: bucket, key: key, bytes: [1])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await s3.listObjects(bucket: bucket, prefix: "k-").count == 1003)
    }

    @Test func wrongSecretIsASignatureMismatchThatNamesTheCauseNotTheSecret() async throws {
        let moto = try await MotoS3.shared
        let secret = "wrongSecretValue1234567890abcdefghijklmno"
        let s3 = Self.client(moto, secret: secret)
        let error = await #expect(throws: StoreError.self) {
            try await s3.putObject(bucket: "opskit-any", key: "k", bytes: [1])
        }
        #expect(error == .signatureMismatch)
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message == "S3 rejected the request signature: check AWS_SECRET_ACCESS_KEY (or B2_APP_KEY)")
        #expect(!message.contains(secret))
        #expect(!message.contains(moto.secretAccessKey))
        // A HEAD's 403 has no body; the client asks a GET for the reason.
        await #expect(throws: StoreError.signatureMismatch) { try await s3.headObject(bucket: "opskit-any", key: "k") }
        await #expect(throws: StoreError.signatureMismatch) {
            try await onThread { try s3.blocking.headObject(bucket: "opskit-any", key: "k") }
        }
    }

    @Test func rangedGetsMultipartListingAndTheBlockingAPI() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let bucket = try await Self.freshBucket(s3)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        // The blocking calls, as the backup pipeline makes them from a thread of its own.
        let blocking = s3.blocking
        let (head, range, tail, listed) = try await onThread {
            try blocking.putObject(bucket: bucket, key: "obj", bytes: bytes)
            return (try blocking.headObject(bucket: bucket, key: "obj"),
                    try blocking.getObject(bucket: bucket, key: "obj", range: 10...19),
                    try blocking.getObject(bucket: bucket, key: "obj", range: 990...1999),
                    try blocking.listObjects(bucket: bucket).map(\.key))
        }
        #expect(head == 1000)
        #expect(range == Array(bytes[10...19]))
        #expect(tail == Array(bytes[990...]))  // a range past the end gives what there is
        #expect(listed == ["obj"])
        #expect(try await s3.getObject(bucket: bucket, key: "obj", range: 0...0) == [bytes[0]])

        let first = try await s3.createMultipartUpload(bucket: bucket, key: "up-a")
        let second = try await s3.createMultipartUpload(bucket: bucket, key: "up-b")
        _ = try await s3.createMultipartUpload(bucket: bucket, key: "other")
        let uploads = try await s3.listMultipartUploads(bucket: bucket, prefix: "up-")
        #expect(uploads.sorted { $0.key < $1.key } == [S3MultipartUpload(key: "up-a", uploadID: first),
                                                        S3MultipartUpload(key: "up-b", uploadID: second)])
        try await onThread { try blocking.abortMultipartUpload(bucket: bucket, key: "up-a", uploadID: first) }
        #expect(try await onThread { try blocking.listMultipartUploads(bucket: bucket, prefix: "up-") }.map(\.key) == ["up-b"])
    }

    @Test func missingBucketIsNoSuchBucket() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let error = await #expect(throws: StoreError.self) {
            try await s3.listObjects(bucket: "opskit-no-such-bucket")
        }
        #expect(error == .noSuchBucket("opskit-no-such-bucket"))
        #expect(error?.description.contains("does not exist") == true)
        await #expect(throws: StoreError.noSuchBucket("opskit-no-such-bucket")) {
            try await s3.putObject(bucket: "opskit-no-such-bucket", key: "k", bytes: [1])
        }
    }

    @Test func multipartUploadReadsBackWithAws() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let bucket = try await Self.freshBucket(s3)
        let key = "big/three parts.bin"
        var generator = SplitMix(seed: 42)
        let sizes = [S3Client.minimumPartSize, S3Client.minimumPartSize, 123_457]
        let parts = sizes.map { size in (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
        let whole = parts.flatMap { $0 }

        let upload = try await s3.createMultipartUpload(bucket: bucket, key: key)
        var uploaded: [S3UploadedPart] = []
        for (index, part) in parts.enumerated() {
            uploaded.append(try await s3.uploadPart(bucket: bucket, key: key, uploadID: upload,
                                                    partNumber: index + 1, bytes: part))
        }
        try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadID: upload, parts: uploaded.reversed())
        #expect(try await s3.headObject(bucket: bucket, key: key) == whole.count)

        let directory = try TempDirectory(prefix: "opskit-s3")
        defer { directory.remove() }
        let file = directory.file("download")
        _ = try await moto.aws(["s3api", "get-object", "--bucket", bucket, "--key", key, file])
        let sum = try await Subprocess.run(.name("sha256sum"), arguments: [file], output: .string(limit: 4096))
        #expect(sum.standardOutput.split(separator: " ").first.map(String.init) == SigV4.sha256Hex(whole))
    }

    @Test func abortedUploadIsGone() async throws {
        let moto = try await MotoS3.shared
        let s3 = Self.client(moto)
        let bucket = try await Self.freshBucket(s3)
        let upload = try await s3.createMultipartUpload(bucket: bucket, key: "k")
        _ = try await s3.uploadPart(bucket: bucket, key: "k", uploadID: upload, partNumber: 1, bytes: [1, 2, 3])
        try await s3.abortMultipartUpload(bucket: bucket, key: "k", uploadID: upload)
        // S3 says NoSuchUpload; moto 5.2 answers 500 with no error code. Either way the upload is gone.
        await #expect(throws: StoreError.self) {
            try await s3.completeMultipartUpload(bucket: bucket, key: "k", uploadID: upload,
                                                 parts: [S3UploadedPart(partNumber: 1, etag: "\"x\"")])
        }
    }
}

/// A small deterministic generator, so a failing upload can be reproduced byte for byte.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
