import Testing
@testable import OpsCore

@Suite struct HealthURLTests {
    @Test(arguments: ["http://127.0.0.1:3000/api/health", "https://example.com", "HTTPS://EXAMPLE.COM/x?y=1",
                      "http://[::1]:8080/h", "http://user:pw@host/h"])
    func accepts(url: String) throws {
        try HealthURL.validate(url)
    }

    @Test(arguments: [
        ("not a url", "expected http://"), ("ftp://h/", "scheme must be http or https"), ("http:///x", "no host"),
        ("http://h:0/", "port"), ("http://h:abc/", "port"), ("http://h/a b", "spaces"), ("http://[::1/", "IPv6"),
    ])
    func refuses(url: String, fragment: String) {
        #expect {
            try HealthURL.validate(url)
        } throws: { error in
            "\(error)".contains(fragment) && "\(error)".contains(url)
        }
    }
}
