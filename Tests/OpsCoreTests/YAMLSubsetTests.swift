import Testing
@testable import OpsCore

@Suite struct YAMLSubsetTests {
    @Test func readsTheShapesOpskitYmlUses() throws {
        let text = """
        # opskit.yml
        app: memoryloop
        health:
          url: "http://127.0.0.1:3000/api/health"   # comment after a value
          expect-status: [200, 204]
          timeout: 5
        environments:
          production:
            host: deploy@vps.example.com:2222
            urls:
              - https://example.com/api/health
              - 'https://example.com/it''s'
          staging:
            hosts:
            - name: a
              port: 22
            - name: b
        empty:
        hash: "a # not a comment"
        """
        let v = try YAMLSubset.parse(text)
        #expect(v.value(atPath: "app") == .string("memoryloop"))
        #expect(v.value(atPath: "health.url") == .string("http://127.0.0.1:3000/api/health"))
        #expect(v.value(atPath: "health.expect-status") == .array([.string("200"), .string("204")]))
        #expect(v.value(atPath: "environments.production.urls.1") == .string("https://example.com/it's"))
        #expect(v.value(atPath: "environments.staging.hosts.0.port") == .string("22"))
        #expect(v.value(atPath: "environments.staging.hosts.1.name") == .string("b"))
        #expect(v.value(atPath: "empty") == .null)
        #expect(v.value(atPath: "hash") == .string("a # not a comment"))
    }

    @Test(arguments: [
        ("a: 1\n\tb: 2", 2, "tabs"),
        ("a: 1\na: 2", 2, "duplicate key"),
        ("a: &x 1", 1, "anchors"),
        ("a: |\n  text", 1, "multi-line"),
        ("a: 'open", 1, "unterminated"),
        ("a:\n  b: 1\n    c: 2", 3, "indentation"),
        ("just a line", 1, "expected `key: value`"),
    ])
    func refusesWhatItDoesNotUnderstand(text: String, line: Int, fragment: String) {
        #expect {
            try YAMLSubset.parse(text, file: "x.yml")
        } throws: { error in
            guard case .syntax(let file, let l, let message) = error as? ConfigError else { return false }
            return file == "x.yml" && l == line && message.contains(fragment)
        }
    }

    @Test func doubleQuotedEscapes() throws {
        let v = try YAMLSubset.parse(#"k: "a\"b\\c\nd""#)
        #expect(v["k"] == .string("a\"b\\c\nd"))
    }

    @Test func emptyFileIsEmptyMapping() throws {
        #expect(try YAMLSubset.parse("# nothing\n\n") == .object([:]))
    }

    @Test func readsOneLevelFlowMappings() throws {
        let value = try YAMLSubset.parse("keep: {daily: 7, weekly: '4', note: \"a, b\"}\nempty: {}\n")
        #expect(value["keep"] == .object(["daily": .string("7"), "weekly": .string("4"), "note": .string("a, b")]))
        #expect(value["empty"] == .object([:]))
        #expect(throws: ConfigError.self) { try YAMLSubset.parse("keep: {daily 7}") }
        #expect(throws: ConfigError.self) { try YAMLSubset.parse("keep: {a: 1, a: 2}") }
        #expect(throws: ConfigError.self) { try YAMLSubset.parse("keep: {a: [1]}") }
    }
}
