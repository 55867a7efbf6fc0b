import Foundation
import HTTPTypes
import Hummingbird
import Indexer
import Repository

/// Who is asking: anonymous, or a user with the principals they act as.
package struct Viewer: Sendable {
    package var user: User?
    /// The user's own id and every group they belong to, transitively.
    package var principals: Set<String>
    /// The groups the user manages, from the data model (see `Membership`).
    package var managedGroups: Set<String>
    package var isAdministrator: Bool

    package init(user: User?, membership: Membership, isAdministrator: Bool) {
        self.user = user
        principals = membership.principals
        managedGroups = membership.managedGroups
        self.isAdministrator = isAdministrator
    }

    package static let anonymous = Viewer(user: nil, membership: Membership(principals: []), isAdministrator: false)

    package var userID: String? { user?.id }
    package var isAnonymous: Bool { user == nil }

    /// The viewer as the one item rule (`ItemAccessRule`) sees them.
    package var itemRule: ItemAccessRule {
        ItemAccessRule(isLoggedIn: !isAnonymous, isAdministrator: isAdministrator)
    }

    /// The viewer as the node store decides what it may read and write.
    package var nodeRule: NodeAccessRule {
        NodeAccessRule(userID: userID, principals: principals, managedGroups: managedGroups, isAdministrator: isAdministrator)
    }

    /// The viewer as the search index decides what it may read.
    package var searchViewer: Indexer.Viewer {
        Indexer.Viewer(principalIDs: principals, isLoggedIn: !isAnonymous, isAdministrator: isAdministrator)
    }

    /// The viewer as the directory decides which groups it may see.
    package var directoryViewer: DirectoryViewer {
        DirectoryViewer(principals: principals, managedGroups: managedGroups, isLoggedIn: !isAnonymous, isAdministrator: isAdministrator)
    }
}

/// One request as the handlers see it: the same for a request from the network and for one
/// inside a batch.
package struct Call: Sendable {
    package var method: HTTPRequest.Method
    /// The decoded path, without the query.
    package var path: String
    /// Query parameters, then form parameters.
    package var parameters: Parameters
    package var headers: HTTPFields
    package var viewer: Viewer
    /// A multipart or other raw body that was not parsed into `parameters`.
    package var body: [UInt8]?
    /// An upload's body, still arriving: streamed into the blob store, never held whole.
    package var upload: Upload?
    /// Set when the call runs inside `/system/batch`.
    package var isInner = false
    /// Whether the client reached the site over HTTPS (directly, or through a trusted proxy).
    package var isSecure = false

    package var isSafe: Bool { method == .get || method == .head }

    /// Whether the client prefers a JSON answer (Sling answers writes with HTML otherwise).
    package var prefersJSON: Bool {
        guard let accept = headers[.accept] else { return false }
        return accept.contains("application/json") || accept.contains("text/javascript")
    }
}

/// A request body that is read as it arrives, with its content type.
package struct Upload: Sendable {
    package var contentType: String
    package var body: RequestBody
}

/// A range of a file on disk, sent as a response body without loading it.
package struct FileBody: Sendable, Equatable {
    package var path: String
    package var offset: Int64
    package var length: Int64
}

/// What a handler answers.
package struct Reply: Sendable {
    package var status: HTTPResponse.Status
    package var headers: [(String, String)]
    package var body: [UInt8]
    /// A file to stream instead of `body`.
    package var file: FileBody?

    package init(status: HTTPResponse.Status = .ok, headers: [(String, String)] = [], body: [UInt8] = [], file: FileBody? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.file = file
    }

    package static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(value.serialized.utf8))
    }

    package static func text(_ text: String, status: HTTPResponse.Status = .ok, type: String = "text/plain; charset=utf-8") -> Reply {
        Reply(status: status, headers: [("Content-Type", type)], body: Array(text.utf8))
    }

    /// Sling's answer to a write: a small HTML status page, or its JSON form when preferred.
    /// A 201 carries the new resource's `Location`, as Sling's does.
    package static func status(_ status: HTTPResponse.Status, path: String, for call: Call, message: String = "OK") -> Reply {
        var reply: Reply
        if call.prefersJSON {
            reply = .json(["status.code": .int(Int64(status.code)), "status.message": .string(message), "path": .string(path)], status: status)
        } else {
            reply = .text(htmlPage(title: "\(status.code) \(message)", message: path), status: status, type: "text/html; charset=utf-8")
        }
        if status == .created { reply.headers.append(("Location", path)) }
        return reply
    }

    /// The HTML page of an error, with the message escaped.
    package static func failure(_ failure: HTTPFailure, for call: Call?) -> Reply {
        var reply: Reply
        if call?.prefersJSON == true || call?.path.hasSuffix(".json") == true {
            reply = .json(["status.code": .int(Int64(failure.status.code)), "status.message": .string(failure.message)], status: failure.status)
        } else {
            reply = .text(
                htmlPage(title: "\(failure.status.code) \(failure.status.reasonPhrase)", message: failure.message),
                status: failure.status, type: "text/html; charset=utf-8")
        }
        reply.headers += failure.headers
        return reply
    }

    /// Whether an `If-None-Match` header names `etag` (or is `*`): the client's copy is current.
    package static func matches(ifNoneMatch header: String?, etag: String) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == etag || tag == "*"
        }
    }

    package var contentType: String? {
        headers.first { $0.0.lowercased() == "content-type" }?.1
    }

    static func htmlPage(title: String, message: String) -> String {
        "<!DOCTYPE html><html><head><title>\(HTML.escape(title))</title></head><body><h1>\(HTML.escape(title))</h1><p>\(HTML.escape(message))</p></body></html>\n"
    }
}
