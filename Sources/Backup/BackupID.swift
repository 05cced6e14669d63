import FoundationEssentials

/// A backup's id: sorts by time and says what it is (`backup-20260120-020000`, `pre-migration-20260120-143000`).
public struct BackupID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let name: String
    /// UTC, `YYYYMMDD-HHMMSS`.
    public let stamp: String

    public init(name: String = "backup", at date: Date) {
        self.name = name
        var t = Int(date.timeIntervalSince1970.rounded(.down))
        let seconds = t % 60; t /= 60
        let minutes = t % 60; t /= 60
        let hours = t % 24
        let (y, m, d) = Self.civil(fromDays: t / 24)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        stamp = "\(y)\(two(m))\(two(d))-\(two(hours))\(two(minutes))\(two(seconds))"
    }

    /// Parses `NAME-YYYYMMDD-HHMMSS`; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        let date = parts[parts.count - 2], time = parts[parts.count - 1]
        guard date.count == 8, time.count == 6, date.allSatisfy(\.isNumber), time.allSatisfy(\.isNumber) else { return nil }
        let name = parts.dropLast(2).joined(separator: "-")
        guard !name.isEmpty else { return nil }
        self.name = name
        stamp = "\(date)-\(time)"
    }

    public var description: String { "\(name)-\(stamp)" }

    /// Time order first (the stamp), then name, so a listing reads oldest to newest.
    public static func < (a: BackupID, b: BackupID) -> Bool { (a.stamp, a.name) < (b.stamp, b.name) }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
