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

@Suite struct FleetEnvironmentTests {
    func load(_ yaml: String, _ name: String = "production") throws -> DeployEnvironment {
        try DeployEnvironment.load(name, from: OpsConfig(root: YAMLSubset.parse(yaml, file: "opskit.yml"), path: "opskit.yml"))
    }

    let fleet = """
    app: demo
    environments:
      production:
        compose_file: /opt/demo/docker-compose.yml
        image: registry.example.com/demo
        ports: [3001, 3002]
        health_url: https://{host}/api/health
        batch: 25%
        proxy:
          upstream_file: /etc/nginx/conf.d/demo-upstream.conf
        hosts:
          - deploy@web3.example.com
          - deploy@web1.example.com:2222
          - host: deploy@web2.example.com
            ports: [4001, 4002]
            proxy:
              reload_command: [systemctl, reload, nginx]
    """

    @Test func everyHostIsTheEnvironmentWithItsOwnKeysSortedByHost() throws {
        let env = try load(fleet)
        #expect(env.fleet.map(\.host) == ["deploy@web1.example.com:2222", "deploy@web2.example.com", "deploy@web3.example.com"])
        #expect(env.batch == .percent(25) && env.batch.size(of: 3) == 1 && env.batch.size(of: 20) == 5)
        let web2 = env.fleet[1]
        #expect(web2.ports == [4001, 4002] && web2.strategy == .blueGreen)
        #expect(web2.proxy?.reloadCommand == ["systemctl", "reload", "nginx"])
        #expect(web2.proxy?.upstreamFile == "/etc/nginx/conf.d/demo-upstream.conf", "the proxy keys merge")
        #expect(env.fleet[0].ports == [3001, 3002] && env.fleet[0].proxy?.reloadCommand == ["nginx", "-s", "reload"])
        #expect(env.fleet.map(\.healthURL) == ["https://web1.example.com/api/health", "https://web2.example.com/api/health",
                                               "https://web3.example.com/api/health"])
        #expect(env.fleet.allSatisfy { $0.fleet.isEmpty && $0.project(.blue) == "demo-production-blue" })
    }

    @Test func batchSizes() {
        #expect(Batch("1") == .count(1) && Batch("100%") == .percent(100) && Batch("0") == nil && Batch("0%") == nil)
        #expect(Batch("x") == nil && Batch("150%") == nil)
        #expect(Batch.count(5).size(of: 3) == 3 && Batch.percent(100).size(of: 3) == 3 && Batch.percent(1).size(of: 3) == 1)
        #expect(Batch.percent(50).size(of: 3) == 2)
    }

    @Test(arguments: [
        ("        hosts:\n          - host: deploy@a\n            colour: blue\n", "environments.production.hosts[0].colour"),
        ("        hosts:\n          - deploy@a\n          - deploy@a\n", "each host once"),
        ("        hosts: []\n", "a list of user@host"),
        ("        hosts:\n          - ports: [1, 2]\n", "hosts[0].host is required"),
        ("        host: deploy@b\n        hosts:\n          - deploy@a\n", "either host or hosts"),
        ("        engine: swarm\n        health_url: http://x/\n        hosts:\n          - deploy@a\n", "no hosts with engine: swarm"),
        ("        batch: half\n", "a number of hosts (1) or a share (25%)"),
        ("        project: \"a b\"\n", "environments.production.project"),
        ("        engine: kubernetes\n", "compose or swarm"),
        ("        engine: swarm\n", "engine: swarm gates on it"),
    ])
    func badHostListsAreNamed(extra: String, message: String) throws {
        let yaml = "app: demo\nenvironments:\n  production:\n    compose_file: c.yml\n    image: demo\n"
            + extra.split(separator: "\n").map { String($0.dropFirst(4)) }.joined(separator: "\n") + "\n"
        #expect { try load(yaml) } throws: { "\($0)".contains(message) }
    }

    @Test func hostNames() {
        #expect(DeployEnvironment.hostName("deploy@10.0.0.11:2222") == "10.0.0.11")
        #expect(DeployEnvironment.hostName("web1") == "web1")
        #expect(DeployEnvironment.hostName("root@[::1]:22") == "::1")
    }

    @Test func projectAndSwarmServiceNames() throws {
        let env = try load("app: demo\nenvironments:\n  production:\n    compose_file: c.yml\n    image: demo\n    project: shop\n    engine: swarm\n    health_url: https://shop.example.com/health\n")
        #expect(env.engine == .swarm && env.swarmService == "shop_app" && env.project(.green) == "shop-green")
    }
}
