import OpsCore
import Shell
import TestSupport
import Testing

/// Interoperability with the reference implementation: the `age` and `age-keygen` commands (Debian `age`).
@Suite struct AgeCLITests {
    static let sizes = [0, 1, 65535, 65536, 65537, 3 * 65536, (1 << 20) + 4321]

    /// A key pair made by `age-keygen -o`, with the public key `age-keygen -y` prints for it.
    struct KeygenKey {
        let path: String
        let recipient: String
    }

    static func keygen(in dir: TempDirectory, _ name: String) async throws -> KeygenKey {
        let path = dir.file(name)
        _ = try await Runner().capture(Command("age-keygen", "-o", path))
        let recipient = try await Runner().capture(Command("age-keygen", "-y", path)).stdoutText
        return KeygenKey(path: path, recipient: recipient)
    }

    @Test(arguments: sizes) func ageDecryptsOurFiles(size: Int) async throws {
        let dir = try TempDirectory(prefix: "opskit-age-cli")
        defer { dir.remove() }
        let key = try await Self.keygen(in: dir, "key.txt")
        let plaintext = AgeTest.random(size)
        try AgeTest.writeFile(
            try AgeTest.encrypt(plaintext, to: [try AgeRecipient(parsing: key.recipient)]), to: dir.file("file.age"))
        let output = try await Runner().capture(Command("age", "-d", "-i", key.path, dir.file("file.age")))
        #expect(output.stdout == plaintext)
    }

    @Test(arguments: sizes) func weDecryptAgesFiles(size: Int) async throws {
        let dir = try TempDirectory(prefix: "opskit-age-cli")
        defer { dir.remove() }
        let key = try await Self.keygen(in: dir, "key.txt")
        let plaintext = AgeTest.random(size)
        try AgeTest.writeFile(plaintext, to: dir.file("plain"))
        _ = try await Runner().capture(
            Command("age", "-r", key.recipient, "-o", dir.file("file.age"), dir.file("plain")))
        let file = try AgeTest.readFile(dir.file("file.age"))
        let identities = try AgeIdentityFile.load(path: key.path)
        #expect(identities.map(\.recipient.description) == [key.recipient])
        #expect(try AgeTest.decrypt(file, with: identities) == plaintext)
        #expect(try AgeTest.decrypt(file, with: identities, readSize: 1000) == plaintext)
    }

    @Test func multipleRecipientsBothWays() async throws {
        let dir = try TempDirectory(prefix: "opskit-age-cli")
        defer { dir.remove() }
        let one = try await Self.keygen(in: dir, "one.txt")
        let two = try await Self.keygen(in: dir, "two.txt")
        let plaintext = AgeTest.random(150_000)

        // Ours, to both: each key alone decrypts with age.
        let recipients = try [one, two].map { try AgeRecipient(parsing: $0.recipient) }
        try AgeTest.writeFile(try AgeTest.encrypt(plaintext, to: recipients), to: dir.file("ours.age"))
        for key in [one, two] {
            let output = try await Runner().capture(Command("age", "-d", "-i", key.path, dir.file("ours.age")))
            #expect(output.stdout == plaintext, "with \(key.path)")
        }

        // age's, to both: each identity alone decrypts with us.
        try AgeTest.writeFile(plaintext, to: dir.file("plain"))
        _ = try await Runner().capture(Command(
            "age", "-r", one.recipient, "-r", two.recipient, "-o", dir.file("theirs.age"), dir.file("plain")))
        let theirs = try AgeTest.readFile(dir.file("theirs.age"))
        for key in [one, two] {
            #expect(try AgeTest.decrypt(theirs, with: try AgeIdentityFile.load(path: key.path)) == plaintext)
        }
        // And a key file holding neither fails before any output, naming the file.
        let other = try await Self.keygen(in: dir, "other.txt")
        let error = AgeTest.decryptionError(theirs, with: try AgeIdentityFile.load(path: other.path))
        #expect(error == .noMatchingIdentity(recipients: [other.recipient], files: [other.path]))
    }

    @Test func ourGeneratedIdentityIsAnAgeKeygenKey() async throws {
        let dir = try TempDirectory(prefix: "opskit-age-cli")
        defer { dir.remove() }
        for index in 0..<3 {
            let identity = AgeIdentity.generate()
            let path = dir.file("ours\(index).txt")
            try "# public key: \(identity.recipient)\n\(identity.encoded)\n".write(toFile: path)
            let printed = try await Runner().capture(Command("age-keygen", "-y", path)).stdoutText
            #expect(printed == identity.recipient.description)
            // And age decrypts with it what we encrypted to it.
            let plaintext = AgeTest.random(1000 + index)
            try AgeTest.writeFile(try AgeTest.encrypt(plaintext, to: [identity.recipient]), to: dir.file("f.age"))
            let output = try await Runner().capture(Command("age", "-d", "-i", path, dir.file("f.age")))
            #expect(output.stdout == plaintext)
        }
    }

    @Test func ageRejectsOurTamperedFiles() async throws {
        // The checks are the format's, not only ours: age refuses the same damage.
        let dir = try TempDirectory(prefix: "opskit-age-cli")
        defer { dir.remove() }
        let key = try await Self.keygen(in: dir, "key.txt")
        var file = try AgeTest.encrypt(AgeTest.random(100_000), to: [try AgeRecipient(parsing: key.recipient)])
        file[AgeTest.payloadStart(file) + 10] ^= 1
        try AgeTest.writeFile(file, to: dir.file("bad.age"))
        await #expect(throws: CommandError.self) {
            _ = try await Runner().capture(Command("age", "-d", "-i", key.path, dir.file("bad.age")))
        }
    }
}
