/// 7. A swap file when there is no swap (`--swap`; default 2G under 4 GiB of RAM), and the timezone UTC.
public struct SystemStep: SetupStep {
    public var name: String { "swap and timezone" }
    public init() {}

    public static let swapFile = "/swapfile"

    /// The swap size to create, or nil for none.
    public static func swapSize(settings: SetupSettings, facts: HostFacts) -> Int64? {
        if let asked = settings.swapBytes { return asked > 0 ? asked : nil }
        return facts.memoryBytes > 0 && facts.memoryBytes < 4 << 30 ? 2 << 30 : nil
    }

    public func run(_ context: SetupContext) async throws -> StepResult {
        var log = StepLog(step: name)
        let host = context.host
        if let size = Self.swapSize(settings: context.settings, facts: context.facts) {
            try await ensureSwap(size: size, context: context, log: &log)
        }
        // Timezone: /etc/localtime → Etc/UTC (what timedatectl does), and /etc/timezone for Debian tools.
        let link = try await host.sh(#"readlink /etc/localtime || true"#).stdoutText
        if !link.hasSuffix("/Etc/UTC") && !link.hasSuffix("/UTC") {
            log.changed("timezone UTC (was \(link.isEmpty ? "unset" : link.replacingPrefix("/usr/share/zoneinfo/")))")
            if !context.check {
                try await host.sh(#"""
                    [ -e /usr/share/zoneinfo/Etc/UTC ] || { echo "no /usr/share/zoneinfo/Etc/UTC (install tzdata)" >&2; exit 1; }
                    ln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime
                    """#)
            }
        }
        if try await host.read("/etc/timezone") != nil {
            try await context.ensureFile("/etc/timezone", "Etc/UTC\n", log: &log)
        }
        return log.finish()
    }

    func ensureSwap(size: Int64, context: SetupContext, log: inout StepLog) async throws {
        let host = context.host
        let fstab = try await host.read("/etc/fstab") ?? ""
        let inFstab = fstab.split(separator: "\n").contains { $0.split(separator: " ").first.map(String.init) == Self.swapFile
            || $0.split(separator: "\t").first.map(String.init) == Self.swapFile }
        // Any swap already in use (a partition, a zram device) is kept and nothing is added.
        if context.facts.swapBytes > 0 && !inFstab { return }
        let exists = try await host.test(#"[ -f "$1" ] && [ "$(stat -c %s "$1")" = "$2" ]"#, [Self.swapFile, String(size)])
        if !exists {
            log.changed("created \(Self.swapFile) (\(size >> 20) MiB)")
            if !context.check {
                try await host.sh(#"""
                    set -e
                    rm -f "$1.opskit-tmp"
                    fallocate -l "$2" "$1.opskit-tmp" 2>/dev/null || dd if=/dev/zero of="$1.opskit-tmp" bs=1M count="$(($2 / 1048576))" status=none
                    chmod 600 "$1.opskit-tmp"
                    mkswap "$1.opskit-tmp" >/dev/null
                    mv -f "$1.opskit-tmp" "$1"
                    """#, [Self.swapFile, String(size)], timeout: .seconds(600))
            }
        }
        if !inFstab {
            let line = "\(Self.swapFile) none swap sw 0 0"
            let newFstab = fstab + (fstab.isEmpty || fstab.hasSuffix("\n") ? "" : "\n") + line + "\n"
            log.changed("added \(Self.swapFile) to /etc/fstab", diff: LineDiff.unified(old: fstab, new: newFstab, path: "/etc/fstab"))
            if !context.check { try await host.write("/etc/fstab", newFstab) }
        }
        let active = try await host.test(#"grep -q "^$1 " /proc/swaps"#, [Self.swapFile])
        if !active {
            if context.facts.container {
                log.note("swap cannot be turned on inside a container; \(Self.swapFile) and its /etc/fstab line are ready for a VM")
            } else {
                log.changed("turned on swap \(Self.swapFile)")
                if !context.check { try await host.sh(#"swapon "$1""#, [Self.swapFile]) }
            }
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
