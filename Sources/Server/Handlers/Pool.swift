import Foundation
import HTTPTypes
import Hummingbird
import Indexer
import NIOCore
import Repository

/// The content pool (contract §2.6): uploads, items under `/p/<poolId>`, their bodies,
/// metadata, tags, members and visibility.
extension OakenService {
    /// Whether a POST to `path` is an upload, whose body is streamed rather than collected:
    /// `createfile` and an item's new child resource.
    static func isUpload(_ path: String) -> Bool {
        path == "/system/pool/createfile" || path.hasPrefix("/system/pool/createfile.")
            || (path.hasPrefix("/p/") && (path.hasSuffix(".resource.html") || path.hasSuffix(".resource.json")))
    }

    // MARK: - Uploads

    /// `POST /system/pool/createfile` (every file part becomes an item) and
    /// `POST /system/pool/createfile.<poolId>` (the first file part replaces the body of the
    /// item's working copy; only `.save.json` makes a version, which the UI calls first). Each
    /// part is hashed and written to the blob store as it arrives.
    func createFile(_ call: Call) async throws -> Reply {
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("uploads are sent with POST") }
        guard let user = call.viewer.user else { throw HTTPFailure.forbidden("Anonymous users may not upload") }
        let target = call.path == "/system/pool/createfile" ? nil : String(call.path.dropFirst("/system/pool/createfile.".count))
        if let target {
            guard let record = try await metadata.itemRecord(id: target), access(record, call.viewer).read else {
                throw HTTPFailure.notFound()
            }
            guard access(record, call.viewer).write else { throw HTTPFailure.forbidden("You may not change this item") }
        }
        guard let upload = call.upload else {
            guard target == nil else {
                throw HTTPFailure.badRequest("a new version is a multipart/form-data body with a file part")
            }
            return try await createWithoutBody(call, owner: user)
        }
        guard let boundary = MultipartParser.boundary(ofContentType: upload.contentType) else {
            throw HTTPFailure.badRequest("the multipart body has no usable boundary")
        }
        var created: [(String, ContentItem)] = []
        try await receiveFiles(upload, boundary: boundary, limit: options.maximumUploadSize) { name, staged in
            if let target {
                guard created.isEmpty else {
                    site.blobs.discard(staged)
                    return
                }
                let item = try await metadata.replaceBody(
                    ofItem: target, body: staged, mimeType: MediaTypeSniffer.mediaType(of: staged.head), savedBy: user.id,
                    blobs: site.blobs)
                created.append((name, item))
            } else {
                let item = try await metadata.createItem(
                    NewContentItem(name: name, mimeType: MediaTypeSniffer.mediaType(of: staged.head), ownerID: user.id),
                    body: staged, blobs: site.blobs)
                created.append((name, item))
            }
        }
        guard !created.isEmpty else { throw HTTPFailure.badRequest("the upload holds no file part") }
        extraction?.wake()
        var answer: [String: JSONValue] = [:]
        for (name, item) in created {
            guard let record = try await metadata.itemRecord(id: item.id) else { continue }
            answer[name] = ["poolId": .string(item.id), "item": .object(itemProperties(record))]
        }
        // Sent as text/plain: jquery.form may upload through an iframe.
        var reply = Reply.json(.object(answer), status: target == nil ? .created : .ok)
        reply.headers = [("Content-Type", "text/plain; charset=utf-8")]
        return reply
    }

    /// Form mode of `createfile`: an item without a body (a Sakai doc, a link, a collection)
    /// of the media type in `mimeType` (or none in particular), with the other form fields as
    /// its properties.
    private func createWithoutBody(_ call: Call, owner: User) async throws -> Reply {
        let mimeType = call.parameters["mimeType"].flatMap { $0.isEmpty ? nil : $0 } ?? "application/octet-stream"
        guard mimeType.utf8.count <= 255, mimeType.contains("/"), !mimeType.contains(where: \.isNewline) else {
            throw HTTPFailure.badRequest("mimeType must be a media type such as x-sakai/document")
        }
        var fields = Parameters()
        for (key, value) in call.parameters.pairs where !key.hasPrefix("_") && key != "mimeType" { fields.append(key, value) }
        let change = try Self.itemChange(from: fields)
        let item = try await metadata.createBodilessItem(
            NewContentItem(
                name: change.name ?? "Untitled", mimeType: mimeType, ownerID: owner.id, visibility: change.visibility ?? .private,
                description: change.description ?? ""),
            properties: change.setProperties)
        guard let record = try await metadata.itemRecord(id: item.id) else { throw HTTPFailure.notFound() }
        return .json(["_contentItem": ["poolId": .string(item.id), "item": .object(itemProperties(record))]], status: .created)
    }

    /// Reads a multipart body, staging each file part in the blob store as it streams and
    /// handing it to `store` with its file name. Field parts are skipped. Throws 413 past
    /// `limit` bytes, 400 for a malformed body; whatever is staged but not stored is
    /// discarded.
    private func receiveFiles(
        _ upload: Upload, boundary: String, limit: Int64,
        store: (String, StagedBlob) async throws -> Void
    ) async throws {
        var parser = MultipartParser(boundary: boundary)
        var writer: (any BlobWriter)?
        var fileName: String?
        var received: Int64 = 0
        defer { writer?.cancel() }
        do {
            for try await chunk in upload.body {
                received += Int64(chunk.readableBytes)
                guard received <= limit else {
                    throw HTTPFailure(.contentTooLarge, "the upload is larger than the limit of \(limit) bytes")
                }
                parser.feed(chunk)
                while let event = try parser.next() {
                    switch event {
                    case .headers(let headers):
                        let disposition = MultipartParser.disposition(headers["content-disposition"] ?? "")
                        if let name = disposition.fileName.map(Self.baseName), !name.isEmpty {
                            fileName = name
                            writer = try site.blobs.beginWrite()
                        }
                    case .body(let bytes):
                        try bytes.withUnsafeReadableBytes { try writer?.append($0) }
                    case .partEnd:
                        if let finished = writer, let name = fileName {
                            writer = nil
                            fileName = nil
                            let staged = try finished.finish()
                            do {
                                try await store(name, staged)
                            } catch {
                                site.blobs.discard(staged)
                                throw error
                            }
                        }
                    case .end:
                        break
                    }
                }
            }
            try parser.finish()
        } catch MultipartParser.Failure.malformed(let message) {
            throw HTTPFailure.badRequest("the multipart body is malformed: \(message)")
        } catch let failure as HTTPFailure {
            throw failure
        } catch let error as RepositoryError {
            throw error
        } catch {
            throw HTTPFailure.badRequest("the upload ended before its last part")
        }
    }

    /// The last path component of a client's file name (old browsers send the full path).
    private static func baseName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return last.filter { $0 != "\0" }
    }

    // MARK: - Items

    /// Everything under `/p/`.
    func poolItem(_ call: Call) async throws -> Reply {
        let rest = call.path.dropFirst(3)
        let idEnd = rest.firstIndex(where: { $0 == "." || $0 == "/" }) ?? rest.endIndex
        let id = String(rest[..<idEnd])
        guard !id.isEmpty, let record = try await metadata.itemRecord(id: id) else { throw HTTPFailure.notFound() }
        let access = access(record, call.viewer)
        guard access.read else { throw HTTPFailure.notFound() }
        var tail = String(rest[idEnd...])
        if tail.hasPrefix(".version.,") || tail == "/.versions.json" || tail.hasPrefix(".versions.") {
            guard call.isSafe else { throw HTTPFailure.methodNotAllowed("versions are read with GET") }
            return try await versions(record, tail: tail, call)
        }
        if tail.hasPrefix("/") {
            let child = String(tail.dropFirst())
            let name = record.item.name
            if child == name {
                // `/p/ID/<file name>`: the body, under the name it is downloaded as.
                guard call.isSafe else { throw HTTPFailure.methodNotAllowed("a download takes GET") }
                return try download(record, call)
            }
            if child.hasPrefix(name + ".") {
                // `/p/ID/<file name>.json`: the item itself.
                tail = String(child.dropFirst(name.count))
            } else if let resource = try await resource(at: child, of: record) {
                guard call.isSafe else { throw HTTPFailure.methodNotAllowed("a resource is read with GET") }
                return try resourceReply(resource, record: record, call)
            } else {
                return try await page(record, access: access, path: child, call)
            }
        }
        let split = SlingPath("/p/\(id)" + tail)
        let sling = SlingPath(resource: "/p/\(id)", selectors: split.selectors, extension: split.extension)
        if call.isSafe {
            switch (sling.selectors.first, sling.extension) {
            case (nil, nil):
                return try download(record, call)
            case ("members", "json"?), ("members", "html"?):
                return try await members(record, detailed: sling.selectors.contains("detailed"))
            case ("acl", "json"?):
                guard access.manage else { throw HTTPFailure.notFound() }
                return .json(accessList(record, former: try await metadata.formerGrantees(ofItem: record.item.id)))
            case ("comments", _), (nil, "comments"?):
                return try await comments(record)
            case (_, "json"?):
                // A Sakai doc's pages are its child nodes: shown from depth 1 (`.1.json`,
                // `.infinity.json`) on, as Sling renders children.
                let depth = sling.selectors.first.map { $0 == "infinity" ? Int.max : Int($0) ?? 0 } ?? 0
                var properties = itemProperties(record, withPages: depth > 0)
                properties["oaken:extraction"] = try await extractionState(of: record)
                return .json(.object(properties))
            default:
                throw HTTPFailure.notFound()
            }
        }
        if sling.selectors.first == "comments" || (sling.selectors.isEmpty && sling.extension == "comments"),
            call.method == .post || call.method == .delete
        {
            return try await changeComments(record, access: access, call)
        }
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("\(call.method.rawValue) is not supported here") }
        switch sling.selectors.first {
        case "resource":
            guard access.write else { throw HTTPFailure.forbidden("You may not change this item") }
            return try await addResource(to: record, call)
        case "members":
            return try await changeMembers(record, access: access, call)
        case "modifyAce":
            guard access.manage else { throw HTTPFailure.forbidden("Only a manager may change who can read this item") }
            return try await modifyItemAccess(record, call)
        case "save":
            guard access.write else { throw HTTPFailure.forbidden("You may not change this item") }
            return try await saveVersion(record, call)
        default:
            break
        }
        switch call.parameters[":operation"] {
        case "delete":
            guard access.manage else { throw HTTPFailure.forbidden("Only a manager may delete this item") }
            try await metadata.deleteItem(id: id)
            return .status(.ok, path: sling.resource, for: call)
        case "tag", "deletetag":
            guard access.write else { throw HTTPFailure.forbidden("You may not tag this item") }
            let names = try call.parameters.all("key").map { key -> String in
                guard key.hasPrefix("/tags/"), key.count > 6 else { throw HTTPFailure.badRequest("key must name /tags/<tag>") }
                return String(key.dropFirst(6))
            }
            guard !names.isEmpty else { throw HTTPFailure.badRequest("key is required") }
            let adding = call.parameters[":operation"] == "tag"
            try await metadata.changeItemTags(itemID: id, add: adding ? names : [], remove: adding ? [] : names)
            return .status(.ok, path: sling.resource, for: call)
        case nil, "modify":
            guard access.write else { throw HTTPFailure.forbidden("You may not change this item") }
            let change = try checkedChange(try Self.itemChange(from: call.parameters), to: record, access: access)
            try await metadata.updateItem(id: id, change, by: call.viewer.userID)
            return .status(.ok, path: sling.resource, for: call)
        case "import":
            guard access.write else { throw HTTPFailure.forbidden("You may not change this item") }
            guard call.parameters[":contentType"] == "json", let text = call.parameters[":content"],
                case .object(let content) = try JSONValue.parseLeniently(text, field: ":content")
            else { throw HTTPFailure.badRequest(":contentType=json and a JSON object in :content are required") }
            let change = try checkedChange(try Self.itemChange(fromJSON: content), to: record, access: access)
            try await metadata.updateItem(id: id, change, by: call.viewer.userID)
            return .status(.ok, path: sling.resource, for: call)
        default:
            throw HTTPFailure.badRequest("unknown :operation")
        }
    }

    /// A page of a Sakai doc, `/p/ID/<ref>[.selectors].json`: kept as an object property of
    /// its item (the doc's structure names each page's `_ref`). GET renders it; a POST (a
    /// modify or a `.save.json`) sets the properties it carries.
    private func page(_ record: ItemRecord, access: ItemAccess, path: String, _ call: Call) async throws -> Reply {
        let sling = SlingPath(path)
        let ref = sling.resource
        guard !ref.isEmpty, !ref.contains("/"), !Self.derivedItemProperties.contains(ref),
            case .object(var page) = record.properties[ref]
        else { throw HTTPFailure.notFound() }
        if call.isSafe {
            guard sling.extension == "json" else { throw HTTPFailure.notFound() }
            return .json(.object(page))
        }
        guard call.method == .post else { throw HTTPFailure.methodNotAllowed("\(call.method.rawValue) is not supported here") }
        guard access.write else { throw HTTPFailure.forbidden("You may not change this item") }
        for key in call.parameters.names where !key.hasPrefix(":") && !key.hasPrefix("_") {
            if key.hasSuffix("@Delete") {
                page[String(key.dropLast(7))] = nil
            } else if !key.contains("@") {
                let values = call.parameters.all(key)
                page[key] = values.count > 1 ? .array(values.map(JSONValue.string)) : .string(values[0])
            }
        }
        try await metadata.updateItem(id: record.item.id, ItemChange(setProperties: [ref: .object(page)]), by: call.viewer.userID)
        return .json(.object(page))
    }

    /// A property change as the caller may make it: an editor changes the body and the
    /// properties, but who may read the item (`sakai:permissions`) is for managers only
    /// (contract correction 15). Restating the current value is no change.
    private func checkedChange(_ change: ItemChange, to record: ItemRecord, access: ItemAccess) throws -> ItemChange {
        guard !access.manage, let asked = change.setProperties["sakai:permissions"] else { return change }
        guard asked == itemProperties(record)["sakai:permissions"] else {
            throw HTTPFailure.forbidden("Only a manager may change who can read this item")
        }
        var change = change
        change.setProperties["sakai:permissions"] = nil
        change.visibility = nil
        return change
    }

    func access(_ record: ItemRecord, _ viewer: Viewer) -> ItemAccess {
        record.access(principals: viewer.principals, rule: viewer.itemRule)
    }

    /// Properties the API may not set directly: they are derived from the item's own columns.
    static let derivedItemProperties: Set<String> = [
        "_path", "sakai:pool-content-created-for", "sakai:pooled-content-manager", "sakai:pooled-content-viewer",
        "sakai:pooled-content-editor", "_mimeType", "_length", "_created", "_createdBy", "_lastModified",
        "_lastModifiedBy", "_bodyLastModified", "sling:resourceType", "sakai:tags", "jcr:primaryType",
    ]

    /// A metadata change from Sling-style parameters: the file name and description map to
    /// the item's columns, `sakai:permissions` to its visibility, `name@Delete` removes a
    /// property, and other names are stored as they come.
    static func itemChange(from parameters: Parameters) throws -> ItemChange {
        var change = ItemChange()
        for (key, value) in parameters.pairs {
            if key.hasPrefix(":") || key.hasPrefix("_charset_") { continue }
            if key.hasSuffix("@Delete") {
                let name = String(key.dropLast(7))
                if !derivedItemProperties.contains(name), name != "sakai:pooled-content-file-name" {
                    change.removeProperties.insert(name)
                }
                continue
            }
            if key.contains("@") || derivedItemProperties.contains(key) { continue }
            switch key {
            case "sakai:pooled-content-file-name":
                change.name = value
            case "sakai:description":
                change.description = value
            case "sakai:permissions":
                change.setProperties[key] = .string(value)
                change.visibility = Self.visibility(permissions: value)
            default:
                let values = parameters.all(key)
                if values == [""] {
                    // An empty value removes the property, as in Sling.
                    change.removeProperties.insert(key)
                } else {
                    change.setProperties[key] = values.count > 1 ? .array(values.map(JSONValue.string)) : .string(value)
                }
            }
        }
        return change
    }

    /// A metadata change from an imported JSON object: as `itemChange(from:)`, except that
    /// objects and arrays (a Sakai doc's pages, say) are kept as they are rather than as text.
    static func itemChange(fromJSON content: [String: JSONValue]) throws -> ItemChange {
        var parameters = Parameters()
        var structured: [String: JSONValue] = [:]
        for (key, value) in content {
            switch value {
            case .object, .array:
                if !key.hasPrefix(":"), !key.hasPrefix("_"), !key.contains("@"), !derivedItemProperties.contains(key) {
                    structured[key] = value
                }
            default:
                parameters.append(key, value.stringValue ?? value.serialized)
            }
        }
        var change = try itemChange(from: parameters)
        change.setProperties.merge(structured) { _, new in new }
        return change
    }

    /// The visibility a `sakai:permissions` value stands for (`group` shares with named
    /// groups only, so the item itself is private).
    static func visibility(permissions: String) -> Visibility? {
        switch permissions {
        case "public": .public
        case "everyone": .loggedIn
        case "private", "group": .private
        default: nil
        }
    }

    /// An item as the UI reads it (§2.6 properties).
    func itemProperties(_ record: ItemRecord, withPages: Bool = false) -> [String: JSONValue] {
        let item = record.item
        var properties = record.properties
        if !withPages { properties = properties.filter { if case .object = $0.value { false } else { true } } }
        properties.reserveCapacity(properties.count + 24)
        let permissions: String
        switch item.visibility {
        case .public: permissions = "public"
        case .loggedIn: permissions = "everyone"
        case .private: permissions = record.properties["sakai:permissions"]?.stringValue == "group" ? "group" : "private"
        }
        var viewers = record.principals(.viewer)
        switch item.visibility {
        case .public: viewers += ["everyone", "anonymous"]
        case .loggedIn: viewers += ["everyone"]
        case .private: break
        }
        properties["_path"] = .string(item.id)
        properties["sling:resourceType"] = "sakai/pooled-content"
        properties["sakai:pooled-content-file-name"] = .string(item.name)
        properties["sakai:description"] = .string(item.description)
        properties["sakai:permissions"] = .string(permissions)
        properties["sakai:pool-content-created-for"] = item.createdBy.map(JSONValue.string) ?? .null
        properties["sakai:pooled-content-manager"] = .array(record.principals(.manager).map(JSONValue.string))
        properties["sakai:pooled-content-editor"] = .array(record.principals(.editor).map(JSONValue.string))
        properties["sakai:pooled-content-viewer"] = .array(viewers.map(JSONValue.string))
        properties["sakai:tags"] = .array(record.tags.map(JSONValue.string))
        properties["_mimeType"] = .string(item.mimeType)
        properties["_length"] = .int(item.length)
        properties["_created"] = .int(item.createdAt)
        properties["_createdBy"] = item.createdBy.map(JSONValue.string) ?? .null
        properties["_lastModified"] = .int(item.lastModifiedAt)
        properties["_lastModifiedBy"] = record.lastModifiedBy.map(JSONValue.string) ?? .null
        properties["_bodyLastModified"] = .int(record.bodyLastModifiedAt)
        properties["commentCount"] = .int(Int64(record.commentCount))
        if properties["sakai:needsprocessing"] == nil { properties["sakai:needsprocessing"] = "false" }
        return properties
    }

    /// How far the item's text has got: `pending` until its blob is extracted, then `done`
    /// with the outcome (`indexed`, `empty-text`, `encrypted`, …), the page count and whether
    /// the text was cut. An item without a body has none.
    private func extractionState(of record: ItemRecord) async throws -> JSONValue {
        guard let blob = record.item.blobID, let index = extraction?.workers.index else { return .null }
        guard let stored = try await index.extraction(of: blob) else { return ["state": "pending"] }
        return [
            "state": "done", "outcome": .string(stored.outcome.rawValue), "pageCount": .int(Int64(stored.pageCount)),
            "truncated": .bool(stored.truncated),
        ]
    }

    // MARK: - Bodies

    /// The item's current body: `ETag` from the blob, `If-None-Match` and `If-Modified-Since`
    /// give 304, one `Range` gives 206 (or 416). HTML and SVG are sent as attachments, so
    /// that an upload never runs as a page of this site.
    private func download(_ record: ItemRecord, _ call: Call) throws -> Reply {
        guard let blob = record.item.blobID else { throw HTTPFailure.notFound("This item has no file") }
        let length = record.item.length
        let etag = "\"\(String(blob.description.suffix(64).prefix(32)))\""
        let lastModified = HTTPDate.format(milliseconds: record.bodyLastModifiedAt)
        var headers: [(String, String)] = [
            ("ETag", etag), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"),
            ("Cache-Control", "private, no-cache"),
        ]
        if call.headers[.ifNoneMatch] != nil {
            if Reply.matches(ifNoneMatch: call.headers[.ifNoneMatch], etag: etag) {
                return Reply(status: .notModified, headers: headers)
            }
        } else if let since = call.headers[.ifModifiedSince].flatMap(HTTPDate.parse),
            record.bodyLastModifiedAt / 1000 <= since
        {
            return Reply(status: .notModified, headers: headers)
        }
        let type = record.item.mimeType
        headers.append(("Content-Type", type.hasPrefix("text/") ? "\(type); charset=utf-8" : type))
        if ["text/html", "image/svg+xml", "application/xhtml+xml", "application/xml"].contains(type) {
            headers.append(("Content-Disposition", "attachment; filename*=UTF-8''\(Self.percentEncoded(record.item.name))"))
        }
        let path = site.blobs.path(for: blob)
        guard let range = call.headers[.range] else {
            return Reply(status: .ok, headers: headers, file: FileBody(path: path, offset: 0, length: length))
        }
        switch ByteRange.parse(range, length: length) {
        case .whole:
            return Reply(status: .ok, headers: headers, file: FileBody(path: path, offset: 0, length: length))
        case .unsatisfiable:
            headers.append(("Content-Range", "bytes */\(length)"))
            return Reply(status: .rangeNotSatisfiable, headers: headers)
        case .part(let offset, let count):
            headers.append(("Content-Range", "bytes \(offset)-\(offset + count - 1)/\(length)"))
            return Reply(status: .partialContent, headers: headers, file: FileBody(path: path, offset: offset, length: count))
        }
    }

    static func percentEncoded(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "download"
    }

    // MARK: - Members and visibility

    /// `GET /p/ID.members.json`: managers, editors and viewers, each as a principal's basic
    /// information; `everyone` and `anonymous` appear among the viewers as the visibility
    /// allows.
    private func members(_ record: ItemRecord, detailed: Bool) async throws -> Reply {
        var answer: [String: JSONValue] = [:]
        for (key, role) in [("managers", ContentRole.manager), ("editors", .editor), ("viewers", .viewer)] {
            var entries: [JSONValue] = []
            for id in record.principals(role) {
                entries.append(try await principalEntry(id))
            }
            if role == .viewer {
                if record.item.visibility != .private {
                    entries.append(["groupid": "everyone", "sakai:group-id": "everyone", "basic": ["elements": [:], "access": "everybody"]])
                }
                if record.item.visibility == .public {
                    entries.append(["rep:userId": "anonymous", "userid": "anonymous", "basic": ["elements": [:], "access": "everybody"]])
                }
            }
            answer[key] = .array(entries)
        }
        return .json(.object(answer))
    }

    /// A principal as a members list shows it; one that no longer exists is just its id.
    func principalEntry(_ id: String) async throws -> JSONValue {
        if let user = try await metadata.user(id: id) {
            var info = basicInfo(of: user, counts: try await metadata.accountCounts(ofUser: id), showPrivate: false)
            info["homePath"] = .string("/~\(id)")
            return .object(info)
        }
        if let group = try await metadata.groups(ids: [id]).first { return .object(groupInfo(group)) }
        return ["userid": .string(id)]
    }

    /// `POST /p/ID.members.json`: `:manager`, `:editor`, `:viewer` and their `@Delete` forms.
    /// `everyone` and `anonymous` as viewers set the visibility. Sharing is the managers'
    /// (contract correction 15): anyone else gives no one access they lacked. A non-manager
    /// may add a viewer only where that viewer can read the item already (themself, or
    /// anyone when the item is public or for signed-in users, which puts it in their
    /// library), and may remove only themself or a group they manage. Anything else is 403,
    /// and then nothing changes.
    private func changeMembers(_ record: ItemRecord, access: ItemAccess, _ call: Call) async throws -> Reply {
        var add: [ContentGrant] = []
        var remove: [ContentGrant] = []
        var visibility = record.item.visibility
        for role in ContentRole.allCases {
            for id in call.parameters.all(":\(role.rawValue)") where !id.isEmpty {
                if id == "everyone" || id == "anonymous" {
                    guard access.manage else { throw HTTPFailure.forbidden("Only a manager may change who can read this item") }
                    visibility = id == "anonymous" ? .public : (visibility == .public ? .public : .loggedIn)
                    continue
                }
                if !access.manage {
                    guard role == .viewer else { throw HTTPFailure.forbidden("Only a manager may add managers or editors") }
                    guard id == call.viewer.userID || record.item.visibility != .private else {
                        throw HTTPFailure.forbidden("Only a manager may share this item with others")
                    }
                }
                add.append(ContentGrant(principalID: id, role: role))
            }
            for id in call.parameters.all(":\(role.rawValue)@Delete") where !id.isEmpty {
                if id == "everyone" || id == "anonymous" {
                    guard access.manage else { throw HTTPFailure.forbidden("Only a manager may change who can read this item") }
                    visibility = id == "everyone" ? .private : (visibility == .public ? .loggedIn : visibility)
                    continue
                }
                if !access.manage, id != call.viewer.userID, !call.viewer.managedGroups.contains(id) {
                    throw HTTPFailure.forbidden("You may only remove yourself or groups you manage")
                }
                remove.append(ContentGrant(principalID: id, role: role))
            }
        }
        if visibility != record.item.visibility {
            try await metadata.updateItem(id: record.item.id, ItemChange(visibility: visibility), by: call.viewer.userID)
        }
        if !add.isEmpty || !remove.isEmpty {
            do {
                try await metadata.changeGrants(itemID: record.item.id, add: add, remove: remove, by: call.viewer.userID)
            } catch RepositoryError.notFound(kind: "principal", let id) {
                throw HTTPFailure.badRequest("there is no user or group '\(id)'")
            }
        }
        return Reply(status: .ok)
    }

    /// `GET /p/ID.acl.json` (managers only): every principal with an entry, with Nakamura's
    /// privilege names. An editor has Read and Write; a manager may also read and change the
    /// access list and manage the item; `everyone` and `anonymous` follow the visibility; a
    /// principal whose role was taken away stays with nothing granted (`former`).
    private func accessList(_ record: ItemRecord, former: [String]) -> JSONValue {
        let privileges: [ContentRole: [String]] = [
            .viewer: ["Read"], .editor: ["Read", "Write"],
            .manager: ["Read", "Write", "Delete", "Read ACL", "Write ACL", "Delete ACL", "Manage"],
        ]
        var granted: [String: Set<String>] = [:]
        for role in ContentRole.allCases {
            for id in record.principals(role) { granted[id, default: []].formUnion(privileges[role] ?? []) }
        }
        func entry(_ id: String, granted: [String], denied: [String]) -> JSONValue {
            ["principal": .string(id), "granted": .array(granted.map(JSONValue.string)), "denied": .array(denied.map(JSONValue.string))]
        }
        let order = ["Read", "Write", "Delete", "Read ACL", "Write ACL", "Delete ACL", "Manage"]
        var answer: [String: JSONValue] = [:]
        for id in former { answer[id] = entry(id, granted: [], denied: []) }
        for (id, held) in granted {
            answer[id] = entry(id, granted: order.filter(held.contains), denied: [])
        }
        let visibility = record.item.visibility
        answer["everyone"] = visibility == .private ? entry("everyone", granted: [], denied: ["Read"]) : entry("everyone", granted: ["Read"], denied: [])
        answer["anonymous"] = visibility == .public ? entry("anonymous", granted: ["Read"], denied: []) : entry("anonymous", granted: [], denied: ["Read"])
        return .object(answer)
    }

    /// `POST /p/ID.modifyAce.html`: `principalId` of `everyone` or `anonymous` with
    /// `privilege@jcr:read=granted|denied` sets the item's visibility, so that the members
    /// arrays and the access rules never disagree.
    private func modifyItemAccess(_ record: ItemRecord, _ call: Call) async throws -> Reply {
        guard let privilege = call.parameters["privilege@jcr:read"], ["granted", "denied"].contains(privilege) else {
            throw HTTPFailure.badRequest("privilege@jcr:read must be granted or denied")
        }
        let granted = privilege == "granted"
        var visibility = record.item.visibility
        for principal in call.parameters.all("principalId") {
            switch (principal, granted) {
            case ("anonymous", true): visibility = .public
            case ("anonymous", false): if visibility == .public { visibility = .loggedIn }
            case ("everyone", true): if visibility == .private { visibility = .loggedIn }
            case ("everyone", false): visibility = .private
            default:
                throw HTTPFailure.badRequest("an item's read access is set for everyone or anonymous; share with others through .members")
            }
        }
        if visibility != record.item.visibility {
            try await metadata.updateItem(id: record.item.id, ItemChange(visibility: visibility), by: call.viewer.userID)
        }
        return .status(.ok, path: "/p/\(record.item.id)", for: call)
    }

    // MARK: - Versions and comments

    /// Versions (contract §2.6): the snapshots `.save.json` made. `/p/ID/.versions.json`
    /// lists them (`items`, `page`), keyed `1.0` (the first) to `1.N` (the newest); `/p/ID.version.,1.N,.json` reads one's saved
    /// properties and `/p/ID.version.,1.N,/<file name>` downloads its body.
    private func versions(_ record: ItemRecord, tail: String, _ call: Call) async throws -> Reply {
        // The saved versions: every one before the working copy (the current version).
        let versions = try await metadata.versions(ofItem: record.item.id).filter { $0.number < record.item.currentVersion }
        var savers: [String: JSONValue] = [:]
        func describe(_ version: ItemVersion) async throws -> [String: JSONValue] {
            var properties = version.properties
            let key = "1.\(version.number - 1)"
            properties["versionId"] = .string(key)
            properties["_path"] = .string(record.item.id)
            properties["_versionNumber"] = .int(version.savedAt)
            properties["_created"] = .int(version.savedAt)
            properties["_mimeType"] = .string(version.mimeType)
            properties["_length"] = .int(version.length)
            properties["sakai:pooled-content-file-name"] = .string(version.fileName)
            properties["_lastModifiedBy"] = version.savedBy.map(JSONValue.string) ?? .null
            if let saver = version.savedBy {
                if savers[saver] == nil { savers[saver] = try await principalEntry(saver) }
                properties["_savedBy"] = savers[saver]
            }
            return properties
        }
        if !tail.hasPrefix(".version.,") {
            let (pageSize, offset) = try Self.paging(call.parameters)
            var listed: [String: JSONValue] = [:]
            for version in versions.dropFirst(min(versions.count, offset)).prefix(pageSize) {
                listed["1.\(version.number - 1)"] = .object(try await describe(version))
            }
            return .json([
                "path": .string(record.item.id), "items": .int(Int64(listed.count)), "total": .int(Int64(versions.count)),
                "versions": .object(listed),
            ])
        }
        // `.version.,1.N,` then `.json` or `/<file name>`; or `.version.,1.N` alone, the body.
        let spec = tail.dropFirst(".version.,".count)
        let close = spec.firstIndex(of: ",") ?? spec.endIndex
        let key = spec[..<close]
        let rest = close == spec.endIndex ? "/"[...] : spec[spec.index(after: close)...]
        guard key.hasPrefix("1."), let minor = Int(key.dropFirst(2)) else { throw HTTPFailure.notFound("No such version") }
        guard let version = versions.first(where: { $0.number == minor + 1 }) else {
            throw HTTPFailure.badRequest("There is no version \(key); the versions are 1.0 to 1.\(max(0, versions.count - 1))")
        }
        if rest.hasPrefix("/") {
            guard rest.dropFirst() == version.fileName || rest == "/" else { throw HTTPFailure.notFound() }
            var old = record
            old.item.blobID = version.blobID
            old.item.length = version.length
            old.item.mimeType = version.mimeType
            old.item.name = version.fileName
            old.bodyLastModifiedAt = version.savedAt
            return try download(old, call)
        }
        guard rest.hasSuffix("json") else { throw HTTPFailure.notFound() }
        return .json(.object(try await describe(version)))
    }

    /// `POST /p/ID.save.json`: saves the working copy (its body and current properties) as a
    /// version, the only way a version is made, and answers the properties with the saved
    /// version's name.
    private func saveVersion(_ record: ItemRecord, _ call: Call) async throws -> Reply {
        let properties = itemProperties(record, withPages: true)
        let saved = try await metadata.saveVersion(
            itemID: record.item.id, properties: JSONValue.object(properties).serialized, by: call.viewer.userID)
        var answer = properties
        answer["versionName"] = .string("1.\(saved - 1)")
        return .json(.object(answer))
    }

    /// `GET /p/ID.comments`: every comment with its author's basic information.
    private func comments(_ record: ItemRecord) async throws -> Reply {
        var entries: [JSONValue] = []
        for comment in try await metadata.comments(onItem: record.item.id) {
            var entry: [String: JSONValue] = ["userid": comment.authorID.map(JSONValue.string) ?? .null]
            if let author = comment.authorID, case .object(let info) = try await principalEntry(author) {
                entry.merge(info) { old, _ in old }
            }
            entry["comment"] = .string(comment.body)
            entry["commentId"] = .string("\(record.item.id)/comments/\(comment.id)")
            entry["_created"] = .int(comment.createdAt)
            entries.append(.object(entry))
        }
        return .json(["comments": .array(entries)])
    }
}

