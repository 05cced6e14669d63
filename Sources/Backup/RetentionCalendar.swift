import FoundationEssentials

/// UTC calendar buckets for retention rules, as comparable integers (restic's `ymd`, `yw`, `ym`, `y`).
/// Plain arithmetic rather than `Calendar`, so the buckets cannot depend on the host's time zone or locale.
enum RetentionCalendar {
    /// Days since 1970-01-01 UTC; floors, so instants before 1970 land in the right day.
    static func day(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// `YYYYWW` in ISO 8601 week numbering: weeks start on Monday and belong to the year of their Thursday.
    static func isoWeek(_ date: Date) -> Int {
        let days = day(date)
        let weekday = ((days + 3) % 7 + 7) % 7  // 0 = Monday; 1970-01-01 was a Thursday
        let thursday = days - weekday + 3
        let (year, _, _) = BackupID.civil(fromDays: thursday)
        let week = (thursday - Self.days(fromYear: year)) / 7 + 1
        return year * 100 + week
    }

    /// `YYYYMM`.
    static func month(_ date: Date) -> Int {
        let (year, month, _) = BackupID.civil(fromDays: day(date))
        return year * 100 + month
    }

    static func year(_ date: Date) -> Int {
        BackupID.civil(fromDays: day(date)).0
    }

    /// Days since 1970-01-01 to January 1st of `year` (inverse of `BackupID.civil` for that day).
    static func days(fromYear year: Int) -> Int {
        let y = year - 1  // January counts as month 11 of the previous March-based year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = 306  // March 1st to January 1st
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
