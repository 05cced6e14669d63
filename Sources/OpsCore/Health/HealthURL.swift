/// Checks that a string is an http(s) URL worth sending, before any request is made.
public enum HealthURL {
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let url: String
        public let reason: String
        public var description: String { "invalid URL \"\(url)\": \(reason)" }
    }

    public static func validate(_ url: String) throws(Invalid) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw Invalid(url: url, reason: "expected http://HOST[:PORT]/PATH or https://…")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw Invalid(url: url, reason: "scheme must be http or https, not \"\(scheme)\"")
        }
        if url.contains(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) }) {
            throw Invalid(url: url, reason: "contains spaces or control characters (percent-encode them)")
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        let host: Substring
        var port: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw Invalid(url: url, reason: "unterminated [IPv6] address")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty {
                throw Invalid(url: url, reason: "unexpected text after ]")
            }
        } else {
            let parts = hostPort.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw Invalid(url: url, reason: "too many colons in host:port") }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty else { throw Invalid(url: url, reason: "no host") }
        if let port {
            guard let n = Int(port), (1...65535).contains(n) else {
                throw Invalid(url: url, reason: "port must be a number from 1 to 65535")
            }
        }
    }
}
