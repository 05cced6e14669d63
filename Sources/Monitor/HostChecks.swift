#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OpsCore

/// The checks of the machine itself: disks, memory, load, a pending reboot. They read `/proc` and call
/// `statvfs` — no process is started. `root` prefixes every path read (tests point it at a fake `/proc`).
public struct HostChecks: Sendable {
    public var thresholds: MonitorThresholds
    /// Prefix for `/proc/...` and `/var/run/reboot-required` (empty on a real host).
    public var root: String
    /// Docker's data root, checked as a disk of its own when it exists.
    public var dockerRoot: String?

    public init(thresholds: MonitorThresholds = MonitorThresholds(), root: String = "", dockerRoot: String? = "/var/lib/docker") {
        self.thresholds = thresholds
        self.root = root
        self.dockerRoot = dockerRoot
    }

    public func run() -> [CheckResult] {
        disks() + memory() + [load(), reboot()]
    }

    // MARK: - Disks

    /// Filesystems that hold no data of their own (or are always full, like squashfs snaps).
    static let pseudoTypes: Set<String> = [
        "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2", "overlay", "squashfs", "nsfs",
        "tracefs", "debugfs", "securityfs", "pstore", "bpf", "autofs", "mqueue", "hugetlbfs", "configfs", "fusectl",
        "binfmt_misc", "rpc_pipefs", "efivarfs", "fuse.lxcfs", "nfsd", "selinuxfs", "fuse.portal", "iso9660",
        "fuse.snapfuse", "shiftfs", "aufs", "zram",
    ]

    /// A line of /proc/self/mounts: what is mounted where.
    struct Mount: Equatable {
        var device: String
        var path: String
        var type: String
    }

    /// Real filesystems, one per device (the first place it is mounted; bind mounts are the same disk).
    /// Split as bytes, not Characters: /proc is ASCII, and grapheme breaking of a mounts table with a few
    /// dozen Docker overlays cost a run more than the statvfs calls.
    static func realMounts(_ text: String) -> [Mount] {
        var seen = Set<String>()
        var mounts: [Mount] = []
        for line in Array(text.utf8).split(separator: 0x0A) {
            let fields = line.split(separator: 0x20)
            guard fields.count >= 3 else { continue }
            let mount = Mount(device: unescape(fields[0]), path: unescape(fields[1]),
                              type: String(decoding: fields[2], as: UTF8.self))
            guard !pseudoTypes.contains(mount.type), mount.device != "none" else { continue }
            guard seen.insert(mount.device).inserted else { continue }
            mounts.append(mount)
        }
        return mounts
    }

