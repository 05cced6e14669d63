/// Bech32 (BIP 173, the original checksum constant 1, not bech32m), as age uses it for `age1…` recipients
/// and `AGE-SECRET-KEY-1…` identities. Unlike BIP 173 there is no 90-character limit (age has none).
enum Bech32 {
    enum Failure: Error, Equatable {
        case mixedCase, invalidCharacter, noSeparator, tooShort, badChecksum, badPadding

        /// For error messages: never includes the input (it may be a secret key).
        var reason: String {
            switch self {
            case .mixedCase: "it mixes upper and lower case"
            case .invalidCharacter: "it contains a character that Bech32 does not use"
            case .noSeparator: "it has no '1' separator"
            case .tooShort: "it is too short"
            case .badChecksum: "its checksum does not match (a character was mistyped, lost or added)"
            case .badPadding: "its data part has an invalid length"
            }
        }
    }

    private static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, char) in charset.enumerated() { table[Int(char)] = Int8(index) }
        return table
    }()

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where top >> UInt32(bit) & 1 == 1 { check ^= generator[bit] }
        }
        return check
    }

    /// `hrp` must be ASCII 33...126 and all one case; lowercase HRPs give lowercase output, uppercase give uppercase.
    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    static func encode(hrp: String, data: [UInt8]) -> String {
        let upper = hrp.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        let lowHRP = Array(hrp.lowercased().utf8)
        let groups = regroup(data, from: 8, to: 5, pad: true)!
        let check = polymod(expand(lowHRP) + groups + [0, 0, 0, 0, 0, 0]) ^ 1
        var out = lowHRP + [UInt8(ascii: "1")]
        out.reserveCapacity(out.count + groups.count + 6)
        for group in groups { out.append(charset[Int(group)]) }
        for index in 0..<6 { out.append(charset[Int(check >> UInt32(5 * (5 - index)) & 31)]) }
        let text = String(decoding: out, as: UTF8.self)
        return upper ? text.uppercased() : text
    }

    /// The human-readable part in the case it was written, and the decoded bytes.
    static func decode(_ text: String) throws(Failure) -> (hrp: String, data: [UInt8]) {
        let bytes = Array(text.utf8)
        var hasLower = false
        var hasUpper = false
        for byte in bytes {
            guard byte >= 33 && byte <= 126 else { throw .invalidCharacter }
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { hasLower = true }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { hasUpper = true }
        }
        guard !(hasLower && hasUpper) else { throw .mixedCase }
        guard let separator = bytes.lastIndex(of: UInt8(ascii: "1")) else { throw .noSeparator }
        guard separator >= 1, bytes.count - separator - 1 >= 6 else { throw .tooShort }
        let lower = bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        var groups: [UInt8] = []
        groups.reserveCapacity(bytes.count - separator - 1)
        for char in lower[(separator + 1)...] {
            let value = values[Int(char)]
            guard value >= 0 else { throw .invalidCharacter }
            groups.append(UInt8(value))
        }
        guard polymod(expand(Array(lower[..<separator])) + groups) == 1 else { throw .badChecksum }
        guard let data = regroup(groups.dropLast(6), from: 5, to: 8, pad: false) else { throw .badPadding }
        return (String(decoding: bytes[..<separator], as: UTF8.self), data)
    }

    /// Re-packs `from`-bit groups into `to`-bit groups; without `pad`, leftover bits must be fewer than
    /// `from` and zero (the canonical encoding), else nil.
    private static func regroup(_ input: some Collection<UInt8>, from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator: UInt32 = 0
        var bits = 0
        let mask = UInt32(1 << to) - 1
        var out: [UInt8] = []
        out.reserveCapacity(input.count * from / to + 1)
        for value in input {
            accumulator = accumulator << UInt32(from) | UInt32(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8(accumulator >> UInt32(bits) & mask))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8(accumulator << UInt32(to - bits) & mask)) }
        } else if bits >= from || accumulator & (UInt32(1 << bits) - 1) != 0 {
            return nil
        }
        return out
    }
}
