import Foundation

/// The committed corpus, found from this source file's place in the package.
enum CorpusFiles {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("corpus")

    static func golden(_ name: String) -> String { root.appendingPathComponent("golden/\(name)").path }
    static func hostile(_ name: String) -> String { root.appendingPathComponent("hostile/\(name)").path }
}
