import FoundationEssentials
import Testing
@testable import Backup

/// UTC instant from a calendar date (Howard Hinnant's days_from_civil), so expectations read as dates.
private func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 2, _ minute: Int = 0, _ second: Int = 0) -> Date {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second))
}

private func backup(_ date: Date, permanent: Bool = false, name: String = "backup") -> RetentionCandidate {
    RetentionCandidate(id: BackupID(name: name, at: date), createdAt: date, permanent: permanent)
}

/// One backup a day at 02:00 UTC, from `first` for `count` days.
private func daily(from first: Date, count: Int, hour: Int = 0) -> [RetentionCandidate] {
    (0..<count).map { backup(first.addingTimeInterval(Double($0 * 86_400 + hour * 3_600))) }
}

private extension RetentionDecision {
    var kept: [String] { keep.map(\.candidate.id.stamp) }
    var removed: [String] { remove.map(\.id.stamp) }
    func reasons(_ stamp: String) -> [String]? { keep.first { $0.candidate.id.stamp == stamp }?.reasons }
}

@Suite struct RetentionTests {
    @Test func keepLastKeepsTheNNewest() throws {
        let decision = try plan(daily(from: at(2026, 1, 1), count: 5), policy: RetentionPolicy(keepLast: 3))
        #expect(decision.kept == ["20260105-020000", "20260104-020000", "20260103-020000"])
        #expect(decision.removed == ["20260102-020000", "20260101-020000"])
        #expect(decision.keep.allSatisfy { $0.reasons == ["last snapshot"] })
    }

