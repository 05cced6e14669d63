import FoundationEssentials
import OpsCore
import TestSupport
@testable import Backup
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic bytes, so a failing test can be reproduced byte for byte.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { raw in
        var i = 0
        while i < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for k in 0..<min(8, count - i) { raw[i + k] = UInt8(truncatingIfNeeded: z >> (8 * k)) }
            i += 8
        }
    }
    return out
}

/// A backup id at `2026-01-20 02:00:00 + offset` seconds.
func backupID(_ offset: Int = 0) -> BackupID {
    BackupID(at: Date(timeIntervalSince1970: 1_768_874_400 + Double(offset)))
}

/// Writes `bytes` through an upload in `chunk`-sized writes (hashing on the way, as the pipeline does),
/// finishes it, and returns the manifest to commit.
func upload(_ bytes: [UInt8], as id: BackupID, to store: BackupStore, chunk: Int = 256 << 10) throws -> BackupManifest {
    let object = "\(id).tar.zst.age"
    let upload = try store.beginUpload(object: object)
    let digest = DigestSink(next: upload)
    for start in stride(from: 0, to: bytes.count, by: chunk) {
        try digest.write(Array(bytes[start..<min(start + chunk, bytes.count)]))
    }
    try digest.finish()
    return BackupManifest(
        id: id, createdAt: Date(timeIntervalSince1970: 1_768_874_400.75), sources: [
            .init(kind: "postgres", location: "postgres://app:***@db/app", archivePath: "postgres/app.sql"),
            .init(kind: "dir", location: "/opt/app/uploads", archivePath: "dir/uploads"),
        ],
        object: object, sizeBytes: upload.bytesWritten, sha256: digest.sha256Hex ?? "", compression: "zstd",
        encrypted: true, recipients: ["age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"],
        toolVersion: OpsKit.version)
}

/// Uploads and commits.
@discardableResult
func backUp(_ bytes: [UInt8], as id: BackupID, to store: BackupStore, chunk: Int = 256 << 10) throws -> BackupManifest {
    let manifest = try upload(bytes, as: id, to: store, chunk: chunk)
    try store.commit(manifest)
    return manifest
}

/// The whole object through `open`, and the SHA-256 of what was read.
func readBack(_ manifest: BackupManifest, from store: BackupStore) throws -> (bytes: [UInt8], sha256: String) {
    let source = DigestSource(try store.open(manifest))
    let bytes = try source.readAll()
    return (bytes, source.finalizeHex())
}

/// `sha256sum FILE`'s hash: an independent check of what a download holds.
func sha256sum(_ path: String) throws -> String {
    guard let pipe = popen("sha256sum '\(path)'", "r") else { throw TestSupportError("popen sha256sum failed") }
    var line = [CChar](repeating: 0, count: 256)
    let read = fgets(&line, Int32(line.count), pipe) != nil
    pclose(pipe)
    guard read else { throw TestSupportError("sha256sum printed nothing for \(path)") }
    return String(decoding: line.prefix(64).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The names in a directory, `.` and `..` left out, sorted.
func directoryNames(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
