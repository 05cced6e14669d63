import OpsCore
import TestSupport
import Testing

@Suite struct AgeKeyTests {
    /// The age testkit's (C2SP CCTV) fixed identity.
    static let testkitIdentity = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

    @Test func generatedIdentitiesRoundTrip() throws {
        for _ in 0..<20 {
            let identity = AgeIdentity.generate()
            #expect(identity.encoded.hasPrefix("AGE-SECRET-KEY-1") && identity.encoded.count == 74)
            #expect(identity.recipient.description.hasPrefix("age1") && identity.recipient.description.count == 62)
            let parsed = try AgeIdentity(parsing: "  " + identity.encoded + "\r\n")
            #expect(parsed.encoded == identity.encoded)
            #expect(parsed.recipient == identity.recipient)
            #expect(try AgeRecipient(parsing: identity.recipient.description) == identity.recipient)
        }
        #expect(AgeIdentity.generate().recipient != AgeIdentity.generate().recipient)
        let fixed = try AgeIdentity(parsing: Self.testkitIdentity)
        #expect(fixed.encoded == Self.testkitIdentity)
    }

    @Test func printingAnIdentityShowsOnlyItsPublicKey() {
        let identity = AgeIdentity.generate()
        let secretPart = String(identity.encoded.dropFirst(16).prefix(20))
        var dumped = ""
        dump(identity, to: &dumped)
        for text in [String(describing: identity), String(reflecting: identity), "\(identity)", dumped] {
            #expect(!text.uppercased().contains(secretPart), "leaks: \(text)")
            #expect(text.contains(identity.recipient.description))
        }
    }

    /// Bech32 test vectors from BIP 173 that are valid checksums; age accepts any HRP at this level, so
    /// they must fail only for the HRP (not the checksum).
    @Test func bip173ValidStringsFailOnlyForTheirHRP() {
        for valid in [
            "A12UEL5L", "a12uel5l",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        ] {
            let message = Self.recipientError(valid)
            #expect(message.contains("must start with age1") || message.contains("lower case"), "\(valid): \(message)")
        }
    }

    static func recipientError(_ text: String) -> String {
        do {
            _ = try AgeRecipient(parsing: text)
            return ""
        } catch {
            return "\(error)"
        }
    }