extension OakenService {
    /// `POST /p/ID.comments` with `comment` adds a comment (201, `{"commentId":…}` as text),
    /// or with `commentId` too edits that one; `DELETE /p/ID.comments?commentId=…` removes
    /// one (204). Anyone who may read the item may comment, unless its managers closed
    /// comments (`sakai:allowcomments=false`); only a comment's author and the item's managers
    /// may edit or delete it.
    fileprivate func changeComments(_ record: ItemRecord, access: ItemAccess, _ call: Call) async throws -> Reply {
        guard let user = call.viewer.user else { throw HTTPFailure.badRequest("Anonymous users may not comment") }
        let itemID = record.item.id
        var existing: ItemComment?
        if let given = call.parameters["commentId"] {
            let tail = given.split(separator: "/").last.map(String.init) ?? ""
            guard let id = Int64(tail), let comment = try await metadata.comment(id, onItem: itemID) else {
                throw HTTPFailure.notFound("No such comment")
            }
            guard access.manage || comment.authorID == user.id else {
                throw HTTPFailure.forbidden("Only the comment's author or the item's managers may change it")
            }
            existing = comment
        }
        if call.method == .delete {
            guard let comment = existing else { throw HTTPFailure.badRequest("commentId is required") }
            try await metadata.deleteComment(comment.id)
            return Reply(status: .noContent)
        }
        guard let text = call.parameters["comment"] else { throw HTTPFailure.badRequest("comment is required") }
        if let comment = existing {
            try await metadata.editComment(comment.id, body: text)
            return .json(["commentId": .string("\(itemID)/comments/\(comment.id)")])
        }
        guard access.manage || record.properties["sakai:allowcomments"]?.stringValue != "false" else {
            throw HTTPFailure.forbidden("Comments are closed on this item")
        }
        let id = try await metadata.addComment(onItem: itemID, by: user.id, body: text)
        var reply = Reply.json(["commentId": .string("\(itemID)/comments/\(id)")], status: .created)
        reply.headers = [("Content-Type", "text/plain; charset=utf-8")]
        return reply
    }
}

