/// 9. Optional schedules: `backup-db` daily at 02:00 and `monitor --alert` every 5 minutes, as systemd
/// timers (cron entries where systemd is absent), running the installed tools as the deploy user.
public struct SchedulesStep: SetupStep {
    public var name: String { "schedules" }
    public init() {}

    struct Job {
        var unit: String
        var description: String
        var command: String
        var calendar: String
        var cron: String
    }

    static func jobs(_ settings: SetupSettings) -> [Job] {
        let config = settings.app.map { " --config /opt/\($0)/config/opskit.yml" } ?? ""
        return [
            Job(unit: "opskit-backup", description: "opskit: back up the app's data",
                command: "\(settings.binDirectory)/backup-db --quiet\(config)", calendar: "*-*-* 02:00:00", cron: "0 2 * * *"),
            Job(unit: "opskit-monitor", description: "opskit: check the server and alert on changes",
                command: "\(settings.binDirectory)/monitor --quiet --alert\(config)", calendar: "*:0/5", cron: "*/5 * * * *"),
        ]
    }

    static func service(_ job: Job, user: String) -> String {
        """
        # Managed by opskit setup-vps.
        [Unit]
        Description=\(job.description)
        After=network-online.target docker.service

        [Service]
        Type=oneshot
        User=\(user)
        ExecStart=\(job.command)

        """
    }

    static func timer(_ job: Job) -> String {
        """
        # Managed by opskit setup-vps.
        [Unit]
        Description=\(job.description) (schedule)

        [Timer]
        OnCalendar=\(job.calendar)
        Persistent=true
        RandomizedDelaySec=30

        [Install]
        WantedBy=timers.target

        """
    }

    static func crontab(_ jobs: [Job], user: String) -> String {
        "# Managed by opskit setup-vps.\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
            + jobs.map { "\($0.cron) \(user) \($0.command)\n" }.joined()
    }

    public func run(_ context: SetupContext) async throws -> StepResult {
        guard context.settings.schedules else {
            return StepResult(step: name, status: .skipped, notes: ["not asked for (--schedules)"])
        }
        var log = StepLog(step: name)
        let jobs = Self.jobs(context.settings)
        let user = context.settings.user
        if context.facts.systemd {
            var changed = false
            for job in jobs {
                changed = try await context.ensureFile("/etc/systemd/system/\(job.unit).service", Self.service(job, user: user), log: &log) || changed
                changed = try await context.ensureFile("/etc/systemd/system/\(job.unit).timer", Self.timer(job), log: &log) || changed
            }
            if !context.check {
                if changed { try await context.host.sh("systemctl daemon-reload") }
                for job in jobs where !(try await context.host.test(#"systemctl is-enabled --quiet "$1.timer""#, [job.unit])) {
                    log.changed("enabled \(job.unit).timer")
                    try await context.host.sh(#"systemctl enable --now "$1.timer" >/dev/null 2>&1"#, [job.unit])
                }
            }
        } else {
            try await context.ensurePackages(["cron"], log: &log)
            try await context.ensureFile("/etc/cron.d/opskit", Self.crontab(jobs, user: user), log: &log)
        }
        if !(try await context.host.test(#"[ -x "$1/monitor" ]"#, [context.settings.binDirectory])) {
            log.note("\(context.settings.binDirectory) holds no opskit tools yet: copy bin/ there (README: Install) before the first run")
        }
        return log.finish()
    }
}
