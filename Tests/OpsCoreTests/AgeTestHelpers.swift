#if canImport(Glibc)
import Glibc
#endif
import OpsCore
import TestSupport

/// Shared by the Age* suites.
enum AgeTest {
    /// Random bytes (each test needs fresh data so a fixed pattern cannot hide a chunk mix-up).
    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                var word = generator.next() as UInt64
                let n = min(8, raw.count - offset)
                withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        return out
    }

    /// Encrypts `plaintext`, written in pieces of `writeSize` bytes.
    static func encrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient], writeSize: Int = 1 << 20) throws
        -> [UInt8]
    {
        let out = BytesSink()
        let sink = try AgeEncryptingSink(recipients: recipients, next: out)
        var offset = 0
        while offset < plaintext.count {
            let end = min(plaintext.count, offset + writeSize)
            try plaintext[offset..<end].withUnsafeBytes { try sink.write($0) }
            offset = end
        }
        try sink.finish()
        precondition(out.isFinished)
        return out.bytes
    }

    /// Decrypts with reads of `readSize` bytes.
    static func decrypt(_ file: [UInt8], with identities: [AgeIdentity], readSize: Int = 1 << 20) throws -> [UInt8] {
        let source = try AgeDecryptingSource(source: BytesSource(file), identities: identities)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: readSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { return out }
            out += buffer[..<count]
        }
    }

    /// The error decrypting `file` throws, in `init` or in a `read`.
    static func decryptionError(_ file: [UInt8], with identities: [AgeIdentity]) -> AgeError? {
        do {
            _ = try decrypt(file, with: identities, readSize: 4096)
            return nil
        } catch let error as AgeError {
            return error
        } catch {
            return nil
        }
    }

    /// Where the payload (after the header and the 16-byte nonce) starts.
    static func payloadStart(_ file: [UInt8]) -> Int {
        let marker = Array("\n--- ".utf8)
        var index = 0
        while !file[index...].starts(with: marker) { index += 1 }
        return index + 1 + 48 + 16
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "r") else { throw TestSupportError("cannot open \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return bytes
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        guard let f = fopen(path, "w") else { throw TestSupportError("cannot create \(path)") }
        defer { fclose(f) }
        guard fwrite(bytes, 1, bytes.count, f) == bytes.count else { throw TestSupportError("cannot write \(path)") }
    }
}