extension OakenService {
    /// `POST /p/ID.resource.html` (contract correction 12): a child resource of the item,
    /// kept at `/p/ID/<resourceId>`. A multipart body's first file part is its body (201
    /// `{"<file name>":{"resourceId","item"}}`); form fields make one of fields only (201
    /// `{"_contentItem":{"resourceId","item"}}`).
    fileprivate func addResource(to record: ItemRecord, _ call: Call) async throws -> Reply {
        let itemID = record.item.id
        let actor = call.viewer.userID
        if let upload = call.upload {
            guard let boundary = MultipartParser.boundary(ofContentType: upload.contentType) else {
                throw HTTPFailure.badRequest("the multipart body has no usable boundary")
            }
            var answer: [String: JSONValue] = [:]
            try await receiveFiles(upload, boundary: boundary, limit: options.maximumUploadSize) { name, staged in
                guard answer.isEmpty else {
                    site.blobs.discard(staged)
                    return
                }
                let resource = try await metadata.addResource(
                    toItem: itemID, body: staged, mimeType: MediaTypeSniffer.mediaType(of: staged.head), fileName: name,
                    properties: [:], by: actor, blobs: site.blobs)
                answer[name] = ["resourceId": .string(resource.id), "item": .object(Self.resourceProperties(resource))]
            }
            guard !answer.isEmpty else { throw HTTPFailure.badRequest("the upload holds no file part") }
            return .json(.object(answer), status: .created)
        }
        var properties: [String: JSONValue] = [:]
        for name in call.parameters.names where Self.isStorableParameter(name) {
            let values = call.parameters.all(name)
            properties[name] = values.count > 1 ? .array(values.map(JSONValue.string)) : .string(values.first ?? "")
        }
        let resource = try await metadata.addResource(
            toItem: itemID, body: nil, mimeType: call.parameters["mimeType"] ?? "application/octet-stream",
            fileName: call.parameters["sakai:pooled-content-file-name"] ?? "", properties: properties, by: actor,
            blobs: site.blobs)
        return .json(["_contentItem": ["resourceId": .string(resource.id), "item": .object(Self.resourceProperties(resource))]], status: .created)
    }

