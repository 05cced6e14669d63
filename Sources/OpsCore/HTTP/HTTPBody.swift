/// What a request sends: bytes in memory, or chunks pulled on demand for uploads too large to hold.
public enum HTTPBody: Sendable {
    /// The whole body in memory.
    case bytes([UInt8])
    /// A body produced chunk by chunk on the transfer's thread: `next` returns the next chunk, `nil` at the end.
    /// With `length` the request carries `Content-Length`; without it the body goes chunked.
    case stream(length: Int?, next: @Sendable () throws -> [UInt8]?)

    /// A UTF-8 text body.
    public static func text(_ text: String) -> HTTPBody { .bytes(Array(text.utf8)) }

    /// The body's size when known up front.
    var length: Int? {
        switch self {
        case .bytes(let bytes): bytes.count
        case .stream(let length, _): length
        }
    }
}