    @Test func dailyKeepsTheNewestOfEachDay() throws {
        let backups = [1, 2, 3].flatMap { day in [2, 10, 18].map { backup(at(2026, 1, day, $0)) } }
        let decision = try plan(backups, policy: RetentionPolicy(keepDaily: 2))
        #expect(decision.kept == ["20260103-180000", "20260102-180000"])
        #expect(decision.removed == ["20260103-100000", "20260103-020000", "20260102-100000", "20260102-020000",
                                     "20260101-180000", "20260101-100000", "20260101-020000"])
    }

    @Test func dayBucketsAreUTCCalendarDays() throws {
        let backups = [backup(at(2026, 1, 1, 23, 59, 59)), backup(at(2026, 1, 2, 0, 0, 0)), backup(at(2026, 1, 2, 0, 0, 1))]
        let decision = try plan(backups, policy: RetentionPolicy(keepDaily: 2))
        #expect(decision.kept == ["20260102-000001", "20260101-235959"])
    }

    @Test func daysWithoutBackupsDoNotCount() throws {
        let backups = [1, 2, 5, 9, 10].map { backup(at(2026, 1, $0)) }
        let decision = try plan(backups, policy: RetentionPolicy(keepDaily: 3))
        #expect(decision.kept == ["20260110-020000", "20260109-020000", "20260105-020000"])
        #expect(decision.removed == ["20260102-020000", "20260101-020000"])
    }

    /// restic ≥ 0.17: a rule with slots left when it reaches the oldest backup keeps that one too.
    @Test func aRuleWithSlotsLeftKeepsTheOldestBackup() throws {
        let backups = [1, 2].flatMap { day in [2, 14].map { backup(at(2026, 1, day, $0)) } }
        let decision = try plan(backups, policy: .default)
        #expect(decision.kept == ["20260102-140000", "20260101-140000", "20260101-020000"])
        #expect(decision.reasons("20260101-020000") == ["oldest daily snapshot"])
        #expect(decision.removed == ["20260102-020000"])
    }

    @Test func isoWeeksAtYearBoundaries() {
        #expect(RetentionCalendar.isoWeek(at(2020, 12, 31)) == 2020_53)
        #expect(RetentionCalendar.isoWeek(at(2021, 1, 1)) == 2020_53)
        #expect(RetentionCalendar.isoWeek(at(2021, 1, 3, 23, 59, 59)) == 2020_53)  // Sunday
        #expect(RetentionCalendar.isoWeek(at(2021, 1, 4, 0)) == 2021_01)  // Monday
        #expect(RetentionCalendar.isoWeek(at(2015, 12, 31)) == 2015_53)
        #expect(RetentionCalendar.isoWeek(at(2016, 1, 3)) == 2015_53)
        #expect(RetentionCalendar.isoWeek(at(2016, 1, 4)) == 2016_01)
        #expect(RetentionCalendar.isoWeek(at(2014, 12, 29)) == 2015_01)  // week 1 starting in December
        #expect(RetentionCalendar.isoWeek(at(2008, 12, 29)) == 2009_01)
        #expect(RetentionCalendar.isoWeek(at(1969, 12, 31)) == 1970_01)  // before the epoch: floors, not truncates
        #expect(RetentionCalendar.isoWeek(at(2026, 1, 20)) == 2026_04)
    }

    @Test func weeklyAcrossTheTurnOf2020() throws {
        // Daily from Thu 2020-12-24 to Tue 2021-01-12: 2020-W52 ends Sun 12-27, 2020-W53 runs Mon 12-28 to Sun 01-03.
        let decision = try plan(daily(from: at(2020, 12, 24, 12), count: 20), policy: RetentionPolicy(keepWeekly: 3))
        #expect(decision.kept == ["20210112-120000", "20210110-120000", "20210103-120000"])
        #expect(decision.keep.allSatisfy { $0.reasons == ["weekly snapshot"] })
        #expect(decision.removed.contains("20210101-120000"))
        #expect(decision.removed.contains("20201231-120000"))
    }

    @Test func weeklyAcrossTheTurnOf2015() throws {
        let backups = [at(2015, 12, 27), at(2015, 12, 31), at(2016, 1, 2), at(2016, 1, 5)].map { backup($0) }
        let decision = try plan(backups, policy: RetentionPolicy(keepWeekly: 3))
        #expect(decision.kept == ["20160105-020000", "20160102-020000", "20151227-020000"])
        #expect(decision.removed == ["20151231-020000"])
    }

    @Test func monthlyKeepsTheNewestOfEachUTCMonth() throws {
        let backups = [at(2025, 12, 15), at(2026, 1, 5), at(2026, 1, 31, 23, 59, 59), at(2026, 2, 1, 0), at(2026, 2, 20),
                       at(2026, 3, 3)].map { backup($0) }
        let decision = try plan(backups, policy: RetentionPolicy(keepMonthly: 3))
        #expect(decision.kept == ["20260303-020000", "20260220-020000", "20260131-235959"])
        #expect(decision.removed == ["20260201-000000", "20260105-020000", "20251215-020000"])
    }

    @Test func rulesCombineWithOrAndRecordEveryReason() throws {
        // Thu 2026-01-01 … Sat 2026-01-10; 2026-W01 is Mon 2025-12-29 to Sun 2026-01-04.
        let policy = RetentionPolicy(keepLast: 2, keepDaily: 3, keepWeekly: 2)
        let decision = try plan(daily(from: at(2026, 1, 1), count: 10), policy: policy)
        #expect(decision.kept == ["20260110-020000", "20260109-020000", "20260108-020000", "20260104-020000"])
        #expect(decision.reasons("20260110-020000") == ["last snapshot", "daily snapshot", "weekly snapshot"])
        #expect(decision.reasons("20260109-020000") == ["last snapshot", "daily snapshot"])
        #expect(decision.reasons("20260108-020000") == ["daily snapshot"])
        #expect(decision.reasons("20260104-020000") == ["weekly snapshot"])
        #expect(decision.removed.count == 6)
    }

    @Test func permanentBackupsAreNeverRemovedAndUseNoSlot() throws {
        var backups = daily(from: at(2026, 1, 1), count: 5)
        backups[3].permanent = true  // 01-04
        backups[0].permanent = true  // 01-01, oldest
        backups.append(backup(at(2026, 1, 5, 14), permanent: true, name: "pre-migration"))
        let decision = try plan(backups, policy: RetentionPolicy(keepDaily: 2))
        #expect(decision.kept == ["20260105-140000", "20260105-020000", "20260104-020000", "20260103-020000", "20260101-020000"])
        #expect(decision.reasons("20260105-140000") == ["permanent"])
        #expect(decision.reasons("20260105-020000") == ["daily snapshot"])  // the permanent one did not take 01-05
        #expect(decision.reasons("20260104-020000") == ["permanent"])
        #expect(decision.reasons("20260103-020000") == ["daily snapshot"])  // nor did 01-04 take a slot
        #expect(decision.reasons("20260101-020000") == ["permanent"])
        #expect(decision.removed == ["20260102-020000"])
    }

    @Test func theNewestBackupIsAlwaysKept() throws {
        let backups = [backup(at(2026, 1, 20, 2)), backup(at(2026, 1, 20, 3)), backup(at(2026, 1, 20, 4))]
        for policy in [RetentionPolicy(keepLast: 1), .default, RetentionPolicy(keepWeekly: 1), RetentionPolicy(keepYearly: 1)] {
            #expect(try plan(backups, policy: policy).keep.first?.candidate.id.stamp == "20260120-040000")
        }
        // The safety net under the rules, which no valid policy reaches on its own:
        let sorted = [backup(at(2026, 1, 2)), backup(at(2026, 1, 1))]
        let decision = try guarded(sorted, reasons: [[], ["daily snapshot"]])
        #expect(decision.reasons("20260102-020000") == ["newest backup"])
        #expect(decision.remove.isEmpty)
    }

    @Test func aPlanThatRemovesEveryOrdinaryBackupIsRefused() {
        let sorted = [backup(at(2026, 1, 3), permanent: true), backup(at(2026, 1, 2)), backup(at(2026, 1, 1))]
        #expect(throws: RetentionError.wouldRemoveEverything(count: 2)) {
            try guarded(sorted, reasons: [["permanent"], [], []])
        }
        #expect(RetentionError.wouldRemoveEverything(count: 2).description == "refusing to prune: the plan would remove all 2 backups")
    }

    @Test func anEmptyPolicyIsRefused() {
        #expect(RetentionPolicy().isEmpty)
        #expect(!RetentionPolicy.default.isEmpty)
        #expect(throws: RetentionError.emptyPolicy) { try plan(daily(from: at(2026, 1, 1), count: 3), policy: RetentionPolicy()) }
        #expect(throws: RetentionError.emptyPolicy) { try plan([], policy: RetentionPolicy()) }
        #expect(RetentionError.emptyPolicy.description == "refusing to prune with no keep rule: that would delete every backup")
        #expect(throws: RetentionError.negativeCount(rule: "keep-daily", count: -1)) {
            try plan([], policy: RetentionPolicy(keepDaily: -1))
        }
    }

    @Test func noBackupsIsAnEmptyPlan() throws {
        #expect(try plan([], policy: .default) == RetentionDecision(keep: [], remove: []))
    }

    @Test func defaultPolicyKeepsSevenDailies() throws {
        #expect(RetentionPolicy.default == RetentionPolicy(keepDaily: 7))
        let decision = try plan(daily(from: at(2026, 1, 1), count: 10), policy: .default)
        #expect(decision.kept == (4...10).reversed().map { "202601\($0 < 10 ? "0" : "")\($0)-020000" })
        #expect(decision.removed == ["20260103-020000", "20260102-020000", "20260101-020000"])
    }

    @Test func outputIsNewestFirstWhateverTheInputOrder() throws {
        let same = at(2026, 1, 2)
        let backups = [backup(at(2026, 1, 1)), backup(same, name: "alpha"), backup(at(2026, 1, 3)), backup(same, name: "zeta")]
        let decision = try plan(backups, policy: RetentionPolicy(keepLast: 3))
        #expect(decision.keep.map(\.candidate.id.description) == ["backup-20260103-020000", "zeta-20260102-020000", "alpha-20260102-020000"])
        #expect(try plan(backups.reversed(), policy: RetentionPolicy(keepLast: 3)) == decision)
    }

    // MARK: restic's documented examples (doc/060_forget.rst), worked by hand

    /// "Suppose you have only made one backup every Sunday for 12 weeks … `forget --keep-daily 4` will keep the last
    /// four snapshots, for the last four Sundays, and remove the other snapshots."
    @Test func resticTwelveSundaysKeepDaily4() throws {
        let sundays = daily(from: at(2019, 9, 1, 0), count: 78, hour: 11).enumerated().filter { $0.offset % 7 == 0 }.map(\.element)
        #expect(sundays.count == 12 && sundays.last?.id.stamp == "20191117-110000")
        let decision = try plan(sundays, policy: RetentionPolicy(keepDaily: 4))
        #expect(decision.kept == ["20191117-110000", "20191110-110000", "20191103-110000", "20191027-110000"])
        #expect(decision.keep.allSatisfy { $0.reasons == ["daily snapshot"] })
        #expect(decision.removed == ["20191020-110000", "20191013-110000", "20191006-110000", "20190929-110000",
                                     "20190922-110000", "20190915-110000", "20190908-110000", "20190901-110000"])
    }

    /// "one backup every day … `--keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75` would keep the
    /// most recent 7 daily snapshots and 4 last-day-of-the-week ones (since the 7 dailies already include 1 weekly).
    /// Additionally, 12 or 11 last-day-of-the-month snapshots … And finally 75 or 74 last-day-of-the-year snapshots",
    /// here over 382 days, 2018-11-01 to Sunday 2019-11-17. Dailies Nov 11–17 hold one week's end (Nov 17); weeklies
    /// add Nov 10, 3, Oct 27, 20; monthlies add Oct 31 … Dec 31 2018 (11, Nov is already kept); yearlies find 2019 and
    /// 2018 already kept, then, with 73 slots left, keep the oldest backup (2018-11-01) as "oldest yearly snapshot".
    @Test func resticDailyForAYearWithEveryRule() throws {
        let backups = daily(from: at(2018, 11, 1, 0), count: 382, hour: 11)
        #expect(backups.last?.id.stamp == "20191117-110000")
        let policy = RetentionPolicy(keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 75)
        let decision = try plan(backups, policy: policy)
        let days = ["20191117", "20191116", "20191115", "20191114", "20191113", "20191112", "20191111", "20191110",
                    "20191103", "20191031", "20191027", "20191020", "20190930", "20190831", "20190731", "20190630",
                    "20190531", "20190430", "20190331", "20190228", "20190131", "20181231", "20181101"]
        #expect(decision.kept == days.map { "\($0)-110000" })
        #expect(decision.removed.count == 382 - 23)
        #expect(decision.reasons("20191117-110000") == ["daily snapshot", "weekly snapshot", "monthly snapshot", "yearly snapshot"])
        #expect(decision.reasons("20191111-110000") == ["daily snapshot"])
        #expect(decision.reasons("20191110-110000") == ["weekly snapshot"])
        #expect(decision.reasons("20191031-110000") == ["monthly snapshot"])
        #expect(decision.reasons("20181231-110000") == ["monthly snapshot", "yearly snapshot"])
        #expect(decision.reasons("20181101-110000") == ["oldest yearly snapshot"])
    }
}
