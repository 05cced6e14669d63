import OpsCore
import Provision
import Shell
import Testing
import TestSupport

@Suite struct DaemonConfigTests {
    @Test func noFileGetsRotation() throws {
        let merged = try DaemonConfig.merge(nil)
        let json = try #require(merged.text.flatMap { JSONValue.parse(Array($0.utf8)) })
        #expect(json["log-driver"] == .string("json-file"))
        #expect(json.value(atPath: "log-opts.max-size") == .string("10m"))
        #expect(json.value(atPath: "log-opts.max-file") == .string("3"))
    }

    @Test func otherSettingsAreKeptAndTheMergeIsStable() throws {
        let current = #"{"registry-mirrors": ["https://mirror.example"], "log-opts": {"max-size": "50m"}, "live-restore": true}"#
        let merged = try #require(try DaemonConfig.merge(current).text)
        let json = try #require(JSONValue.parse(Array(merged.utf8)))
        #expect(json["registry-mirrors"] == .array([.string("https://mirror.example")]))
        #expect(json["live-restore"] == .bool(true))
        #expect(json.value(atPath: "log-opts.max-size") == .string("50m"))  // the user's own size stays
        #expect(json.value(atPath: "log-opts.max-file") == .string("3"))
        #expect(try DaemonConfig.merge(merged).text == nil)  // second run: nothing to change
    }

    @Test func anotherLogDriverIsLeftAlone() throws {
        let merged = try DaemonConfig.merge(#"{"log-driver": "journald"}"#)
        #expect(merged.text == nil)
        #expect(merged.notes.first?.contains("journald") == true)
    }

    @Test func invalidJSONIsRefused() {
        #expect(throws: DaemonConfig.InvalidJSON.self) { try DaemonConfig.merge("{ not json") }
        #expect(throws: DaemonConfig.InvalidJSON.self) { try DaemonConfig.merge("[1, 2]") }
    }
}

@Suite struct UFWAndKeysTests {
    @Test func rulesFromUFWShowAdded() {
        let shown = "Added user rules (see 'ufw status' for running firewall):\nufw allow 22/tcp\nufw allow 80/tcp\nufw allow 443\nufw deny 25/tcp\n"
        #expect(UFWStatus.allowedRules(shown) == ["22/tcp", "80/tcp", "443/tcp"])
        #expect(UFWStatus.allowedRules("(None)\n").isEmpty)
    }

    @Test func settingsFiles() {
        let text = "# comment\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY='ACCEPT'\n"
        #expect(UFWStatus.setting("DEFAULT_INPUT_POLICY", in: text) == "DROP")
        #expect(UFWStatus.setting("DEFAULT_OUTPUT_POLICY", in: text) == "ACCEPT")
        #expect(UFWStatus.setting("ENABLED", in: "ENABLED=no\n") == "no")
        #expect(UFWStatus.setting("MISSING", in: text) == nil)
    }

    @Test func keysAreAddedOnceAndHandAddedOnesStay() {
        let existing = "# mine\nssh-ed25519 AAAAmine laptop\n"
        let merged = DeployUserStep.merge(keys: ["ssh-ed25519 AAAAnew ci", "ssh-ed25519 AAAAmine other-comment"], into: existing)
        #expect(merged == "# mine\nssh-ed25519 AAAAmine laptop\nssh-ed25519 AAAAnew ci\n")
        #expect(DeployUserStep.merge(keys: ["ssh-ed25519 AAAAnew ci"], into: merged) == merged)
        #expect(DeployUserStep.merge(keys: ["ssh-rsa AAAAx"], into: nil) == "ssh-rsa AAAAx\n")
    }
}

@Suite struct SetupSettingsTests {
    @Test func sizes() {
        #expect(SetupSettings.parseSize("2G") == 2 << 30)
        #expect(SetupSettings.parseSize("512M") == 512 << 20)
        #expect(SetupSettings.parseSize("1GiB") == 1 << 30)
        #expect(SetupSettings.parseSize("0") == 0)
        #expect(SetupSettings.parseSize("lots") == nil)
        #expect(SetupSettings.parseSize("-1G") == nil)
    }

    @Test func fromOpskitYml() throws {
        let root = try YAMLSubset.parse("app: memoryloop\nsetup:\n  user: ops\n  swap: 1G\n  ssh_port: 2200\n  schedules: true\n", file: "opskit.yml")
        let settings = try SetupSettings.resolve(config: OpsConfig(root: root, path: "opskit.yml"))
        #expect(settings.app == "memoryloop")
        #expect(settings.user == "ops")
        #expect(settings.swapBytes == 1 << 30)
        #expect(settings.sshPort == 2200)
        #expect(settings.schedules)
    }

    @Test func unknownKeysAndBadNamesAreRefused() throws {
        let root = try YAMLSubset.parse("setup:\n  usr: ops\n", file: "opskit.yml")
        #expect(throws: SetupError.self) { try SetupSettings.resolve(config: OpsConfig(root: root, path: "opskit.yml")) }
        var settings = SetupSettings()
        settings.user = "root"
        #expect(throws: SetupError.self) { try settings.validate() }
        settings.user = "Deploy User"
        #expect(throws: SetupError.self) { try settings.validate() }
        settings.user = "deploy"
        settings.app = "../etc"
        #expect(throws: SetupError.self) { try settings.validate() }
    }
}

/// The sshd drop-in, checked by the real sshd: accepted, and it wins over cloud-init's file.
@Suite struct SSHDropInTests {
    @Test func sshdAcceptsItAndItOverridesCloudInit() async throws {
        let dir = try TempDirectory(prefix: "opskit-sshd-conf")
        defer { dir.remove() }
        _ = try await Runner().capture(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.file("host_key")))
        try await Runner().capture(Command("mkdir", "-p", dir.file("d")))
        try SSHHardeningStep.config(SetupSettings()).write(toFile: dir.file("d/00-opskit.conf"))
        try "PasswordAuthentication yes\nPermitRootLogin yes\n".write(toFile: dir.file("d/50-cloud-init.conf"))
        try "Include \(dir.path)/d/*.conf\nHostKey \(dir.file("host_key"))\nUsePAM no\n".write(toFile: dir.file("sshd_config"))
        let effective = try await Runner().capture(Command("/usr/sbin/sshd", "-T", "-f", dir.file("sshd_config"))).stdoutText
        let lines = Set(effective.split(separator: "\n").map(String.init))
        #expect(lines.contains("passwordauthentication no"))
        #expect(lines.contains("permitrootlogin no"))
        #expect(lines.contains("kbdinteractiveauthentication no"))
        #expect(lines.contains("maxauthtries 3"))
    }

    @Test func fail2banJail() {
        let jail = Fail2banStep.jail(ports: [22, 2200], journal: true)
        #expect(jail.contains("[sshd]\nenabled = true\nport = 22,2200\n"))
        #expect(jail.contains("backend = systemd"))
        #expect(!Fail2banStep.jail(ports: [22], journal: false).contains("backend"))
    }
}
