internal import CCurl

/// Owns one libcurl easy handle and the memory libcurl points into while it runs; `deinit` frees them.
///
/// The only type that touches libcurl: everything it hands out is plain Swift. One handle serves one transfer
/// on one thread, so no locking is needed.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// Curl writes its human-readable error here (CURLOPT_ERRORBUFFER); it must outlive the transfer.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// Request headers; curl keeps the pointer, so the list lives as long as the handle.
    var headerList: UnsafeMutablePointer<curl_slist>?

    /// curl_global_init is not thread-safe in every libcurl build; a static let runs it exactly once.
    static let globalInitCode: UInt32 = curl_global_init(Int(CURL_GLOBAL_ALL)).rawValue

    private init() throws(HTTPError) {
        guard Self.globalInitCode == CURLE_OK.rawValue else {
            // Loaded on first use (CLazyLoad): a missing libcurl surfaces here, as this one line.
            let why = opskit_curl_unavailable().map { String(cString: $0) } ?? "libcurl could not initialise"
            throw .transport(code: Int(Self.globalInitCode), message: why)
        }
        guard let handle = curl_easy_init() else {
            throw .transport(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not create a handle")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Runs one request to completion on the calling thread (which it blocks).
    static func perform(
        _ request: HTTPRequest,
        onBody: (@Sendable ([UInt8]) throws -> Void)?,
        cancellation: CancellationFlag
    ) throws -> HTTPResponse {
        try request.validate()
        let easy = try CurlEasy()
        let state = TransferState(request: request, onBody: onBody, cancellation: cancellation)
        let code = try withExtendedLifetime(state) { () throws(HTTPError) -> CURLcode in
            try easy.configure(for: request, state: state)
            return curl_easy_perform(easy.handle)
        }
        // The caller's own error (a failing upload source or body consumer, or cancellation) wins over
        // the generic "aborted by callback" curl reports for it.
        if let error = state.callbackError { throw error }
        guard code == CURLE_OK else { throw easy.error(for: code, request: request, state: state) }
        return easy.response(state: state)
    }
}
