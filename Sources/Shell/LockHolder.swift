import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who holds a ``FileLock``: what a person needs to find the process, and what we need to prove it gone.
public struct LockHolder: Codable, Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    public var user: String
    public var command: String
    public var startedAt: Date

    public init(pid: Int32, host: String, user: String, command: String, startedAt: Date) {
        self.pid = pid
        self.host = host
        self.user = user
        self.command = command
        self.startedAt = startedAt
    }

    /// This process, started now; the time is whole seconds so it survives the ISO 8601 round trip unchanged.
    public static func current(command: String) -> LockHolder {
        LockHolder(pid: getpid(), host: hostName(), user: userName(), command: command,
                   startedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
    }

    /// `pid 123 (deploy production) on web1 by deploy since 2026-05-01T12:00:00Z`
    public var description: String {
        "pid \(pid) (\(command)) on \(host) by \(user) since \(Timestamp.iso8601(seconds: Int(startedAt.timeIntervalSince1970.rounded(.down))))"
    }

    /// The lock file's content: pretty JSON a person can read with `cat`, newline-terminated.
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    static func decode(_ bytes: [UInt8]) throws -> LockHolder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(LockHolder.self, from: Data(bytes))
    }

    /// The kernel's host name, as `hostname` prints it.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The login name of the real user, or `uid N` when it has no passwd entry (common in containers).
    static func userName() -> String {
        let uid = getuid()
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return "uid \(uid)"
        }
        return String(cString: name)
    }
}
