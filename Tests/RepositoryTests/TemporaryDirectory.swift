import Foundation

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

/// Seeded pseudo-random bytes (SplitMix64): fast, and the same on every run.
enum RandomBytes {
    static func generate(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var i = 0
            while i < count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                withUnsafeBytes(of: z) { word in
                    let n = min(8, count - i)
                    raw.baseAddress!.advanced(by: i).copyMemory(from: word.baseAddress!, byteCount: n)
                }
                i += 8
            }
        }
        return bytes
    }
}