    static func identityError(_ text: String) -> String {
        do {
            _ = try AgeIdentity(parsing: text)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func badRecipientsAreRejectedWithTheReason() {
        let good = AgeIdentity.generate().recipient.description
        var chars = Array(good)
        chars[20] = chars[20] == "q" ? "p" : "q"
        #expect(Self.recipientError(String(chars)).contains("checksum"))
        #expect(Self.recipientError(String(good.dropLast())).contains("checksum"))
        #expect(Self.recipientError(good.uppercased()).contains("lower case"))
        #expect(Self.recipientError("age1" + good.dropFirst(4).uppercased()).contains("mixes upper and lower case"))
        #expect(Self.recipientError(good.replacingFirst("1", "b")).contains("'1'"))
        #expect(Self.recipientError("age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs!gp").contains("character"))
        #expect(Self.recipientError("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host").contains("SSH"))
        // BIP 173 invalid strings.
        for invalid in ["pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8", "1qzzfhee", ""] {
            #expect(!Self.recipientError(invalid).isEmpty, "\(invalid)")
        }
        // The right checksum over another HRP.
        #expect(Self.recipientError(Self.reencode(good, hrp: "agf")).contains("must start with age1"))
        #expect(Self.recipientError(Self.reencode(good, hrp: "age1yubikey")).contains("plugin"))
        // A valid Bech32 "age" string of 27 bytes (8 groups of 5 bits = 5 bytes taken from the middle).
        let groups = Array(good.dropFirst(4).dropLast(6))
        let short = "age1" + String(groups[..<10] + groups[18...]) + "qqqqqq"
        #expect(Self.recipientError(Self.reencode(short, hrp: "age")).contains("27 bytes"))
        // Every message says what to do.
        #expect(Self.recipientError("nonsense").contains("age-keygen -y"))
    }

    /// Re-encodes the key in `recipient` under another HRP, with a correct checksum (via the identity type).
    static func reencode(_ recipient: String, hrp: String) -> String {
        // Bech32 is internal; rebuild with a tiny local encoder so the test does not depend on it.
        let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        let data = recipient.dropFirst(4).dropLast(6).map { UInt8(charset.firstIndex(of: $0)!) }
        func polymod(_ values: [UInt8]) -> UInt32 {
            let gen: [UInt32] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
            var chk: UInt32 = 1
            for v in values {
                let b = chk >> 25
                chk = (chk & 0x1ffffff) << 5 ^ UInt32(v)
                for i in 0..<5 where (b >> UInt32(i)) & 1 == 1 { chk ^= gen[i] }
            }
            return chk
        }
        let h = Array(hrp.utf8)
        let expanded = h.map { $0 >> 5 } + [0] + h.map { $0 & 31 }
        let mod = polymod(expanded + data + [0, 0, 0, 0, 0, 0]) ^ 1
        let check = (0..<6).map { UInt8((mod >> UInt32(5 * (5 - $0))) & 31) }
        return hrp + "1" + String((data + check).map { charset[Int($0)] })
    }

    @Test func recipientGivenASecretKeyIsRejectedWithoutEchoingIt() {
        let identity = AgeIdentity.generate()
        let message = Self.recipientError(identity.encoded)
        #expect(message.contains("secret key"))
        #expect(!message.contains(identity.encoded))
        #expect(!Self.recipientError(identity.encoded.lowercased()).contains(identity.encoded.lowercased()))
    }

    @Test func badIdentitiesAreRejectedWithoutEchoingThem() {
        let identity = AgeIdentity.generate()
        var chars = Array(identity.encoded)
        chars[30] = chars[30] == "Q" ? "P" : "Q"
        let typo = String(chars)
        for (text, expected) in [
            (typo, "checksum"),
            (identity.encoded.lowercased(), "upper case"),
            (String(identity.encoded.prefix(40)), "checksum"),
            (identity.recipient.description, "public key"),
            ("AGE-PLUGIN-YUBIKEY-1QQQQQQ", "plugin"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "SSH"),
        ] {
            let message = Self.identityError(text)
            #expect(message.contains(expected), "\(message)")
            #expect(!message.contains(String(text.dropFirst(16).prefix(12))), "echoes the key: \(message)")
        }
        // The right checksum over a mixed-case string is still rejected as mixed case.
        #expect(Self.identityError("AGE-SECRET-KEY-1" + identity.encoded.dropFirst(16).lowercased()).contains("mixes"))
    }

    @Test func identityFilesSkipCommentsAndNameTheBadLine() throws {
        let a = AgeIdentity.generate()
        let b = AgeIdentity.generate()
        let text = "# created: 2026-01-01T00:00:00Z\r\n# public key: \(a.recipient)\r\n\(a.encoded)\r\n\n  # another\n\(b.encoded)"
        let identities = try AgeIdentityFile.parse(text, path: "keys.txt")
        #expect(identities.map(\.recipient) == [a.recipient, b.recipient])

        do {
            _ = try AgeIdentityFile.parse("# key\n\(a.encoded)\n\(b.encoded.dropLast())\n", path: "keys.txt")
            Issue.record("a bad line was accepted")
        } catch let error as AgeError {
            guard case .invalidIdentity(file: "keys.txt", line: 3, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.hasPrefix("line 3 of keys.txt"))
            #expect(!error.description.contains(String(b.encoded.dropFirst(16).prefix(20))))
        }
        #expect(throws: AgeError.noIdentities(file: "empty.txt")) {
            try AgeIdentityFile.parse("# nothing here\n\n", path: "empty.txt")
        }
    }

    @Test func loadingIdentityFiles() throws {
        let dir = try TempDirectory(prefix: "opskit-age-keys")
        defer { dir.remove() }
        let identity = AgeIdentity.generate()
        try "# test\n\(identity.encoded)\n".write(toFile: dir.file("key.txt"))
        let loaded = try AgeIdentityFile.load(path: dir.file("key.txt"))
        #expect(loaded.map(\.recipient) == [identity.recipient])
        do {
            _ = try AgeIdentityFile.load(path: dir.file("missing.txt"))
            Issue.record("a missing file loaded")
        } catch let error as AgeError {
            guard case .unreadableIdentityFile(let path, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == dir.file("missing.txt"))
            #expect(reason.contains("No such file"))
        }
        // The file an identity came from is named when it cannot decrypt.
        let other = AgeIdentity.generate()
        let file = try AgeTest.encrypt([1, 2, 3], to: [other.recipient])
        #expect(AgeTest.decryptionError(file, with: loaded)
            == .noMatchingIdentity(recipients: [identity.recipient.description], files: [dir.file("key.txt")]))
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, _ replacement: Character) -> String {
        guard let index = firstIndex(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(index...index, with: String(replacement))
        return copy
    }
}
