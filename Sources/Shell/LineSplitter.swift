/// Cuts a byte stream into text lines as chunks arrive, holding back the unfinished last line.
struct LineSplitter {
    private var pending: [UInt8] = []

    /// The complete lines in `chunk` (plus what was pending), without their `\n` or `\r\n`.
    mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                lines.append(Self.text(pending))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// The last line when the stream ended without a newline.
    mutating func finish() -> String? {
        defer { pending = [] }
        return pending.isEmpty ? nil : Self.text(pending)
    }

    private static func text(_ bytes: [UInt8]) -> String {
        let trimmed = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes[...]
        return String(decoding: trimmed, as: UTF8.self)
    }
}
