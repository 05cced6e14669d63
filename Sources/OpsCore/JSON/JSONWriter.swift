extension JSONValue {
    /// The document as text, in the one style opskit writes (`JSONCoding`'s: sorted keys, slashes unescaped;
    /// `pretty` with two-space indents and `"key" : value`, as JSONEncoder prints it).
    ///
    /// Written directly instead of through JSONEncoder: Codable's first use in a process costs ~1 ms of
    /// runtime type lookups, which a tool run every minute (monitor) should not pay for its output.
    public func serialized(pretty: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(to: &out, pretty: pretty, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let n): out += Array(Self.numberText(n).utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            Self.writeContainer(open: 0x5B, close: 0x5D, count: items.count, to: &out, pretty: pretty, indent: indent) { i, out in
                items[i].write(to: &out, pretty: pretty, indent: indent + 2)
            }
        case .object(let members):
            let keys = members.keys.sorted()
            Self.writeContainer(open: 0x7B, close: 0x7D, count: keys.count, to: &out, pretty: pretty, indent: indent) { i, out in
                Self.writeString(keys[i], to: &out)
                out += pretty ? [0x20, 0x3A, 0x20] : [0x3A]
                members[keys[i]]!.write(to: &out, pretty: pretty, indent: indent + 2)
            }
        }
    }

    private static func writeContainer(open: UInt8, close: UInt8, count: Int, to out: inout [UInt8], pretty: Bool,
                                       indent: Int, item: (Int, inout [UInt8]) -> Void) {
        out.append(open)
        guard pretty else {
            for i in 0..<count {
                if i > 0 { out.append(0x2C) }
                item(i, &out)
            }
            out.append(close)
            return
        }
        if count == 0 {
            out += [0x0A, 0x0A] + Array(repeating: 0x20, count: indent) // JSONEncoder's `{\n\n}`
        }
        for i in 0..<count {
            out += (i > 0 ? [0x2C, 0x0A] : [0x0A]) + Array(repeating: 0x20, count: indent + 2)
            item(i, &out)
        }
        if count > 0 { out += [0x0A] + Array(repeating: 0x20, count: indent) }
        out.append(close)
    }

    /// Integers without a fraction (`90`, not `90.0`), others in Swift's shortest round-trip form;
    /// JSON has no NaN or infinity, so those become null.
    static func numberText(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return String(n)
    }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in s.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
