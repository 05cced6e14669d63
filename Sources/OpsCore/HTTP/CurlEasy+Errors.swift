internal import CCurl

extension CurlEasy {
    /// Turns a failed transfer into the error a caller can act on, with curl's own detailed message.
    func error(for code: CURLcode, request: HTTPRequest, state: TransferState) -> HTTPError {
        let message = errorMessage(for: code)
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .invalidURL(request.url)
        case CURLE_COULDNT_RESOLVE_HOST:
            return .couldNotResolve(host: request.host)
        case CURLE_COULDNT_CONNECT:
            return .connectionRefused(message)
        case CURLE_OPERATION_TIMEDOUT:
            // Never connected means the connect timeout fired; otherwise the total one did.
            var connected: curl_off_t = 0
            _ = opskit_curl_getinfo_off(handle, CURLINFO_CONNECT_TIME_T, &connected)
            return .timedOut(after: connected > 0 ? request.timeout : request.connectTimeout)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS:
            return .tlsCertificate(message)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
             CURLE_USE_SSL_FAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CLIENTCERT:
            return .tls(message)
        case CURLE_FILESIZE_EXCEEDED:
            return .responseTooLarge(limit: request.maxResponseBytes)
        case CURLE_WRITE_ERROR where state.exceededLimit:
            return .responseTooLarge(limit: request.maxResponseBytes)
        default:
            return .transport(code: Int(code.rawValue), message: message)
        }
    }

    /// The specific message curl left in the error buffer ("SSL certificate problem: certificate has
    /// expired"), falling back to the generic text for the code.
    private func errorMessage(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer).trimmed(of: " \n")
        return detail.isEmpty ? Self.text(of: code) : detail
    }
}
