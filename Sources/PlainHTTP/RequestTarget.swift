#if canImport(Glibc)
import Glibc
#endif

/// Where a request goes and what its first lines say, parsed from `PlainHTTPRequest.url`.
struct RequestTarget: Equatable {
    /// The host to look up or the numeric address, IPv6 without brackets (zone as `%eth0`).
    var host: String
    var port: Int
    /// The `Host` header: `example.com`, `example.com:8080`, `[::1]:8080`.
    var hostHeader: String
    /// Path and query, never empty: `/`, `/containers/json?all=1`.
    var pathAndQuery: String
    /// `Basic …` from `user:password@` in the URL.
    var authorization: String?

    static let defaultPort = 80

    /// Parses an `http://` URL, or with a Unix socket also a bare path.
    static func parse(_ url: String, unixSocket: String?) throws(PlainHTTPError) -> RequestTarget {
        let bytes = Array(url.utf8)
        // Spaces and control characters must be percent-encoded; sending them raw would break the request line.
        guard !bytes.isEmpty, !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { throw .invalidURL(url) }
        if unixSocket != nil, bytes[0] == UInt8(ascii: "/") {
            return RequestTarget(host: "localhost", port: defaultPort, hostHeader: "localhost",
                                 pathAndQuery: pathAndQuery(bytes[...]), authorization: nil)
        }
        guard let schemeEnd = find([0x3A, 0x2F, 0x2F], in: bytes) else { throw .invalidURL(url) }  // "://"
        let scheme = String(decoding: bytes[..<schemeEnd], as: UTF8.self).lowercased()
        guard let first = scheme.utf8.first, isAlpha(first),
              scheme.utf8.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { throw .invalidURL(url) }
        guard scheme == "http" else { throw .unsupportedScheme(scheme) }

        let rest = bytes[(schemeEnd + 3)...]
        let authorityEnd = rest.firstIndex { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 } ?? rest.endIndex  // / ? #
        var authority = rest[..<authorityEnd]
        var authorization: String?
        if let at = authority.lastIndex(of: 0x40) {  // @
            let userinfo = authority[..<at]
            let colon = userinfo.firstIndex(of: 0x3A) ?? userinfo.endIndex
            guard let user = percentDecoded(userinfo[..<colon]),
                  let password = colon == userinfo.endIndex ? [] : percentDecoded(userinfo[(colon + 1)...])
            else { throw .invalidURL(url) }
            authorization = "Basic " + base64(user + [0x3A] + password)
            authority = authority[(at + 1)...]
        }

        var host: String
        var hostHeader: String
        var portText: ArraySlice<UInt8>?
        if authority.first == 0x5B {  // [IPv6]
            guard let close = authority.firstIndex(of: 0x5D) else { throw .invalidURL(url) }
            let literal = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if let colon = after.first {
                guard colon == 0x3A else { throw .invalidURL(url) }
                portText = after.dropFirst()
            }
            // A zone is written %25 in URLs ("[fe80::1%25eth0]"); getaddrinfo wants "fe80::1%eth0".
            var address = String(decoding: literal, as: UTF8.self)
            var zone = ""
            if let percent = address.firstRange(of: "%25") {
                zone = "%" + address[percent.upperBound...]
                address = String(address[..<percent.lowerBound])
            }
            guard isIPv6(address), zone != "%" else { throw .invalidURL(url) }
            host = address + zone
            hostHeader = "[" + address + "]"
        } else {
            let colon = authority.firstIndex(of: 0x3A)
            let name = authority[..<(colon ?? authority.endIndex)]
            if let colon { portText = authority[(colon + 1)...] }
            guard !name.isEmpty, !name.contains(where: { $0 == 0x3A || $0 == 0x5B || $0 == 0x5D || $0 == 0x5C }) else {
                throw .invalidURL(url)
            }
            host = String(decoding: name, as: UTF8.self)
            hostHeader = host
        }

        var port = defaultPort
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy(isDigit),
                  let value = Int(String(decoding: portText, as: UTF8.self)), (1...65535).contains(value)
            else { throw .invalidURL(url) }
            port = value
        }
        if port != defaultPort { hostHeader += ":\(port)" }
        return RequestTarget(host: host, port: port, hostHeader: hostHeader,
                             pathAndQuery: pathAndQuery(bytes[authorityEnd...]), authorization: authorization)
    }

    /// `/path?query` without the fragment; `/` when empty, `/?q` for a bare query.
    private static func pathAndQuery(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0x23) ?? bytes.endIndex  // #
        let text = String(decoding: bytes[..<end], as: UTF8.self)
        return text.hasPrefix("/") ? text : "/" + text
    }

    /// The request line and headers, ending in the blank line.
    func head(for request: PlainHTTPRequest) throws(PlainHTTPError) -> [UInt8] {
        let method = request.method
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalidRequest("method '\(method)' is not an HTTP token: use GET, POST, HEAD, …")
        }
        var ownHost = true, ownAgent = true, ownAuthorization = true
        var extra = ""
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidRequest("header name '\(name)' is not an HTTP token: use letters, digits and -")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidRequest("the value of header '\(name)' contains a line break or NUL: remove it")
            }
            switch name.lowercased() {
            case "connection", "content-length", "transfer-encoding": continue  // framing is ours
            case "host": ownHost = false
            case "user-agent": ownAgent = false
            case "authorization": ownAuthorization = false
            default: break
            }
            extra += name + ": " + value + "\r\n"
        }
        var head = method + " " + pathAndQuery + " HTTP/1.1\r\n"
        if ownHost { head += "Host: " + hostHeader + "\r\n" }
        if ownAgent { head += "User-Agent: opskit\r\n" }
        if ownAuthorization, let authorization { head += "Authorization: " + authorization + "\r\n" }
        head += extra
        if let body = request.body {
            head += "Content-Length: \(body.count)\r\n"
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: 0\r\n"
        }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8)
    }

    // MARK: - Bytes

    /// RFC 9110 tchar: letters, digits and !#$%&'*+-.^_`|~
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    private static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    private static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x25 {  // %
                guard i + 2 < bytes.endIndex, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) else {
                    return nil
                }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(triple >> 6 & 63)] : 0x3D)
            out.append(n > 2 ? alphabet[Int(triple & 63)] : 0x3D)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
