/// Random identifiers for things the API names.
package enum Identifiers {
    private static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    private static let base32 = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// A pool id: 10 URL-safe characters (about 59 bits), unrelated to the item's bytes.
    package static func poolID() -> String {
        random(10, from: base62)
    }

    /// An opaque user id: 12 lowercase base32 characters (60 bits). It has no `-`, so ids the
    /// UI derives from it (`g-contacts-<id>`) and group role ids (`<gid>-manager`) stay apart.
    package static func userID() -> String {
        random(12, from: base32)
    }

    private static func random(_ count: Int, from alphabet: [Character]) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
