import FoundationEssentials
import Testing
@testable import OpsCore

@Suite struct JSONParserTests {
    @Test func readsEveryKind() {
        let v = JSONValue.parse(Array(#" {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} "#.utf8))
        #expect(v == .object([
            "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
            "s": .string("x\"\\/\né😀"),
            "o": .object([:]),
        ]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"\\x\"", "\"a\nb\"", "{} {}",
                      "<html>", "\"\\ud83d\"", "{a:1}", "[1 2]", "1e"])
    func refusesWhatIsNotJSON(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil)
    }

    @Test func capsNesting() {
        #expect(JSONValue.parse(Array((String(repeating: "[", count: 300) + String(repeating: "]", count: 300)).utf8)) == nil)
        #expect(JSONValue.parse(Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)) != nil)
    }

    @Test func agreesWithJSONDecoderOnAHealthDocument() throws {
        let text = #"{"status":"healthy","checks":{"database":{"status":"up","latencyMs":5},"cache":true},"version":"abc1234","uptime":86400}"#
        let ours = JSONValue.parse(Array(text.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
    }
}
