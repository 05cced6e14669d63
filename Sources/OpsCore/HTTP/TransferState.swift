/// What one transfer collects from curl's callbacks. Lives and is used on the transfer's thread only.
final class TransferState {
    private let limit: Int
    private let onBody: (@Sendable ([UInt8]) throws -> Void)?
    private let cancellation: CancellationFlag
    private var upload: Upload

    private(set) var body: [UInt8] = []
    private(set) var headers: [(name: String, value: String)] = []
    /// Set when the buffered body passed `limit`; curl then reports only a write error.
    private(set) var exceededLimit = false
    /// An error from the caller's code or cancellation; thrown instead of curl's "aborted by callback".
    private(set) var callbackError: (any Error)?

    private enum Upload {
        case none
        case bytes([UInt8], sent: Int)
        case stream(next: @Sendable () throws -> [UInt8]?, pending: [UInt8], sent: Int)
    }

    init(request: HTTPRequest, onBody: (@Sendable ([UInt8]) throws -> Void)?, cancellation: CancellationFlag) {
        limit = request.maxResponseBytes
        self.onBody = onBody
        self.cancellation = cancellation
        switch request.body {
        case nil: upload = .none
        case .bytes(let bytes)?: upload = .bytes(bytes, sent: 0)
        case .stream(_, let next)?: upload = .stream(next: next, pending: [], sent: 0)
        }
    }

    var streamsBody: Bool { onBody != nil }

    /// The state behind curl's `userdata` pointer.
    static func from(_ context: UnsafeMutableRawPointer?) -> TransferState? {
        context.map { Unmanaged<TransferState>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Write callback: keeps or forwards a body chunk; returning less than `count` makes curl stop.
    func receiveBody(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        guard count > 0 else { return 0 }
        guard let data, callbackError == nil else { return 0 }
        let chunk = UnsafeRawBufferPointer(start: data, count: count)
        if let onBody {
            do {
                try onBody(Array(chunk))
            } catch {
                callbackError = error
                return 0
            }
        } else {
            guard body.count + count <= limit else {
                exceededLimit = true
                return 0
            }
            body.append(contentsOf: chunk)
        }
        return count
    }

    /// Header callback: one raw header line per call. A status line starts a new block, so after
    /// redirects and `100 Continue` only the final response's headers remain.
    func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, count: Int) -> Int {
        guard let data else { return 0 }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmed(of: " \t")
            let value = line[line.index(after: colon)...].trimmed(of: " \t\r\n")
            headers.append((name: name, value: value))
        }
        return count
    }

    /// Read callback: copies up to `capacity` upload bytes into curl's buffer; 0 ends the body.
    func fillUpload(_ buffer: UnsafeMutablePointer<CChar>?, capacity: Int) -> Int {
        guard let buffer else { return 0 }
        let target = UnsafeMutableRawBufferPointer(start: buffer, count: capacity)
        switch upload {
        case .none:
            return 0
        case .bytes(let bytes, let sent):
            let n = min(capacity, bytes.count - sent)
            bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[sent..<sent + n])) }
            upload = .bytes(bytes, sent: sent + n)
            return n
        case .stream(let next, var pending, var sent):
            do {
                while sent == pending.count {
                    guard let chunk = try next() else { return 0 }
                    pending = chunk
                    sent = 0
                }
            } catch {
                callbackError = error
                return Self.readAbort
            }
            let n = min(capacity, pending.count - sent)
            pending.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[sent..<sent + n])) }
            upload = .stream(next: next, pending: pending, sent: sent + n)
            return n
        }
    }

    /// Progress callback: non-zero aborts the transfer once the awaiting task was cancelled.
    func shouldAbort() -> Int32 {
        guard cancellation.isCancelled else { return 0 }
        if callbackError == nil { callbackError = CancellationError() }
        return 1
    }

    /// CURL_READFUNC_ABORT, kept here so this type needs no C import.
    static let readAbort = 0x1000_0000
}

extension StringProtocol {
    /// The text without the given characters at either end.
    func trimmed(of set: String) -> String {
        let skip = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, skip.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, skip.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
