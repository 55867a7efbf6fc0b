import Foundation
import HTTPTypes
import Repository
import Synchronization

/// The 3akai-ux tree the server serves: static files, and the data the server generates
/// from it (`widgets.json`, the world templates).
final class UIFolder: Sendable {
    let root: URL
    /// The root with every symbolic link resolved: what a served file's real path must be under.
    private let realRoot: String
    private let widgetsCache = Mutex<JSONValue?>(nil)

    init(root: URL) {
        self.root = root.standardizedFileURL
        realRoot = Self.realPath(self.root.path) ?? self.root.path
    }

    /// The real path of `path` (every link resolved), or `nil` when it does not exist.
    private static func realPath(_ path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// The real path of a file or folder in the tree, or `nil` when it is missing or lies,
    /// through a symbolic link, outside the root.
    private func contained(_ url: URL) -> String? {
        guard url.path.hasPrefix(root.path + "/"), let real = Self.realPath(url.path) else { return nil }
        return real.hasPrefix(realRoot + "/") ? real : nil
    }

    /// The file at a URL path, with its type, an ETag and `304` for a matching
    /// `If-None-Match`; `nil` when there is no such file.
    func file(at path: String, headers: HTTPFields) throws -> Reply? {
        let url = root.appendingPathComponent(String(path.dropFirst())).standardizedFileURL
        guard let real = contained(url) else { return nil }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let etag = "\"\(String(info.st_size, radix: 16))-\(String(info.st_mtim.tv_sec, radix: 16))-\(String(info.st_mtim.tv_nsec, radix: 16))\""
        var reply = Reply(headers: [("ETag", etag), ("Cache-Control", "no-cache")])
        if Reply.matches(ifNoneMatch: headers[.ifNoneMatch], etag: etag) {
            reply.status = .notModified
            return reply
        }
        guard info.st_size <= 64 << 20, let data = FileManager.default.contents(atPath: real) else { return nil }
        reply.headers.append(("Content-Type", Self.mediaType(of: url.pathExtension)))
        if ["html", "htm", "svg", "xml"].contains(url.pathExtension.lowercased()) == false {
            reply.headers.append(("Content-Disposition", "inline"))
        }
        reply.body = [UInt8](data)
        return reply
    }

    /// `widgets.json`: each `devwidgets/<name>/config.json`, by name. Files that are not
    /// JSON even when read leniently are left out.
    func widgets() -> JSONValue {
        widgetsCache.withLock { cache in
            if let cache { return cache }
            var widgets: [String: JSONValue] = [:]
            let folder = root.appendingPathComponent("devwidgets")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() {
                let config = folder.appendingPathComponent(name).appendingPathComponent("config.json")
                guard let real = contained(config), let data = FileManager.default.contents(atPath: real),
                    let value = try? JSONValue.parseLeniently(String(decoding: data, as: UTF8.self)), case .object = value
                else { continue }
                widgets[name] = value
            }
            let result = JSONValue.object(widgets)
            cache = result
            return result
        }
    }

    /// The template node at `path` (under `var/templates`), to `depth`: a `<path>.json` file
    /// holds the node's own properties (objects in it are children), and the `<path>/`
    /// folder's JSON files are further children. Arrays of objects become arrays of JSON
    /// strings, as Nakamura stored them.
    func templateNode(_ path: String, depth: Int?) -> JSONValue? {
        let base = root.appendingPathComponent(String(path.dropFirst())).standardizedFileURL
        guard base.path.hasPrefix(root.appendingPathComponent("var/templates").path) else { return nil }
        var object: [String: JSONValue] = [:]
        var found = false
        if let file = contained(URL(fileURLWithPath: base.path + ".json")), let data = FileManager.default.contents(atPath: file),
            case .object(let properties)? = try? JSONValue.parseLeniently(String(decoding: data, as: UTF8.self))
        {
            found = true
            for (key, value) in properties {
                if let rendered = Self.templateValue(value, depth: depth) { object[key] = rendered }
            }
        }
        var isFolder: ObjCBool = false
        if let folder = contained(base), FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue {
            found = true
            if depth ?? 1 > 0 {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                var children = Set<String>()
                for entry in entries where !entry.hasPrefix(".") {
                    if entry.hasSuffix(".json") { children.insert(String(entry.dropLast(5))) }
                }
                for child in children.sorted() {
                    if let node = templateNode(path + "/" + child, depth: depth.map { $0 - 1 }) { object[child] = node }
                }
            }
        }
        return found ? .object(object) : nil
    }

    private static func templateValue(_ value: JSONValue, depth: Int?) -> JSONValue? {
        switch value {
        case .object(let members):
            guard depth ?? 1 > 0 else { return nil }
            var object: [String: JSONValue] = [:]
            for (key, member) in members {
                if let rendered = templateValue(member, depth: depth.map { $0 - 1 }) { object[key] = rendered }
            }
            return .object(object)
        case .array(let values):
            return .array(values.map { value in
                if case .object = value { return .string(value.serialized) }
                return value
            })
        default:
            return value
        }
    }

    static func mediaType(of fileExtension: String) -> String {
        switch fileExtension.lowercased() {
        case "html", "htm": "text/html; charset=utf-8"
        case "js": "application/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json; charset=utf-8"
        case "properties", "txt": "text/plain; charset=utf-8"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        case "ico": "image/x-icon"
        case "woff": "font/woff"
        case "woff2": "font/woff2"
        case "ttf": "font/ttf"
        case "eot": "application/vnd.ms-fontobject"
        case "swf": "application/x-shockwave-flash"
        case "xml": "application/xml"
        case "pdf": "application/pdf"
        default: "application/octet-stream"
        }
    }
}

extension OakenService {
    /// `GET /var/widgets.json?callback=define`: JSONP when a callback is named.
    func widgets(_ call: Call) async throws -> Reply {
        guard call.isSafe else { throw HTTPFailure.methodNotAllowed("widgets.json is read with GET") }
        let widgets = ui?.widgets() ?? .object([:])
        return try Self.jsonp(widgets, callback: call.parameters["callback"])
    }