    /// A resource as the API shows it: its fields, with its path, media type and length.
    static func resourceProperties(_ resource: ItemResource) -> [String: JSONValue] {
        var properties = resource.properties
        properties["_path"] = .string("\(resource.itemID)/\(resource.id)")
        properties["_mimeType"] = .string(resource.mimeType)
        properties["_length"] = .int(resource.length)
        properties["_created"] = .int(resource.createdAt)
        properties["_createdBy"] = resource.createdBy.map(JSONValue.string) ?? .null
        properties["sakai:pooled-content-file-name"] = .string(resource.fileName)
        return properties
    }

    /// The resource at `/p/ID/<path>`: `<resourceId>` itself, or a path through one of the
    /// item's `structureN` properties (`N/a/file.txt` with `structureN` =
    /// `{"a":{"file.txt":{"_ref":"<resourceId>"}}}`). `nil` when the path names none.
    fileprivate func resource(at path: String, of record: ItemRecord) async throws -> ItemResource? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !segments.contains(where: \.isEmpty) else { return nil }
        if segments.count == 1 { return try await metadata.resource(ofItem: record.item.id, id: segments[0]) }
        guard Int(segments[0]) != nil, let structure = record.properties["structure\(segments[0])"] else { return nil }
        var node: JSONValue? = structure
        if case .string(let text)? = node { node = try? JSONValue.parseLeniently(text) }
        for segment in segments.dropFirst() { node = node?.objectValue?[segment] }
        guard let reference = node?.objectValue?["_ref"]?.stringValue, !reference.isEmpty else { return nil }
        return try await metadata.resource(ofItem: record.item.id, id: reference)
    }

    /// A resource's body, streamed as an item's is (ranges, validators), or its fields.
    fileprivate func resourceReply(_ resource: ItemResource, record: ItemRecord, _ call: Call) throws -> Reply {
        guard let blob = resource.blobID else { return .json(.object(Self.resourceProperties(resource))) }
        var body = record
        body.item.blobID = blob
        body.item.length = resource.length
        body.item.mimeType = resource.mimeType
        body.item.name = resource.fileName
        body.bodyLastModifiedAt = resource.createdAt
        return try download(body, call)
    }
}

