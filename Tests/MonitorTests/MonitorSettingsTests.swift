import Backup
import Monitor
import OpsCore
import Testing

@Suite struct MonitorSettingsTests {
    func settings(_ yaml: String, environment: [String: String] = [:]) throws -> MonitorSettings {
        let root = try YAMLSubset.parse(yaml, file: "opskit.yml")
        return try MonitorSettings.resolve(config: OpsConfig(root: root, path: "opskit.yml"), environment: environment)
    }

    @Test func defaultsCheckTheHostAndDockerWithNoFileAtAll() throws {
        let s = try MonitorSettings.resolve(config: OpsConfig(), environment: [:])
        #expect(s.app == "app")
        #expect(s.healthURLs.isEmpty && s.domains.isEmpty && s.expectedContainers.isEmpty)
        #expect(s.dockerSocket == "/var/run/docker.sock")
        #expect(s.thresholds == MonitorThresholds())
        #expect(s.backupStore == nil)
        #expect(s.alertAfter == 2)
        #expect(s.reminder == .seconds(4 * 3600))
        let docker = try MonitorSettings.resolve(config: OpsConfig(), environment: ["DOCKER_HOST": "unix:///run/user/1000/docker.sock"])
        #expect(docker.dockerSocket == "/run/user/1000/docker.sock")
    }

    @Test func healthURLsComeFromHealthAndEnvironmentsAndDomainsFromTheHTTPSOnes() throws {
        let s = try settings("""
            app: memoryloop
            health:
              url: https://memoryloop.example.com/api/health
            environments:
              staging:
                health_url: https://staging.example.com:8443/api/health
              production:
                health_url: https://memoryloop.example.com/api/health
              local:
                health_url: http://127.0.0.1:3000/api/health
            """)
        #expect(s.app == "memoryloop")
        #expect(s.healthURLs == ["https://memoryloop.example.com/api/health", "http://127.0.0.1:3000/api/health",
                                 "https://staging.example.com:8443/api/health"])
        #expect(s.domains == ["memoryloop.example.com", "staging.example.com:8443"])
    }

    @Test func theMonitorSectionOverridesAndReadsThresholdsAlertsAndBackup() throws {
        let s = try settings("""
            app: memoryloop
            backup:
              to: /srv/backups
            monitor:
              health: [http://127.0.0.1:3000/api/health]
              domains: [example.com]
              containers: [web, worker]
              docker_root: none
              thresholds:
                disk: {warning: 70, critical: 95}
                memory_available: {warning: 20}
                backup_age_hours: 30
              alert:
                after: 3
                reminder: 30m
                slack: https://hooks.slack.com/services/T/B/X
                webhook: [https://a.example/h, https://b.example/h]
                ntfy: https://ntfy.sh/topic
              ping: https://hc-ping.com/abc
            """)
        #expect(s.healthURLs == ["http://127.0.0.1:3000/api/health"])
        #expect(s.domains == ["example.com"])
        #expect(s.expectedContainers == ["web", "worker"])
        #expect(s.dockerRoot == nil)
        #expect(s.thresholds.disk == UpperThresholds(warning: 70, critical: 95))
        #expect(s.thresholds.memoryAvailable == LowerThresholds(warning: 20, critical: 5))
        #expect(s.thresholds.backupAgeHours == UpperThresholds(warning: 30, critical: 30))
        #expect(s.alertAfter == 3)
        #expect(s.reminder == .seconds(1800))
        #expect(s.webhooks.map(\.kind) == [.slack, .json, .json, .ntfy])
        #expect(s.ping == "https://hc-ping.com/abc")
        #expect(s.backupStore != nil)
        let off = try settings("backup:\n  to: /srv/backups\nmonitor:\n  backup: false\n")
        #expect(off.backupStore == nil)
    }

    @Test func mistakesAreOneLineNamingTheKey() throws {
        let cases: [(String, String)] = [
            ("monitor:\n  disks: [/]\n", "monitor.disks"),
            ("monitor:\n  thresholds:\n    disk: {warning: 95, critical: 90}\n", "monitor.thresholds.disk"),
            ("monitor:\n  thresholds:\n    memory_available: {warning: 5, critical: 15}\n", "monitor.thresholds.memory_available"),
            ("monitor:\n  thresholds:\n    disk: {warn: 95}\n", "monitor.thresholds.disk.warn"),
            ("monitor:\n  alert:\n    reminder: often\n", "monitor.alert.reminder"),
            ("monitor:\n  alert:\n    after: 0\n", "monitor.alert.after"),
            ("monitor:\n  health: [ftp://x]\n", "monitor.health"),
            ("monitor: 3\n", "monitor"),
        ]
        for (yaml, key) in cases {
            let error = #expect(throws: MonitorSettingsError.self, "\(yaml)") { try settings(yaml) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.hasPrefix(key), "\(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test func durations() {
        #expect(MonitorSettings.parseDuration("90") == 90)
        #expect(MonitorSettings.parseDuration("30m") == 1800)
        #expect(MonitorSettings.parseDuration("4h") == 14_400)
        #expect(MonitorSettings.parseDuration("1d") == 86_400)
        #expect(MonitorSettings.parseDuration("x") == nil)
        #expect(MonitorSettings.parseDuration("-1h") == nil)
    }
}
