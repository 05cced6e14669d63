import FoundationEssentials

/// How many backups to keep, by rule; restic's `forget --keep-*` semantics. 0 turns a rule off.
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int
    public var keepYearly: Int

    public init(keepLast: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0, keepMonthly: Int = 0, keepYearly: Int = 0) {
        self.keepLast = keepLast
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }

    /// Seven daily backups, like the old scripts.
    public static let `default` = RetentionPolicy(keepDaily: 7)

    /// No rule keeps anything: pruning with it would delete every backup.
    public var isEmpty: Bool { keepLast <= 0 && keepDaily <= 0 && keepWeekly <= 0 && keepMonthly <= 0 && keepYearly <= 0 }
}

/// A backup that retention may keep or remove.
public struct RetentionCandidate: Sendable, Equatable {
    public var id: BackupID
    public var createdAt: Date
    /// Never removed, and invisible to the keep rules (see ``plan(_:policy:)``).
    public var permanent: Bool

    public init(id: BackupID, createdAt: Date, permanent: Bool = false) {
        self.id = id
        self.createdAt = createdAt
        self.permanent = permanent
    }
}

/// A kept backup and why, in restic's words ("daily snapshot", "weekly snapshot", …).
public struct RetainedBackup: Sendable, Equatable {
    public var candidate: RetentionCandidate
    public var reasons: [String]
}

/// What a policy keeps and removes, both newest first. `--dry-run` prints this and stops.
public struct RetentionDecision: Sendable, Equatable {
    public var keep: [RetainedBackup]
    public var remove: [RetentionCandidate]
}

public enum RetentionError: Error, Equatable, CustomStringConvertible {
    case emptyPolicy
    case negativeCount(rule: String, count: Int)
    case wouldRemoveEverything(count: Int)

    public var description: String {
        switch self {
        case .emptyPolicy:
            "refusing to prune with no keep rule: that would delete every backup"
        case .negativeCount(let rule, let count):
            "--\(rule) must be 0 (off) or more, not \(count)"
        case .wouldRemoveEverything(let count):
            "refusing to prune: the plan would remove all \(count) backups"
        }
    }
}

/// Decides which backups a policy keeps, with restic's `forget` semantics, in UTC.
///
/// Backups are sorted newest first. `keepLast n` keeps the n newest; `keepDaily`/`keepWeekly`/`keepMonthly`/
/// `keepYearly n` keep the newest backup of each of the n newest UTC calendar days / ISO 8601 weeks (Monday start,
/// `2021-01-01` is in `2020-W53`) / months / years *that have a backup*. Each rule counts on its own and a backup
/// kept by any rule is kept. Like restic ≥ 0.17, a rule that still has slots left when it reaches the oldest backup
/// keeps that one too ("oldest daily snapshot"), so a short history is not cut short.
///
/// Beyond restic: permanent backups are always kept ("permanent") and the rules do not see them, so they use no
/// slot — a permanent pre-migration backup never pushes a daily one out. (restic's `--keep-tag` does let tagged
/// snapshots fill slots; we don't, so marking a backup permanent never changes what happens to the others.)
/// The newest backup is always kept ("newest backup").
///
/// - Parameters:
///   - candidates: the complete backups, in any order.
///   - policy: the keep rules; an empty policy is refused, as restic does.
/// - Throws: ``RetentionError/emptyPolicy``, ``RetentionError/negativeCount(rule:count:)``.
public func plan(_ candidates: [RetentionCandidate], policy: RetentionPolicy) throws -> RetentionDecision {
    for (rule, count) in [("keep-last", policy.keepLast), ("keep-daily", policy.keepDaily), ("keep-weekly", policy.keepWeekly),
                          ("keep-monthly", policy.keepMonthly), ("keep-yearly", policy.keepYearly)] where count < 0 {
        throw RetentionError.negativeCount(rule: rule, count: count)
    }
    guard !policy.isEmpty else { throw RetentionError.emptyPolicy }

    let sorted = candidates.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    var reasons = Array(repeating: [String](), count: sorted.count)
    for (index, candidate) in sorted.enumerated() where candidate.permanent { reasons[index].append("permanent") }

    let ruled = sorted.indices.filter { !sorted[$0].permanent }
    let rules: [(count: Int, reason: String, bucket: (Int, Date) -> Int)] = [
        (policy.keepLast, "last snapshot", { position, _ in position }),
        (policy.keepDaily, "daily snapshot", { _, date in RetentionCalendar.day(date) }),
        (policy.keepWeekly, "weekly snapshot", { _, date in RetentionCalendar.isoWeek(date) }),
        (policy.keepMonthly, "monthly snapshot", { _, date in RetentionCalendar.month(date) }),
        (policy.keepYearly, "yearly snapshot", { _, date in RetentionCalendar.year(date) }),
    ]
    for rule in rules where rule.count > 0 {
        var left = rule.count
        var lastBucket: Int?
        for (position, index) in ruled.enumerated() where left > 0 {
            let bucket = rule.bucket(position, sorted[index].createdAt)
            if bucket != lastBucket {
                reasons[index].append(rule.reason)
                lastBucket = bucket
                left -= 1
            } else if position == ruled.count - 1 {
                reasons[index].append("oldest \(rule.reason)")
            }
        }
    }
    return try guarded(sorted, reasons: reasons)
}

/// The safety net under the rules: keeps the newest backup, and refuses a plan that removes every
/// non-permanent backup. Through ``plan(_:policy:)`` neither can trigger — any non-empty policy keeps the
/// newest non-permanent backup — but a future rule (or bug) must not be able to delete everything.
/// - Parameters:
///   - sorted: the candidates, newest first.
///   - reasons: why each one is kept, by index; empty means remove.
func guarded(_ sorted: [RetentionCandidate], reasons: [[String]]) throws -> RetentionDecision {
    var reasons = reasons
    if let newest = sorted.indices.first, reasons[newest].isEmpty { reasons[newest].append("newest backup") }
    var decision = RetentionDecision(keep: [], remove: [])
    for (candidate, why) in zip(sorted, reasons) {
        if why.isEmpty { decision.remove.append(candidate) } else { decision.keep.append(RetainedBackup(candidate: candidate, reasons: why)) }
    }
    let ordinary = sorted.filter { !$0.permanent }.count
    if ordinary > 0, decision.remove.count == ordinary { throw RetentionError.wouldRemoveEverything(count: ordinary) }
    return decision
}
