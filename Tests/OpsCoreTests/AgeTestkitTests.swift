#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import Shell
import TestSupport
import Testing

/// The C2SP CCTV age test vectors in Tests/Fixtures/age-testkit (see the README there).
@Suite struct AgeTestkitTests {
    static let directory = repositoryRoot() + "/Tests/Fixtures/age-testkit"

    static let names: [String] = {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") && name != "README.md" { names.append(name) }
        }
        return names.sorted()
    }()

    struct Vector {
        var expect = ""
        var payloadSHA256: String?
        var identities: [String] = []
        var file: [UInt8] = []
    }

    static func load(_ name: String) async throws -> Vector {
        let path = directory + "/" + name
        let bytes = try AgeTest.readFile(path)
        var vector = Vector()
        var index = 0
        var compressed = false
        while true {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n"))!
            let line = String(decoding: bytes[index..<end], as: UTF8.self)
            index = end + 1
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1).map { String($0.drop { $0 == " " }) }
            switch parts[0] {
            case "expect": vector.expect = parts[1]
            case "payload": vector.payloadSHA256 = parts[1]
            case "identity": vector.identities.append(parts[1])
            case "compressed": compressed = parts[1] == "zlib"
            default: break
            }
        }
        if compressed {
            let inflate = "import sys, zlib; d = open(sys.argv[1], 'rb').read()[int(sys.argv[2]):]; "
                + "sys.stdout.buffer.write(zlib.decompress(d))"
            vector.file = try await Runner().capture(
                Command("python3", "-c", inflate, path, String(index)), limit: 64 << 20).stdout
        } else {
            vector.file = Array(bytes[index...])
        }
        return vector
    }

    @Test func vectorsArePresent() {
        #expect(Self.names.count == 68)
    }

    @Test(arguments: names) func vector(_ name: String) async throws {
        let vector = try await Self.load(name)
        let identities = try vector.identities.map { try AgeIdentity(parsing: $0) }
        let source: AgeDecryptingSource
        do {
            source = try AgeDecryptingSource(source: BytesSource(vector.file), identities: identities)
        } catch let error as AgeError {
            switch (vector.expect, error) {
            case ("header failure", .malformedHeader), ("header failure", .notAgeFile), ("header failure", .truncated),
                ("HMAC failure", .headerMACMismatch),
                ("no match", .noMatchingIdentity), ("no match", .unsupportedRecipients):
                return
            default:
                Issue.record("\(name): expected \(vector.expect), init threw \(error)")
                return
            }
        }
        let digest = DigestSink()
        do {
            try source.copy(to: digest, bufferSize: 100_000)
            try digest.finish()
        } catch let error as AgeError {
            #expect(vector.expect == "payload failure", "\(name): read threw \(error)")
            return
        }
        #expect(vector.expect == "success", "\(name): decrypted, expected \(vector.expect)")
        #expect(digest.sha256Hex == vector.payloadSHA256, "\(name)")
    }
}
