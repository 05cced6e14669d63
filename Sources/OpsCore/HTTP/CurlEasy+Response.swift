internal import CCurl
import FoundationEssentials

extension CurlEasy {
    /// Builds the response from what the callbacks collected and what curl measured.
    func response(state: TransferState) -> HTTPResponse {
        HTTPResponse(
            status: long(CURLINFO_RESPONSE_CODE),
            headers: state.headers,
            body: state.body,
            timings: timings(),
            certificateExpiry: leafCertificateField("Expire date:").flatMap(CertificateDate.parse),
            httpVersion: httpVersion(),
            remoteAddress: string(CURLINFO_PRIMARY_IP).flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    func timings() -> HTTPTimings {
        // The *_T variants are integer microseconds: exact, unlike the double-seconds ones.
        func micro(_ info: CURLINFO) -> Duration {
            var value: curl_off_t = 0
            guard opskit_curl_getinfo_off(handle, info, &value) == CURLE_OK else { return .zero }
            return .microseconds(max(0, value))
        }
        return HTTPTimings(
            dns: micro(CURLINFO_NAMELOOKUP_TIME_T),
            connect: micro(CURLINFO_CONNECT_TIME_T),
            tls: micro(CURLINFO_APPCONNECT_TIME_T),
            firstByte: micro(CURLINFO_STARTTRANSFER_TIME_T),
            total: micro(CURLINFO_TOTAL_TIME_T)
        )
    }

    private func httpVersion() -> String? {
        switch long(CURLINFO_HTTP_VERSION) {
        case CURL_HTTP_VERSION_1_0: "1.0"
        case CURL_HTTP_VERSION_1_1: "1.1"
        case CURL_HTTP_VERSION_2_0: "2"
        case CURL_HTTP_VERSION_3: "3"
        default: nil
        }
    }

    /// A field of the peer's own certificate (the first in the chain) from CURLOPT_CERTINFO, e.g.
    /// "Expire date:" → "Nov 21 10:00:00 2027 GMT".
    private func leafCertificateField(_ prefix: String) -> String? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard opskit_curl_getinfo_certinfo(handle, CURLINFO_CERTINFO, &info) == CURLE_OK,
              let info, info.pointee.num_of_certs > 0, var item = info.pointee.certinfo?[0] else { return nil }
        while true {
            if let data = item.pointee.data {
                let line = String(cString: data)
                if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            }
            guard let next = item.pointee.next else { return nil }
            item = next
        }
    }

    func long(_ info: CURLINFO) -> Int {
        var value = 0
        return opskit_curl_getinfo_long(handle, info, &value) == CURLE_OK ? value : 0
    }

    private func string(_ info: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard opskit_curl_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }
}
