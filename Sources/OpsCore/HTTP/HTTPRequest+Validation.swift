extension HTTPRequest {
    /// Rejects what curl would misread instead of refusing: a scheme-less URL (curl guesses `http://`),
    /// and line breaks in headers (they would smuggle extra headers onto the wire).
    func validate() throws(HTTPError) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else {
            throw .invalidURL(url)
        }
        guard !host.isEmpty, !rest.hasPrefix("/"),
              !url.unicodeScalars.contains(where: { Self.isWhitespace($0) || $0.value < 0x20 || $0.value == 0x7F })
        else { throw .invalidURL(url) }
        guard !method.isEmpty, method.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
            throw .invalidRequest("method '\(method)' is not an HTTP token")
        }
        for header in headers {
            guard !header.name.isEmpty, header.name.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
                throw .invalidRequest("header name '\(header.name)' is not an HTTP token")
            }
            guard !header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw .invalidRequest("header '\(header.name)' has a line break in its value")
            }
        }
    }

    /// The host part of `url`, without user info, port or IPv6 brackets; "" when there is none.
    var host: String {
        guard let schemeEnd = url.firstRange(of: "://") else { return "" }
        var authority = url[schemeEnd.upperBound...].prefix { !"/?#".contains($0) }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            return String(authority.dropFirst().prefix { $0 != "]" })
        }
        return String(authority.prefix { $0 != ":" })
    }

    /// Whether the request goes over TLS.
    var isHTTPS: Bool { url.lowercased().hasPrefix("https://") }

    // RFC 9110 token characters.
    private static func isTokenCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                      || "!#$%&'*+-.^_`|~".unicodeScalars.contains(c))
    }

    /// Unicode's White_Space property, listed: the same answer as `properties.isWhitespace` without loading
    /// the property tables on first use (~0.15 ms of every health check's start).
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
