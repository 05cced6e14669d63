import FoundationEssentials
import OpsCore
import Testing
@testable import Backup

@Suite struct BackupManifestTests {
    static let sample = BackupManifest(
        id: backupID(), createdAt: Date(timeIntervalSince1970: 1_768_874_400.9),
        sources: [.init(kind: "postgres", location: "postgres://app:***@db:5432/app", archivePath: "postgres/app.sql")],
        object: "backup-20260120-020000.tar.zst.age", sizeBytes: 1234,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", compression: "zstd",
        encrypted: true, recipients: ["age1abc"], toolVersion: "1.2.3")

    static let sampleJSON = """
        {
          "compression" : "zstd",
          "createdAt" : "2026-01-20T02:00:00Z",
          "encrypted" : true,
          "format" : 1,
          "id" : "backup-20260120-020000",
          "object" : "backup-20260120-020000.tar.zst.age",
          "permanent" : false,
          "recipients" : [
            "age1abc"
          ],
          "sha256" : "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          "sizeBytes" : 1234,
          "sources" : [
            {
              "archivePath" : "postgres/app.sql",
              "kind" : "postgres",
              "location" : "postgres://app:***@db:5432/app"
            }
          ],
          "toolVersion" : "1.2.3"
        }

        """

    @Test func encodesPrettyJSONWithSortedKeysAndReadsItBack() throws {
        #expect(String(decoding: Self.sample.encoded(), as: UTF8.self) == Self.sampleJSON)
        #expect(try BackupManifest(decoding: Self.sample.encoded(), from: "m") == Self.sample)
        var verified = Self.sample
        verified.verifiedAt = Date(timeIntervalSince1970: 1_768_900_000)
        verified.permanent = true
        let text = String(decoding: verified.encoded(), as: UTF8.self)
        #expect(text.contains(#""verifiedAt" : "2026-01-20T09:06:40Z""#))
        #expect(try BackupManifest(decoding: verified.encoded(), from: "m") == verified)
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        (#"{"format": 1}"#, "field 'id' is missing"),
        (sampleJSON.replacingFirst(#""sizeBytes" : 1234"#, with: #""sizeBytes" : "big""#), "field 'sizeBytes' is not an integer"),
        (sampleJSON.replacingFirst(#""kind" : "postgres","#, with: ""), "field 'sources[0].kind' is missing"),
        (sampleJSON.replacingFirst(#""2026-01-20T02:00:00Z""#, with: #""yesterday""#), "'createdAt' is not an ISO 8601 date: 'yesterday'"),
        (sampleJSON.replacingFirst(#""format" : 1"#, with: #""format" : 2"#), "format 2 is newer than this opskit reads (1); upgrade opskit"),
        (sampleJSON.replacingFirst(#""id" : "backup-20260120-020000""#, with: #""id" : "yesterday""#), "'id' is not a backup id: 'yesterday'"),
        (sampleJSON.replacingFirst(#""sha256" : "9f"#, with: #""sha256" : "9F"#), "'sha256' is not 64 lowercase hex digits"),
        (sampleJSON.replacingFirst(#""object" : "backup"#, with: #""object" : "../backup"#), "'object' is not an object name: '../backup-20260120-020000.tar.zst.age'"),
    ])
    func unreadableManifestsAreOneLineErrors(json: String, reason: String) {
        let error = #expect(throws: BackupStoreError.self) { try BackupManifest(decoding: Array(json.utf8), from: "/b/x.manifest.json") }
        #expect(error?.description == "manifest /b/x.manifest.json is unreadable: \(reason): nothing was changed; repair or move the file away")
    }
}

extension String {
    func replacingFirst(_ old: String, with new: String) -> String {
        guard let range = firstRange(of: old) else { return self }
        return String(self[..<range.lowerBound]) + new + String(self[range.upperBound...])
    }
}