    static func jsonp(_ value: JSONValue, callback: String?) throws -> Reply {
        guard let callback else { return .json(value) }
        let valid = !callback.isEmpty && callback.count <= 64
            && callback.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_$.".unicodeScalars.contains($0)) }
        guard valid else { throw HTTPFailure.badRequest("callback must be a JavaScript name") }
        return .text("\(callback)(\(value.serialized));", type: "application/javascript; charset=utf-8")
    }

    /// `GET /var/templates/worlds.2.json` and any other template node.
    /// Template nodes are JSON; anything else under `/var/templates` (the templates' images)
    /// is a static file.
    func templates(_ call: Call) throws -> Reply {
        let sling = SlingPath(call.path)
        if call.path.hasSuffix(".json"), let node = ui?.templateNode(sling.resource, depth: sling.depth) { return .json(node) }
        // Without the UI tree's templates, Oaken's own world templates answer.
        if call.path.hasSuffix(".json"), let node = Self.builtInTemplateNode(sling.resource) { return .json(node) }
        return try staticFile(call)
    }

    /// A node of the built-in world template tree (`/var/templates/worlds[/<category>[/<id>]]`).
    static func builtInTemplateNode(_ resource: String) -> JSONValue? {
        let parts = resource.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "var", parts[1] == "templates", parts[2] == "worlds" else { return nil }
        var node: JSONValue? = WorldTemplate.builtInTree
        for part in parts.dropFirst(3) { node = node?.objectValue?[part] }
        return node
    }

    /// A file of the UI tree, or 404.
    func staticFile(_ call: Call) throws -> Reply {
        guard let ui, let reply = try ui.file(at: call.path, headers: call.headers) else { throw HTTPFailure.notFound() }
        return reply
    }

    /// The HTML shells of contract §1.1.
    static let pages: [String: String] = [
        "/": "dev/index.html", "/index": "dev/index.html", "/index.html": "dev/index.html",
        "/me": "dev/me.html", "/me.html": "dev/me.html", "/content": "dev/content_profile.html",
        "/search": "dev/search.html", "/create": "dev/createnew.html", "/create.html": "dev/createnew.html",
        "/register": "dev/create_new_account.html", "/logout": "dev/logout.html",
        "/categories": "dev/allcategories.html", "/category": "dev/category.html",
        "/acknowledgements": "dev/acknowledgements.html", "/403": "dev/403.html", "/404": "dev/404.html",
        "/500": "dev/500.html", "/s2site": "dev/s23/s23_site.html", "/search/sakai2": "dev/search_sakai2.html",
        "/favicon.ico": "dev/favicon.ico",
    ]

    /// A page route's shell (`pages`), or 404.
    func page(_ call: Call) throws -> Reply {
        guard let file = Self.pages[call.path], let ui, let reply = try ui.file(at: "/" + file, headers: call.headers) else {
            throw HTTPFailure.notFound()
        }
        return reply
    }

    /// `/~<id>` read by a browser: the user's or the group's page shell, as the id names.
    /// `nil` without a UI tree or for a path with more than the id.
    func homePage(_ call: Call) async throws -> Reply? {
        guard call.isSafe, let ui, call.path.hasPrefix("/~"), !call.path.dropFirst(2).contains("/"), !call.path.contains(".")
        else { return nil }
        let file: String
        switch try await metadata.principalKind(of: String(call.path.dropFirst(2))) {
        case .user?: file = "dev/user.html"
        case .group?: file = "dev/group.html"
        case nil: throw HTTPFailure.notFound("No such user or group")
        }
        return try ui.file(at: "/" + file, headers: call.headers)
    }
}
