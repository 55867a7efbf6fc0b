import Foundation
import TestSupport

/// A fresh folder for one test, removed when the test is done with it.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("oaken-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    var path: String { url.path }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `count` pseudo-random bytes (seeded, so a failure can be replayed) to `name`.
    @discardableResult
    func writeRandomFile(_ name: String, count: Int, seed: UInt64) throws -> URL {
        let url = file(name)
        try Data(RandomBytes.generate(count: count, seed: seed)).write(to: url)
        return url
    }

    /// Every regular file below `relativePath`.
    func files(under relativePath: String) -> [String] {
        let root = url.appendingPathComponent(relativePath)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        return walker.compactMap { entry in
            guard let entry = entry as? URL,
                (try? entry.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
            else { return nil }
            return entry.path
        }
    }
}

/// Seeded pseudo-random bytes, the same on every run.
enum RandomBytes {
    static func generate(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return generator.bytes(count)
    }
}