/// What a `Range` header asks of a body of known length. Only single ranges are served;
/// anything else gets the whole body, as RFC 9110 allows.
enum ByteRange: Equatable {
    case whole
    case part(offset: Int64, count: Int64)
    case unsatisfiable

    static func parse(_ header: String, length: Int64) -> ByteRange {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes="), !value.contains(",") else { return .whole }
        let spec = value.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0 else { return suffixIsZero(last) ? .unsatisfiable : .whole }
            guard length > 0 else { return .unsatisfiable }
            let count = min(suffix, length)
            return .part(offset: length - count, count: count)
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        guard start < length else { return .unsatisfiable }
        var end = length - 1
        if !last.isEmpty {
            guard let requested = Int64(last), requested >= start else { return .whole }
            end = min(requested, length - 1)
        }
        return .part(offset: start, count: end - start + 1)
    }

    private static func suffixIsZero(_ text: String) -> Bool { Int64(text) == 0 }
}

/// HTTP dates (RFC 9110 IMF-fixdate).
enum HTTPDate {
    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
    private static let lock = NSLock()

    static func format(milliseconds: Int64) -> String {
        lock.withLock { formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)) }
    }

    /// Seconds since 1970, or `nil`.
    static func parse(_ text: String) -> Int64? {
        lock.withLock { formatter.date(from: text) }.map { Int64($0.timeIntervalSince1970) }
    }
}
