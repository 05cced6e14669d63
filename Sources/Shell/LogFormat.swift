/// How log lines look: `human` for people at a terminal, `json` (one object per line) for log collectors.
public enum LogFormat: String, Sendable, CaseIterable {
    case human
    case json
}
