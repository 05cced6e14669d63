import OpsCore

/// Every threshold of the monitor, with the documented defaults (docs/monitor.md).
public struct MonitorThresholds: Sendable, Equatable {
    /// Percent of a filesystem used.
    public var disk = UpperThresholds(warning: 80, critical: 90)
    /// Percent of a filesystem's inodes used.
    public var inodes = UpperThresholds(warning: 80, critical: 90)
    /// Percent of memory available (MemAvailable / MemTotal).
    public var memoryAvailable = LowerThresholds(warning: 15, critical: 5)
    /// Percent of swap in use.
    public var swap = UpperThresholds(warning: 50, critical: 80)
    /// 5-minute load average per core.
    public var loadPerCore = UpperThresholds(warning: 1.5, critical: 2.0)
    /// Days until a TLS certificate expires.
    public var certificateDays = LowerThresholds(warning: 21, critical: 7)
    /// Hours since the newest complete backup: WARNING / CRITICAL from these ages on.
    public var backupAgeHours = UpperThresholds(warning: 26, critical: 26)

    public init() {}
}
