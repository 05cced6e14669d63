/// Keeps only the last `capacity` bytes of a stream, so many MiB of stderr cost bounded memory.
struct OutputTail: Sendable {
    let capacity: Int
    private var buffer: [UInt8] = []
    /// Whether bytes were dropped from the front.
    private(set) var truncated = false

    init(capacity: Int) { self.capacity = max(capacity, 0) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        // Trim in batches (at twice the capacity) so appends stay amortized O(n).
        if buffer.count > 2 * capacity {
            buffer.removeFirst(buffer.count - capacity)
            truncated = true
        }
    }

    /// The kept bytes: the whole stream, or its last `capacity` bytes.
    var bytes: [UInt8] {
        guard buffer.count > capacity else { return buffer }
        return Array(buffer.suffix(capacity))
    }

    /// The last `count` lines, secrets masked; a partial first line (cut by truncation) is dropped.
    func lastLines(_ count: Int = 10) -> [String] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        if (truncated || buffer.count > capacity), lines.count > 1 { lines.removeFirst() }
        return lines.suffix(count).map { line in
            var text = String(decoding: line, as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            return Redactor.redact(text)
        }
    }
}
