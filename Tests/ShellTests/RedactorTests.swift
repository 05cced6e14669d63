import Testing
@testable import Shell

@Suite struct RedactorTests {
    @Test(arguments: [
        ("AWS_SECRET_ACCESS_KEY=abc123 aws s3 cp", "AWS_SECRET_ACCESS_KEY=*** aws s3 cp"),
        ("B2_APP_KEY: k3y", "B2_APP_KEY: ***"),
        ("DB_PASSWORD=\"p w\" next", "DB_PASSWORD=\"***\" next"),
        ("PGPASSWORD='a b'", "PGPASSWORD='***'"),
        ("--github-token=ghp_x", "--github-token=***"),
        ("{\"password\": \"hunter2\"}", "{\"password\": \"***\"}"),
        ("postgres://app:s3cret@db:5432/app", "postgres://app:***@db:5432/app"),
        ("https://h/x?token=abc&v=1", "https://h/x?token=***&v=1"),
        ("push failed: GITHUB_TOKEN=ghp_abc now", "push failed: GITHUB_TOKEN=*** now"),
        ("status: B2_APP_KEY=k3y", "status: B2_APP_KEY=***"),
        ("A_TOKEN=1 B_SECRET=2, C_PASSWORD=3;x", "A_TOKEN=*** B_SECRET=***, C_PASSWORD=***;x"),
        ("ünï API_KEY=sëcret ok", "ünï API_KEY=*** ok"),
        ("two urls https://a:b@h1/ and s3://k:s@h2", "two urls https://a:***@h1/ and s3://k:***@h2"),
        ("API_KEY=", "API_KEY="),
        ("API_KEY=\"unterminated\nnext", "API_KEY=\"***\nnext"),
        ("mykey=v KEYS=v", "mykey=v KEYS=v"),
    ])
    func redactsSecrets(input: String, expected: String) {
        #expect(Redactor.redact(input) == expected)
    }

    @Test func leavesOrdinaryTextAlone() {
        let text = "AWS_ACCESS_KEY_ID=AKIA123 HEALTH_URL=http://localhost:3000/api/health status: ok"
        #expect(Redactor.redact(text) == text)
    }

    @Test func redactsEnvironmentByName() {
        let env = Redactor.redact(environment: ["API_TOKEN": "t", "PATH": "/bin", "URL": "https://u:p@h/"])
        #expect(env == ["API_TOKEN": "***", "PATH": "/bin", "URL": "https://u:***@h/"])
    }
}
