#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Monitor
import OpsCore
import Shell
import Testing
import TestSupport

/// `mkdir -p`.
func makeDirectories(_ path: String) {
    var built = ""
    for part in path.split(separator: "/") {
        built += "/" + part
        mkdir(built, 0o755)
    }
}

@Suite struct HostChecksTests {
    /// A fake root with /proc files and an optional reboot flag.
    func fakeRoot(meminfo: String?, loadavg: String?, mounts: String? = nil, reboot: [String]? = nil) throws -> TempDirectory {
        let tmp = try TempDirectory(prefix: "opskit-monitor")
        makeDirectories(tmp.file("proc/self"))
        makeDirectories(tmp.file("var/run"))
        if let meminfo { try AtomicFile.write(meminfo, to: tmp.file("proc/meminfo")) }
        if let loadavg { try AtomicFile.write(loadavg, to: tmp.file("proc/loadavg")) }
        if let mounts { try AtomicFile.write(mounts, to: tmp.file("proc/self/mounts")) }
        if let reboot {
            try AtomicFile.write("*** System restart required ***\n", to: tmp.file("var/run/reboot-required"))
            try AtomicFile.write(reboot.joined(separator: "\n") + "\n", to: tmp.file("var/run/reboot-required.pkgs"))
        }
        return tmp
    }

    static let meminfo = """
        MemTotal:        1000000 kB
        MemFree:          100000 kB
        MemAvailable:     120000 kB
        SwapTotal:        200000 kB
        SwapFree:          50000 kB
        """

    @Test func memoryAndSwapAgainstTheirThresholds() throws {
        let tmp = try fakeRoot(meminfo: Self.meminfo, loadavg: "0.1 0.2 0.3 1/100 42\n")
        defer { tmp.remove() }
        let checks = HostChecks(root: tmp.path, dockerRoot: nil)
        let results = checks.run()
        let memory = try #require(results.first { $0.id == "memory" })
        #expect(memory.state == .warning)  // 12 % available: below 15, above 5
        #expect(memory.value == 12)
        #expect(memory.summary.hasPrefix("12 % available"))
        let swap = try #require(results.first { $0.id == "swap" })
        #expect(swap.state == .warning)  // 75 % in use
        #expect(swap.value == 75)

        var strict = MonitorThresholds()
        strict.memoryAvailable = LowerThresholds(warning: 50, critical: 20)
        strict.swap = UpperThresholds(warning: 10, critical: 70)
        let again = HostChecks(thresholds: strict, root: tmp.path, dockerRoot: nil).run()
        #expect(again.first { $0.id == "memory" }?.state == .critical)
        #expect(again.first { $0.id == "swap" }?.state == .critical)
    }

    @Test func noSwapIsOKAndAMissingProcFileIsUnknownWithItsReason() throws {
        let tmp = try fakeRoot(meminfo: "MemTotal: 1000 kB\nMemAvailable: 900 kB\nSwapTotal: 0 kB\n", loadavg: nil)
        defer { tmp.remove() }
        let results = HostChecks(root: tmp.path, dockerRoot: nil).run()
        #expect(results.first { $0.id == "swap" }?.state == .ok)
        let load = try #require(results.first { $0.id == "load" })
        #expect(load.state == .unknown)
        #expect(load.summary.contains("/proc/loadavg"))
        let disk = try #require(results.first { $0.check == "disk" })
        #expect(disk.state == .unknown)  // no mounts file either
        #expect(disk.summary.contains("mounts"))
    }

    @Test func loadIsPerCoreOverFiveMinutes() throws {
        let cores = Double(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let tmp = try fakeRoot(meminfo: Self.meminfo, loadavg: "99.0 \(1.7 * cores) 0.5 3/200 77\n")
        defer { tmp.remove() }
        let load = try #require(HostChecks(root: tmp.path, dockerRoot: nil).run().first { $0.id == "load" })
        #expect(load.state == .warning)  // 1.7 per core: over 1.5, under 2.0 (the 1-minute spike is ignored)
        #expect(abs((load.value ?? 0) - 1.7) < 0.001)
        #expect(load.unit == "per core")
    }

    @Test func aPendingRebootIsAWarningNamingThePackages() throws {
        let tmp = try fakeRoot(meminfo: Self.meminfo, loadavg: "0 0 0 1/1 1\n", reboot: ["linux-image-6.1.0-18-amd64", "libc6"])
        defer { tmp.remove() }
        let reboot = try #require(HostChecks(root: tmp.path, dockerRoot: nil).run().first { $0.id == "reboot" })
        #expect(reboot.state == .warning)
        #expect(reboot.summary == "a reboot is required (for linux-image-6.1.0-18-amd64, libc6)")
        let clean = try fakeRoot(meminfo: Self.meminfo, loadavg: "0 0 0 1/1 1\n")
        defer { clean.remove() }
        #expect(HostChecks(root: clean.path, dockerRoot: nil).run().first { $0.id == "reboot" }?.state == .ok)
    }

    @Test func realMountsSkipPseudoFilesystemsAndBindMountsAndUnescapeNames() throws {
        let tmp = try fakeRoot(meminfo: Self.meminfo, loadavg: "0 0 0 1/1 1\n", mounts: """
            /dev/vda1 / ext4 rw,relatime 0 0
            proc /proc proc rw 0 0
            tmpfs /run tmpfs rw 0 0
            overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
            /dev/loop0 /snap/core/1 squashfs ro 0 0
            /dev/vda1 /srv/bind ext4 rw 0 0
            /dev/vdb /tmp/my\\040disk ext4 rw 0 0
            """)
        defer { tmp.remove() }
        makeDirectories(tmp.file("tmp/my disk"))
        let disks = HostChecks(root: tmp.path, dockerRoot: nil).run().filter { $0.check == "disk" }
        #expect(disks.map(\.id) == ["disk:/", "disk:/tmp/my disk"])
        #expect(disks.allSatisfy { $0.state != .unknown })
        #expect(disks.first?.labels["device"] == "/dev/vda1")
    }

    @Test func thisMachinesDisksTripWhenTheThresholdsAreDrivenLow() throws {
        let normal = HostChecks(dockerRoot: nil).run()
        let root = try #require(normal.first { $0.id == "disk:/" }, "the real / was not checked: \(normal.map(\.id))")
        #expect((0...100).contains(root.value ?? -1))
        #expect(normal.contains { $0.id == "inodes:/" })
        #expect(normal.first { $0.id == "memory" }?.state != .unknown)
        #expect(normal.first { $0.id == "load" }?.state != .unknown)

        var low = MonitorThresholds()
        low.disk = UpperThresholds(warning: 0, critical: 100.1)
        low.inodes = UpperThresholds(warning: 0, critical: 0)
        low.memoryAvailable = LowerThresholds(warning: 100.1, critical: 0)
        low.loadPerCore = UpperThresholds(warning: -1, critical: -1)
        let tripped = HostChecks(thresholds: low, dockerRoot: nil).run()
        #expect(tripped.first { $0.id == "disk:/" }?.state == .warning)
        #expect(tripped.first { $0.id == "inodes:/" }?.state == .critical)
        #expect(tripped.first { $0.id == "memory" }?.state == .warning)
        #expect(tripped.first { $0.id == "load" }?.state == .critical)
    }
}
