/// A URL path split the way Sling splits it: `/p/abc.members.json` is resource `/p/abc`,
/// selectors `["members"]` and extension `json`.
package struct SlingPath: Sendable, Equatable {
    package var resource: String
    package var selectors: [String]
    package var `extension`: String?

    /// Splits at the first dot of the last segment: what follows are selectors and the
    /// extension. `resolve` prefers a longer resource that exists, so dotted names work.
    package init(_ path: String) {
        let lastSlash = path.lastIndex(of: "/") ?? path.startIndex
        let last = path[lastSlash...]
        guard let dot = last.firstIndex(of: ".") else {
            self.init(resource: path, selectors: [], extension: nil)
            return
        }
        var parts = path[path.index(after: dot)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let ext = parts.popLast()
        self.init(resource: String(path[..<dot]), selectors: parts, extension: ext)
    }

    package init(resource: String, selectors: [String], extension: String?) {
        self.resource = resource
        self.selectors = selectors
        self.extension = `extension`
    }

    /// The longest resource that `exists`, trying each dot of the last segment from the
    /// right; when none exists, the split at the first dot.
    package static func resolve(_ path: String, exists: (String) async throws -> Bool) async rethrows -> SlingPath {
        if try await exists(path) { return SlingPath(resource: path, selectors: [], extension: nil) }
        let lastSlash = path.lastIndex(of: "/") ?? path.startIndex
        var candidates: [String.Index] = []
        var index = path.index(after: lastSlash)
        while index < path.endIndex {
            if path[index] == "." { candidates.append(index) }
            index = path.index(after: index)
        }
        for dot in candidates.reversed().dropLast() {
            let resource = String(path[..<dot])
            if try await exists(resource) {
                var parts = path[path.index(after: dot)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                let ext = parts.popLast()
                return SlingPath(resource: resource, selectors: parts, extension: ext)
            }
        }
        return SlingPath(path)
    }

    /// The rendering depth the selectors ask for: none → 0, `N` → N, `infinity` → nil (all).
    package var depth: Int? {
        for selector in selectors.reversed() {
            if selector == "infinity" { return nil }
            if let number = Int(selector), number >= 0 { return min(number, 1000) }
        }
        return 0
    }
}
