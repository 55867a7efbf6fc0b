import Crypto
import Foundation
import Testing

@testable import Repository

@Suite struct BlobIDTests {
    @Test func writtenFormRoundTrips() throws {
        let id = BlobID(hashing: Data("hello".utf8))
        #expect(id.description == "sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try BlobID(parsing: id.description) == id)
        #expect(try BlobID(parsing: id.hex) == id)
        #expect(id.shortDescription == "sha256-2cf24dba")
    }

    @Test(arguments: [
        ("", BlobID.ParseError.missingPrefix),
        ("md5-abc", .missingPrefix),
        ("sha256-abc", .badLength(3)),
        ("sha256-" + String(repeating: "g", count: 64), .notHex),
        ("sha256-" + String(repeating: "A", count: 64), .notHex),
    ])
    func malformedIdsAreRejected(text: String, expected: BlobID.ParseError) {
        #expect(throws: expected) { try BlobID(parsing: text) }
    }

    @Test func idsOrderAndHashByValue() throws {
        let a = BlobID(hashing: Data("a".utf8))
        let b = BlobID(hashing: Data("b".utf8))
        #expect(Set([a, b, try BlobID(parsing: a.description)]).count == 2)
        #expect((a < b) != (b < a))
    }
}
