#if canImport(Glibc)
import Glibc
#endif

/// Signals and inspects a process group: a child we start leads its own group, which holds its descendants.
enum ProcessGroup {
    /// Sends `signal` to every process in group `pgid`; a group that is already gone is not an error.
    static func signal(_ pgid: pid_t, _ signal: Int32) {
        guard pgid > 0 else { return }
        _ = kill(-pgid, signal)
    }

    /// Whether any process in the group is still running (zombies are dead, they only wait to be reaped).
    ///
    /// `kill(-pgid, 0)` alone is not enough: orphaned zombies keep it succeeding where PID 1 never reaps
    /// (containers), which would make every timeout wait out the full grace period.
    static func hasLiveMembers(_ pgid: pid_t) -> Bool {
        guard pgid > 0, kill(-pgid, 0) == 0 else { return false }
        guard let dir = opendir("/proc") else { return true }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = pid_t(name), let stat = statusOf(pid) else { continue }
            if stat.group == pgid, stat.state != "Z", stat.state != "X" { return true }
        }
        return false
    }

    /// State letter and process group of `pid`, read from `/proc/<pid>/stat`.
    static func statusOf(_ pid: pid_t) -> (state: Character, group: pid_t)? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so parse after the last ')'.
        guard let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 2, let state = fields[0].first,
            let group = pid_t(String(decoding: fields[2], as: UTF8.self))
        else { return nil }
        return (Character(Unicode.Scalar(state)), group)
    }
}
