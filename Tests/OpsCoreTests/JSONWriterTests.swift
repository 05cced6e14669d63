import FoundationEssentials
import Testing
@testable import OpsCore

/// `JSONValue.serialized` writes what JSONEncoder with `JSONCoding`'s style writes, byte for byte.
@Suite struct JSONWriterTests {
    static let documents: [JSONValue] = [
        .null, .bool(true), .number(0), .number(-3), .number(90), .number(47.990356128825006), .number(0.1),
        .number(-2.5e-7), .string(""), .string("a \"quoted\" \\ path/with/slashes\n\t\r\u{8}\u{C}\u{1}\u{1F} é ✓ 🚀"),
        .array([]), .object([:]), .array([.number(1), .array([]), .object([:])]),
        .object(["b": .number(1), "a": .array([.string("x"), .null]), "c": .object(["z": .bool(false), "y": .object([:])]),
                 "labels": .object(["mount": .string("/var/lib/docker"), "device": .string("/dev/vda1")])]),
    ]

    @Test(arguments: [true, false])
    func matchesJSONEncoder(pretty: Bool) throws {
        for document in Self.documents {
            let expected = String(decoding: try JSONCoding.encoder(pretty: pretty).encode(document), as: UTF8.self)
            #expect(document.serialized(pretty: pretty) == expected, "\(document)")
        }
    }

    @Test func roundTripsThroughTheParser() {
        for document in Self.documents {
            #expect(JSONValue.parse(Array(document.serialized().utf8)) == document)
        }
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONValue.array([.number(.nan), .number(.infinity)]).serialized(pretty: false) == "[null,null]")
    }
}

/// `JSONValue.parse(_:keepingTopLevel:)`: what is kept equals a full parse; what is skipped is still checked.
@Suite struct JSONPartialParseTests {
    @Test func keepsTheNamedMembersAsAFullParseReadsThem() throws {
        let text = #"{"Id": "abc", "HostConfig": {"Binds": ["/a:/b"], "X": [1, 2.5e3, true, null, "q\"\\\u00e9"]}, "#
            + #""State": {"Status": "running", "Health": {"Log": [{"Output": "ok\n"}]}}, "Empty": {}, "List": []}"#
        let full = try #require(JSONValue.parse(Array(text.utf8)))
        let partial = try #require(JSONValue.parse(Array(text.utf8), keepingTopLevel: ["Id", "State"]))
        #expect(partial == .object(["Id": full["Id"]!, "State": full["State"]!]))
        #expect(JSONValue.parse(Array("[1, 2]".utf8), keepingTopLevel: ["a"]) == .array([.number(1), .number(2)]))
    }

    @Test func brokenSkippedMembersStillFailTheDocument() {
        for skipped in [#"{"a": [1, 2}"#, #"{"a": "x\u12"}"#, #"{"a": "\q"}"#, #"{"a": tru}"#, #"{"a": 01}"#,
                        "{\"a\": \"line\nbreak\"}", #"{"a": {"k" 1}}"#, #"{"a": 1,}"#, #"{"a": 1"#] {
            let wrapped = #"{"keep": 1, "skip": "# + skipped + "}"
            #expect(JSONValue.parse(Array(wrapped.utf8)) == nil, "\(skipped)")
            #expect(JSONValue.parse(Array(wrapped.utf8), keepingTopLevel: ["keep"]) == nil, "\(skipped)")
        }
    }
}
