#if canImport(Glibc)
import Glibc
#endif
import Shell

/// A PostgreSQL connection URL, `postgres://user:password@host:port/database?sslmode=require`
/// (`postgresql://` too), as libpq reads it. Its ``description`` never shows the password.
///
/// One host only. Components are percent-decoded (`%40` in a password is `@`; a host of `%2Frun%2Fpostgresql`
/// is a socket directory). Query parameters are libpq keywords (`sslmode`, `connect_timeout`, …) passed on
/// as they are; a `password` parameter is taken as the password.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// `postgres` or `postgresql`, as written.
    public var scheme: String
    public var user: String?
    /// Never printed; reaches the tools through `PGPASSWORD`.
    var password: String?
    /// A name, an address (IPv6 without brackets), or a socket directory; `nil`: libpq's default socket.
    public var host: String?
    public var port: Int?
    public var database: String
    /// Other libpq connection keywords, by name.
    public var parameters: [String: String]

    public var hasPassword: Bool { password != nil }

    /// - Throws: ``PostgresError/invalidURL(reason:)``, whose reason never repeats the URL (it may hold a password).
    public init(parsing text: String) throws {
        let text = text.trimmingWhitespace()
        func invalid(_ reason: String) -> PostgresError { .invalidURL(reason: reason) }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw invalid("it does not start with postgres:// or postgresql://")
        }
        let scheme = String(text[..<schemeEnd.lowerBound])
        guard ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw invalid("the scheme is \"\(scheme.prefix(20))\", not postgres or postgresql")
        }
        self.scheme = scheme
        var rest = Substring(text[schemeEnd.upperBound...])

        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // The last '@' ends the user info, so an unencoded '@' or '/' in a password still parses.
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.decode(userInfo[..<colon], part: "user name")
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], part: "password")
            } else {
                user = try Self.decode(userInfo, part: "user name")
            }
            if user == "" { user = nil }
        }
        var authority = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        guard !authority.contains(",") else { throw invalid("it names several hosts; give one") }
        var hostPart = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("an IPv6 address lacks its closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                port = try Self.port(after.dropFirst())
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            port = try Self.port(authority[authority.index(after: colon)...])
        }
        host = hostPart.isEmpty ? nil : try Self.decode(hostPart, part: "host")
        database = try Self.decode(path, part: "database name")

        parameters = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], part: "parameter name")
            let value = parts.count > 1 ? try Self.decode(parts[1], part: "parameter \(name)") : ""
            switch name {
            case "password": password = value
            case "user": user = value
            case "host": host = value
            case "port":
                port = try Self.port(Substring(value))
            case "dbname": database = value
            default: parameters[name] = value
            }
        }
        guard !database.isEmpty else { throw invalid("it names no database: end it with /DATABASE") }
    }

    /// The URL with the password (and any secret-named parameter) replaced by `***`.
    public var description: String {
        var text = scheme + "://"
        if let user { text += Self.encode(user) + (password == nil ? "" : ":" + Redactor.mask) + "@" }
        if let host { text += host.contains(":") ? "[\(host)]" : Self.encode(host) }
        if let port { text += ":\(port)" }
        text += "/" + Self.encode(database)
        let query = parameters.sorted { $0.key < $1.key }.map { name, value in
            "\(Self.encode(name))=\(Redactor.isSecretName(name) ? Redactor.mask : Self.encode(value))"
        }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    /// A libpq connection string without the password: safe in argv, where `ps` shows it.
    var connectionString: String {
        var pairs: [(String, String)] = []
        if let host { pairs.append(("host", host)) }
        if let port { pairs.append(("port", String(port))) }
        if let user { pairs.append(("user", user)) }
        pairs.append(("dbname", database))
        pairs += parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return pairs.map { "\($0.0)=\(Self.quote($0.1))" }.joined(separator: " ")
    }

    /// Environment for the client tools: the password, and a connect timeout unless one was chosen.
    var environment: [String: String?] {
        var environment: [String: String?] = [:]
        if let password { environment["PGPASSWORD"] = password }
        if parameters["connect_timeout"] == nil, getenv("PGCONNECT_TIMEOUT") == nil {
            environment["PGCONNECT_TIMEOUT"] = "30"
        }
        return environment
    }

    /// `text` with the password (when long enough to be told apart from ordinary words) masked.
    func redacting(_ text: String) -> String {
        var text = Redactor.redact(text)
        if let password, password.count >= 3 { text = text.replacing(password, with: Redactor.mask) }
        return text
    }

    // MARK: - Parsing helpers

    private static func port(_ text: Substring) throws -> Int? {
        if text.isEmpty { return nil }
        guard let port = Int(text), (1...65535).contains(port) else {
            throw PostgresError.invalidURL(reason: "the port is not a number from 1 to 65535")
        }
        return port
    }

    private static func decode(_ text: Substring, part: String) throws -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                throw PostgresError.invalidURL(reason: "the \(part) has a % not followed by two hex digits")
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "-._~".contains(c) {
                out.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// A libpq keyword value in single quotes, `\` and `'` escaped.
    private static func quote(_ value: String) -> String {
        "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
