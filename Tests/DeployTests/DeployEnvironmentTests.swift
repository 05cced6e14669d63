import OpsCore
import Testing
@testable import Deploy

@Suite struct DeployEnvironmentTests {
    func config(_ yaml: String) throws -> OpsConfig {
        OpsConfig(root: try YAMLSubset.parse(yaml, file: "opskit.yml"), path: "opskit.yml")
    }

    let full = """
    app: demo
    environments:
      production:
        host: deploy@vps.example.com:2222
        compose_file: /opt/demo/docker-compose.yml
        image: registry.example.com/demo
        ports: [3001, 3002]
        health_url: https://demo.example.com/api/health
        proxy:
          upstream_file: /etc/nginx/conf.d/demo-upstream.conf
          reload_command: [systemctl, reload, nginx]
        health:
          successes: 3
          timeout: 60
        watch: 45
      staging:
        compose_file: docker-compose.staging.yml
        image: demo
        ports: [4001]
    """

    @Test func readsAFullEnvironmentWithDefaults() throws {
        let env = try DeployEnvironment.load("production", from: config(full))
        #expect(env.app == "demo" && env.host == "deploy@vps.example.com:2222")
        #expect(env.strategy == .blueGreen)
        #expect(env.service == "app" && env.healthPath == "/api/health")
        #expect(env.proxy?.upstreamName == "demo_production")
        #expect(env.proxy?.testCommand == ["nginx", "-t"])
        #expect(env.proxy?.reloadCommand == ["systemctl", "reload", "nginx"])
        #expect(env.healthSuccesses == 3 && env.healthTimeout == .seconds(60) && env.watch == .seconds(45))
        #expect(env.keepReleases == 5 && env.minFreeDiskMB == 512)
        #expect(env.project(.green) == "demo-production-green" && env.port(.green) == 3002)
        #expect(env.directHealthURL(.blue) == "http://127.0.0.1:3001/api/health")
        let staging = try DeployEnvironment.load("staging", from: config(full))
        #expect(staging.strategy == .recreate && staging.proxy == nil && staging.ports == [4001])
    }

    @Test(arguments: [
        ("nosuch", "unknown environment `nosuch` in opskit.yml (known: production, staging)"),
    ])
    func unknownEnvironmentNamesTheKnownOnes(name: String, message: String) throws {
        #expect { try DeployEnvironment.load(name, from: config(full)) } throws: { "\($0)" == message }
    }

    @Test(arguments: [
        ("    colour: blue\n", "environments.p.colour"),
        ("    proxy:\n      upstream_file: /x\n      reload: x\n", "environments.p.proxy.reload"),
        ("    health:\n      retries: 3\n", "environments.p.health.retries"),
    ])
    func unknownKeysAreNamed(extra: String, key: String) throws {
        let yaml = "app: demo\nenvironments:\n  p:\n    compose_file: c.yml\n    image: i\n" + extra
        #expect { try DeployEnvironment.load("p", from: config(yaml)) } throws: {
            "\($0)".hasPrefix(key + " is `set`") && "\($0)".contains("unknown key in opskit.yml")
        }
    }

    @Test(arguments: [
        ("app: demo\nenvironments:\n  p:\n    image: i\n", "environments.p.compose_file is required"),
        ("environments:\n  p:\n    image: i\n    compose_file: c\n", "needs `app: NAME`"),
        ("app: demo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n    strategy: blue-green\n", "a `proxy:` section"),
        ("app: demo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n    ports: [80, 80]\n", "two different"),
        ("app: demo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n    watch: soon\n", "seconds from"),
        ("app: de mo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n", "letters, digits"),
    ])
    func badValuesAreNamed(yaml: String, fragment: String) throws {
        #expect { try DeployEnvironment.load("p", from: config(yaml)) } throws: { "\($0)".contains(fragment) }
    }

    @Test(arguments: [("0", 0), ("1", 1), ("2048", 2048), ("1000000", 1_000_000)])
    func minFreeDiskIsReadInMegabytes(text: String, megabytes: Int) throws {
        let yaml = "app: demo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n    min_free_disk: \(text)\n"
        #expect(try DeployEnvironment.load("p", from: config(yaml)).minFreeDiskMB == megabytes)
    }

    @Test(arguments: ["-1", "1000001", "1.5", "512M", "lots"])
    func minFreeDiskOutOfRangeIsNamed(text: String) throws {
        let yaml = "app: demo\nenvironments:\n  p:\n    image: i\n    compose_file: c\n    min_free_disk: \(text)\n"
        #expect { try DeployEnvironment.load("p", from: config(yaml)) } throws: {
            "\($0)".hasPrefix("environments.p.min_free_disk is `\(text)`")
                && "\($0)".contains("a whole number from 0 to 1000000")
        }
    }
}

@Suite struct DeployOptionsTests {
    let env: DeployEnvironment

    init() throws {
        let yaml = "app: demo\nenvironments:\n  production:\n    compose_file: c.yml\n    image: registry.example.com/demo\n"
        env = try DeployEnvironment.load("production", from: OpsConfig(root: YAMLSubset.parse(yaml), path: "opskit.yml"))
    }

    @Test func commitShaPicksTheTagLikeTheSeedScript() {
        let o = DeployOptions.resolve(environment: env, tag: nil, image: nil, processEnvironment: ["COMMIT_SHA": "abc123"],
                                      command: "deploy production")
        #expect(o.image == "registry.example.com/demo:abc123" && o.imageTag == "abc123" && o.commitSha == "abc123")
    }

    @Test func tagFlagWinsAndLatestIsTheLastResort() {
        #expect(DeployOptions.resolve(environment: env, tag: "v2", image: nil, processEnvironment: ["COMMIT_SHA": "abc"],
                                      command: "").image == "registry.example.com/demo:v2")
        #expect(DeployOptions.resolve(environment: env, tag: nil, image: nil, processEnvironment: [:], command: "").imageTag == "latest")
    }

    @Test func imageFlagIsTheWholeReference() {
        let o = DeployOptions.resolve(environment: env, tag: nil, image: "localhost:5000/other/app:rc1",
                                      processEnvironment: [:], command: "")
        #expect(o.image == "localhost:5000/other/app:rc1" && o.imageTag == "rc1")
        #expect(DeployOptions.resolve(environment: env, tag: nil, image: "localhost:5000/app", processEnvironment: [:],
                                      command: "").imageTag == "latest")
    }
}