    /// /proc/mounts writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescape(_ raw: ArraySlice<UInt8>) -> String {
        guard raw.contains(0x5c) else { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        var index = raw.startIndex
        while index < raw.endIndex {
            if raw[index] == 0x5c, index + 3 < raw.endIndex {
                let digits = raw[(index + 1)...(index + 3)]
                if digits.allSatisfy({ (0x30...0x37).contains($0) }) {
                    bytes.append(digits.reduce(0) { $0 * 8 + ($1 - 0x30) })
                    index += 4
                    continue
                }
            }
            bytes.append(raw[index])
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func disks() -> [CheckResult] {
        guard let text = read("/proc/self/mounts") else {
            return [.unknown(id: "disk", check: "disk", "cannot read \(root)/proc/self/mounts: \(String(cString: strerror(errno)))")]
        }
        var results: [CheckResult] = []
        var devices = Set<UInt64>()
        for mount in Self.realMounts(text) {
            let path = root + mount.path
            var info = stat()
            if stat(path, &info) == 0 { devices.insert(UInt64(info.st_dev)) }
            results += space(of: path, name: mount.path, labels: ["mount": mount.path, "device": mount.device, "fstype": mount.type])
        }
        // Docker's data root, when it is a filesystem of its own (on / it is already checked as disk:/).
        var info = stat()
        if let dockerRoot, stat(dockerRoot, &info) == 0, !devices.contains(UInt64(info.st_dev)) {
            results += space(of: dockerRoot, name: "docker", labels: ["mount": dockerRoot, "role": "docker data root"])
        }
        return results
    }

    /// Space and inodes of the filesystem holding `path`.
    func space(of path: String, name: String, labels: [String: String]) -> [CheckResult] {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            return [.unknown(id: "disk:\(name)", check: "disk", "cannot statvfs \(path): \(reason)", labels: labels)]
        }
        var results: [CheckResult] = []
        let unit = Double(info.f_frsize)
        let used = Double(info.f_blocks - info.f_bfree) * unit
        let available = Double(info.f_bavail) * unit
        // As df computes it: used / (used + what an unprivileged user may still write).
        if used + available > 0 {
            let percent = used / (used + available) * 100
            let limits = thresholds.disk
            results.append(CheckResult(
                id: "disk:\(name)", check: "disk", state: limits.state(percent),
                summary: "\(Self.percentText(percent)) used (\(Self.bytesText(used)) of \(Self.bytesText(used + available)))",
                value: percent, unit: "%", warning: limits.warning, critical: limits.critical, labels: labels))
        }
        if info.f_files > 0 {
            let usedInodes = Double(info.f_files - info.f_ffree)
            let percent = usedInodes / Double(info.f_files) * 100
            let limits = thresholds.inodes
            results.append(CheckResult(
                id: "inodes:\(name)", check: "inodes", state: limits.state(percent),
                summary: "\(Self.percentText(percent)) of inodes used (\(Int(usedInodes)) of \(info.f_files))",
                value: percent, unit: "%", warning: limits.warning, critical: limits.critical, labels: labels))
        }
        return results
    }

    // MARK: - Memory

    /// `/proc/meminfo` values in bytes, by name (split as bytes; see `realMounts`).
    static func meminfo(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in Array(text.utf8).split(separator: 0x0A) {
            guard let colon = line.firstIndex(of: 0x3A) else { continue }
            let fields = line[(colon + 1)...].split(separator: 0x20)
            guard let number = fields.first.flatMap({ Double(String(decoding: $0, as: UTF8.self)) }) else { continue }
            let kilobytes = fields.count > 1 && fields[1].elementsEqual("kB".utf8)
            values[String(decoding: line[..<colon], as: UTF8.self)] = kilobytes ? number * 1024 : number
        }
        return values
    }

    func memory() -> [CheckResult] {
        guard let text = read("/proc/meminfo") else {
            return [.unknown(id: "memory", check: "memory", "cannot read \(root)/proc/meminfo: \(String(cString: strerror(errno)))")]
        }
        let values = Self.meminfo(text)
        var results: [CheckResult] = []
        if let total = values["MemTotal"], total > 0, let available = values["MemAvailable"] {
            let percent = available / total * 100
            let limits = thresholds.memoryAvailable
            results.append(CheckResult(
                id: "memory", check: "memory", state: limits.state(percent),
                summary: "\(Self.percentText(percent)) available (\(Self.bytesText(available)) of \(Self.bytesText(total)))",
                value: percent, unit: "% available", warning: limits.warning, critical: limits.critical))
        } else {
            results.append(.unknown(id: "memory", check: "memory", "\(root)/proc/meminfo has no MemTotal/MemAvailable (kernel older than 3.14?)"))
        }
        let swapTotal = values["SwapTotal"] ?? 0
        if swapTotal > 0 {
            let used = swapTotal - (values["SwapFree"] ?? swapTotal)
            let percent = used / swapTotal * 100
            let limits = thresholds.swap
            results.append(CheckResult(
                id: "swap", check: "swap", state: limits.state(percent),
                summary: "\(Self.percentText(percent)) in use (\(Self.bytesText(used)) of \(Self.bytesText(swapTotal)))",
                value: percent, unit: "%", warning: limits.warning, critical: limits.critical))
        } else {
            results.append(CheckResult(id: "swap", check: "swap", state: .ok, summary: "no swap configured", value: 0, unit: "%"))
        }
        return results
    }

    // MARK: - Load

    func load() -> CheckResult {
        guard let text = read("/proc/loadavg") else {
            return .unknown(id: "load", check: "load", "cannot read \(root)/proc/loadavg: \(String(cString: strerror(errno)))")
        }
        let fields = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard fields.count == 3 else {
            return .unknown(id: "load", check: "load", "\(root)/proc/loadavg is not `1min 5min 15min …`")
        }
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        // The 5-minute average: a one-minute spike (a deploy, a backup) is not a problem of the machine.
        let perCore = fields[1] / Double(cores)
        let limits = thresholds.loadPerCore
        let averages = fields.map { String(format2($0)) }.joined(separator: " ")
        return CheckResult(
            id: "load", check: "load", state: limits.state(perCore),
            summary: "\(averages) on \(cores) core\(cores == 1 ? "" : "s") (\(format2(perCore)) per core over 5 min)",
            value: perCore, unit: "per core", warning: limits.warning, critical: limits.critical,
            labels: ["cores": String(cores)])
    }

    // MARK: - Reboot

    func reboot() -> CheckResult {
        let flag = root + "/var/run/reboot-required"
        guard access(flag, F_OK) == 0 else {
            return CheckResult(id: "reboot", check: "reboot", state: .ok, summary: "no reboot required", value: 0)
        }
        let packages = read("/var/run/reboot-required.pkgs")?.split(separator: "\n").map(String.init) ?? []
        let why = packages.isEmpty ? "" : " (for \(packages.prefix(3).joined(separator: ", "))\(packages.count > 3 ? ", …" : ""))"
        return CheckResult(id: "reboot", check: "reboot", state: .warning, summary: "a reboot is required\(why)", value: 1)
    }

    // MARK: - Helpers

    /// A small file's text (files in /proc report size 0, so read until the end).
    func read(_ path: String) -> String? {
        let fd = open(root + path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
            if bytes.count > 4 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func percentText(_ value: Double) -> String {
        value >= 10 || value == 0 ? "\(Int(value.rounded())) %" : "\(format1(value)) %"
    }

    static func bytesText(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = bytes
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : "\(format1(value)) \(units[unit])"
    }
}

/// One decimal, without Foundation's String(format:).
func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
}

/// Two decimals.
func format2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
