import Foundation
import TestSupport
import Testing

@testable import Repository

@Suite struct JSONValueTests {
    /// Nakamura read JSON in form fields with org.json: single quotes, bare keys and trailing
    /// commas are accepted (contract correction 2), and strict JSON reads as it is.
    @Test func formFieldJSONIsReadAsOrgJSONReadsIt() throws {
        let lenient = try JSONValue.parseLeniently(
            "{'basic': {'access': 'everybody', elements: {'firstName': {'value': 'O\\'Neil \"Jr\"'},},}, n: [1, 2,], ok: true}")
        let strict = try JSONValue.parse(
            #"{"basic":{"access":"everybody","elements":{"firstName":{"value":"O'Neil \"Jr\""}}},"n":[1,2],"ok":true}"#)
        #expect(lenient == strict)
        #expect(try JSONValue.parseLeniently(#"{"a, b":"x,}"}"#) == ["a, b": "x,}"], "commas inside strings stay")
        #expect(throws: RepositoryError.self) { try JSONValue.parseLeniently("{'a': }") }
    }

    @Test func stringsAreEscapedForScriptsAndPages() {
        let text = "a\"b\\c\nd\re\tf<g>h&i\u{2028}j\u{2029}k\u{01}l\u{1F}m"
        #expect(JSONValue.string(text).serialized
            == #""a\"b\\c\nd\re\tf\u003cg\u003eh\u0026i\u2028j\u2029k\u0001l\u001fm""#)
        // Other characters pass as they are, the ones sharing U+2028's first byte included.
        #expect(JSONValue.string("café … ‘x’ 日本").serialized == "\"café … ‘x’ 日本\"")
    }

    /// Any string, written and read back by another parser, is the same string.
    @Test func randomStringsSurviveARoundTrip() throws {
        var random = SplitMix(seed: 23)
        let alphabet: [Character] = ["a", "\"", "\\", "\n", "<", ">", "&", "\u{2028}", "\u{2029}", "\u{0}", "\u{7}", "é", "…", "😀", "\u{E2}"]
        for _ in 0..<500 {
            let length = Int(random.next() % 12)
            let text = String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            let object = JSONValue.object([text: .array([.string(text)])])
            let parsed = try JSONSerialization.jsonObject(with: Data(object.serialized.utf8)) as? [String: [String]]
            #expect(parsed == [text: [text]])
        }
    }
}
