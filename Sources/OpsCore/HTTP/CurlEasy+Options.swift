internal import CCurl
#if canImport(Glibc)
import Glibc
#endif

extension CurlEasy {
    /// Applies every option of `request`; `state` receives the callbacks and must outlive the transfer.
    func configure(for request: HTTPRequest, state: TransferState) throws(HTTPError) {
        let context = Unmanaged.passUnretained(state).toOpaque()
        try set(CURLOPT_URL, request.url)
        // Signals and multi-threaded programs do not mix; timeouts still work with the threaded resolver.
        try set(CURLOPT_NOSIGNAL, 1)
        try check(opskit_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try set(CURLOPT_USERAGENT, "opskit/\(OpsKit.version)")
        // Never let a URL or a redirect lead curl into file://, ftp:// or the other protocols it knows.
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        try set(CURLOPT_MAXREDIRS, 10)
        try set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        try set(CURLOPT_TIMEOUT_MS, request.timeout.milliseconds)
        try set(CURLOPT_SSL_VERIFYPEER, request.verifyTLS ? 1 : 0)
        try set(CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0)
        if let caFile = request.caFile { try set(CURLOPT_CAINFO, caFile) }
        if request.isHTTPS { try set(CURLOPT_CERTINFO, 1) }
        try configureProxy(for: request)
        try configureHeaders(request.headers)
        try configureMethodAndBody(for: request, context: context)
        try configureCallbacks(for: request, state: state, context: context)
    }

    /// Proxies from the environment (`https_proxy`, …) stay honoured, as corporate networks need them, but
    /// loopback never goes through one: a health check of `localhost` must reach this machine's service.
    /// CURLOPT_NOPROXY replaces `NO_PROXY`, so the user's list is kept and loopback appended.
    private func configureProxy(for request: HTTPRequest) throws(HTTPError) {
        if let socket = request.unixSocketPath {
            try set(CURLOPT_UNIX_SOCKET_PATH, socket)
            try set(CURLOPT_PROXY, "")
            return
        }
        let fromEnvironment = [getenv("NO_PROXY"), getenv("no_proxy")].compactMap { $0.map { String(cString: $0) } }
        let noProxy = (fromEnvironment.filter { !$0.isEmpty } + ["localhost", "127.0.0.1", "::1"]).joined(separator: ",")
        try set(CURLOPT_NOPROXY, noProxy)
    }

    private func configureHeaders(_ headers: [(name: String, value: String)]) throws(HTTPError) {
        for header in headers {
            // "Name;" is curl's spelling of a header sent with an empty value ("Name:" would remove it).
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            guard let list = curl_slist_append(headerList, line) else {
                throw .transport(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory building headers")
            }
            headerList = list
        }
        if headerList != nil { try check(opskit_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)) }
    }

    private func configureMethodAndBody(for request: HTTPRequest, context: UnsafeMutableRawPointer) throws(HTTPError) {
        let method = request.method.uppercased()
        guard let body = request.body else {
            if method == "HEAD" {
                try set(CURLOPT_NOBODY, 1)
            } else if method != "GET" {
                try set(CURLOPT_CUSTOMREQUEST, request.method)
            }
            return
        }
        // POST with a read callback serves every method with a body; CUSTOMREQUEST renames it (PUT, PATCH).
        try set(CURLOPT_POST, 1)
        try check(opskit_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.length ?? -1)))
        try check(opskit_curl_setopt_read_cb(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
            TransferState.from(context)?.fillUpload(buffer, capacity: size * count) ?? TransferState.readAbort
        })
        try check(opskit_curl_setopt_pointer(handle, CURLOPT_READDATA, context))
        if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, request.method) }
    }

    private func configureCallbacks(
        for request: HTTPRequest, state: TransferState, context: UnsafeMutableRawPointer
    ) throws(HTTPError) {
        try check(opskit_curl_setopt_write_cb(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            TransferState.from(context)?.receiveBody(data, count: size * count) ?? 0
        })
        try check(opskit_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(opskit_curl_setopt_write_cb(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            TransferState.from(context)?.receiveHeader(data, count: size * count) ?? 0
        })
        try check(opskit_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        // The progress callback is the one curl calls even while a transfer is idle: it polls cancellation.
        try set(CURLOPT_NOPROGRESS, 0)
        try check(opskit_curl_setopt_xferinfo_cb(handle, CURLOPT_XFERINFOFUNCTION) { context, _, _, _, _ in
            TransferState.from(context)?.shouldAbort() ?? 1
        })
        try check(opskit_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        // A HEAD reply has no body: its Content-Length describes the resource (a 12 MiB object) and must not
        // be measured against the limit, which curl would otherwise do before the transfer.
        if request.maxResponseBytes >= 0 && !state.streamsBody && request.method.uppercased() != "HEAD" {
            // Fails before reading a byte when Content-Length already says too much.
            try check(opskit_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPError) {
        try check(opskit_curl_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPError) {
        // curl copies string options (since 7.17), so a temporary C string is enough.
        try check(value.withCString { opskit_curl_setopt_string(handle, option, $0) })
    }

    private func check(_ code: CURLcode) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw .transport(code: Int(code.rawValue), message: "libcurl rejected an option: " + Self.text(of: code))
        }
    }

    static func text(of code: CURLcode) -> String {
        curl_easy_strerror(code).map { String(cString: $0) } ?? "curl error \(code.rawValue)"
    }
}
