/// Where a command runs over ssh: `user@host:port`, each part optional but the host.
public struct SSHHost: Sendable, Hashable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?

    public init(user: String?, host: String, port: Int?) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Parses `host`, `user@host`, `host:2222`, `user@host:2222`, `[::1]:22` (a bare `::1` is a host without port).
    ///
    /// Rejects what ssh would misread: empty parts, whitespace, a user or host starting with `-` (it would
    /// become an ssh option), and ports outside 1…65535.
    public init(parsing text: String) throws {
        func fail(_ why: String) -> SSHHostError { SSHHostError(input: text, problem: why) }
        var rest = Substring(text)
        guard !rest.isEmpty else { throw fail("it is empty") }
        guard !rest.contains(where: \.isWhitespace) else { throw fail("it contains whitespace") }

        var user: String?
        if let at = rest.firstIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard let name = user, !name.isEmpty else { throw fail("the user before @ is empty") }
            guard !name.hasPrefix("-") else { throw fail("the user starts with '-'") }
            guard name.allSatisfy(Self.userCharacters.contains) else { throw fail("the user has characters ssh users cannot have") }
        }

        var host = rest
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("'[' is not closed by ']'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("expected ':port' after ']'") }
                portText = after.dropFirst()
            }
        } else if rest.count(where: { $0 == ":" }) == 1, let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        // Several colons without brackets: a bare IPv6 address, no port.

        guard !host.isEmpty else { throw fail("the host is empty") }
        guard !host.hasPrefix("-") else { throw fail("the host starts with '-'") }
        guard host.allSatisfy(Self.hostCharacters.contains) else { throw fail("the host has characters hostnames cannot have") }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw fail("the port '\(portText)' is not a number from 1 to 65535")
            }
            port = number
        }
        self.init(user: user, host: String(host), port: port)
    }

    /// `user@host:port`, with `[…]` around an IPv6 host that has a port; parses back to the same value.
    public var description: String {
        var text = user.map { $0 + "@" } ?? ""
        if let port {
            text += host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        } else {
            text += host
        }
        return text
    }

    /// What ssh takes as its destination argument; the port goes separately as `-p`.
    var destination: String { user.map { "\($0)@\(host)" } ?? host }

    private static let userCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-$")
    // Letters, digits, '.', '-', '_' for names; ':' for IPv6; '%' for an IPv6 zone (fe80::1%eth0).
    private static let hostCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:%")
}

/// A `user@host:port` string that could not be parsed.
public struct SSHHostError: Error, Sendable, CustomStringConvertible {
    public var input: String
    public var problem: String
    public var description: String { "invalid ssh host '\(input)': \(problem) (expected user@host[:port] or user@[ipv6]:port)" }
}
