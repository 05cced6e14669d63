/// What one step of setup-vps did (or, with `--check`, would do): Ansible's ok / changed / failed.
public struct StepResult: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        /// Already as wanted: nothing was (or would be) changed.
        case ok
        /// Something was changed (with `--check`: would be).
        case changed
        /// The step could not finish; later steps did not run.
        case failed
        /// Not asked for (e.g. no `--app`, no schedules).
        case skipped
    }

    /// The step's name as printed, e.g. `ssh hardening`.
    public var step: String
    public var status: Status
    /// One line per change, e.g. `created user deploy`.
    public var changes: [String] = []
    /// Unified diffs of the files changed (or that would be).
    public var diffs: [String] = []
    /// What the person should know although nothing failed, e.g. the ufw/Docker caveat.
    public var notes: [String] = []
    /// Why the step failed, what it left as it was, and what to do.
    public var error: String?

    public init(step: String, status: Status, changes: [String] = [], diffs: [String] = [], notes: [String] = [],
                error: String? = nil) {
        self.step = step
        self.status = status
        self.changes = changes
        self.diffs = diffs
        self.notes = notes
        self.error = error
    }
}

/// Collects a step's changes while it runs; `finish()` turns them into its result.
public struct StepLog: Sendable {
    public let step: String
    public var changes: [String] = []
    public var diffs: [String] = []
    public var notes: [String] = []

    public init(step: String) { self.step = step }

    public mutating func changed(_ what: String, diff: String = "") {
        changes.append(what)
        if !diff.isEmpty { diffs.append(diff) }
    }

    public mutating func note(_ text: String) { notes.append(text) }

    public func finish() -> StepResult {
        StepResult(step: step, status: changes.isEmpty ? .ok : .changed, changes: changes, diffs: diffs, notes: notes)
    }
}

/// A step that cannot go on: the message says what is wrong, what was left as it was, and what to do.
public struct SetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
