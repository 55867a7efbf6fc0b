import Foundation
import HTTPTypes
import Repository

extension OakenService {
    /// The bytes of a file range.
    private static func read(_ file: FileBody) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file.path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(file.offset))
        return Array(try handle.read(upToCount: Int(file.length)) ?? Data())
    }

    /// `/system/batch`: runs each inner request with the caller's identity, in order, and
    /// answers every inner status inside a 200. A GET batch runs only inner GETs; an
    /// anonymous caller may batch nothing but GETs.
    func batch(_ call: Call, address: String) async throws -> Reply {
        guard call.method == .get || call.method == .post else {
            throw HTTPFailure.methodNotAllowed("a batch is sent with GET or POST")
        }
        guard !call.isInner else { throw HTTPFailure.badRequest("a batch cannot hold another batch") }
        guard let text = call.parameters["requests"] else { throw HTTPFailure.badRequest("requests is required") }
        guard case .array(let requests) = try JSONValue.parseLeniently(text, field: "requests") else {
            throw HTTPFailure.badRequest("requests must be a JSON array")
        }
        let limits = options.batchLimits
        let most = call.viewer.isAnonymous ? limits.anonymousRequests : limits.requests
        guard requests.count <= most else {
            throw HTTPFailure.badRequest("a batch holds at most \(most) requests")
        }
        var inner: [Result<Call, HTTPFailure>] = []
        for request in requests {
            inner.append(Result { try innerCall(request, outer: call) }.mapError { HTTPFailure($0) })
        }
        if call.viewer.isAnonymous, inner.contains(where: { (try? $0.get())?.isSafe == false }) {
            throw HTTPFailure.methodNotAllowed("Anon users may not perform POST operations")
        }
        // The reply is written as it goes, each result once: what it adds counts against the
        // budget, and a result that would pass it is taken back and answered 413.
        var out = Array(#"{"results":["#.utf8)
        let budgetEnd = out.count + limits.replyBytes
        func refused(_ url: String, _ status: HTTPResponse.Status) -> JSONValue {
            ["url": .string(url), "success": false, "status": .int(Int64(status.code))]
        }
        // Once one result has not fitted, the rest are not run.
        var exhausted = false
        for (index, each) in inner.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let url = requests[index].objectValue?["url"]?.stringValue ?? ""
            let budget = budgetEnd - out.count
            switch each {
            case .failure(let failure):
                refused(url, failure.status).write(to: &out)
            case .success(let innerCall):
                guard budget > 0, !exhausted else {
                    refused(url, .contentTooLarge).write(to: &out)
                    continue
                }
                var reply: Reply
                if !innerCall.isSafe && call.method == .get {
                    reply = .failure(.methodNotAllowed("a GET batch runs only GET requests"), for: innerCall)
                } else {
                    reply = await respond(to: innerCall, address: address)
                }
                // A download is streamed from disk on its own; inside a batch its bytes must
                // be read into the answer, within a bound.
                if let file = reply.file {
                    if file.length > Int64(min(limits.innerDownload, budget)) {
                        reply = .failure(HTTPFailure(
                            .contentTooLarge, "a download inside this batch is limited to \(min(limits.innerDownload, budget)) bytes"),
                            for: innerCall)
                    } else {
                        reply.body = (try? Self.read(file)) ?? []
                        reply.file = nil
                    }
                }
                var headers: [String: JSONValue] = [:]
                for (name, value) in reply.headers where name.lowercased() != "set-cookie" { headers[name] = .string(value) }
                let start = out.count
                JSONValue.object([
                    "url": .string(url), "success": true, "status": .int(Int64(reply.status.code)),
                    "headers": .object(headers), "body": .string(String(decoding: reply.body, as: UTF8.self)),
                ]).write(to: &out)
                if out.count > budgetEnd {
                    out.removeSubrange(start...)
                    refused(url, .contentTooLarge).write(to: &out)
                    exhausted = true
                }
            }
        }
        out.append(contentsOf: "]}".utf8)
        return Reply(status: .ok, headers: [("Content-Type", "application/json; charset=utf-8")], body: out)
    }

    /// One element of `requests` as a call: `url` (with its query), `method` (GET when
    /// missing) and `parameters` (arrays become repeated parameters).
    private func innerCall(_ request: JSONValue, outer: Call) throws -> Call {
        guard let object = request.objectValue, var url = object["url"]?.stringValue, !url.isEmpty else {
            throw HTTPFailure.badRequest("each request needs a url")
        }
        if !url.hasPrefix("/") { url = "/" + url }
        let method = HTTPRequest.Method(object["method"]?.stringValue?.uppercased() ?? "GET") ?? .get
        var parameters = Parameters()
        let pathPart: Substring
        if let question = url.firstIndex(of: "?") {
            pathPart = url[..<question]
            parameters = try Parameters.parseForm(url[url.index(after: question)...])
        } else {
            pathPart = url[...]
        }
        if let given = object["parameters"]?.objectValue {
            for name in given.keys.sorted() {
                switch given[name]! {
                case .array(let values):
                    for value in values { if let text = value.stringValue { parameters.append(name, text) } }
                case let value:
                    if let text = value.stringValue { parameters.append(name, text) }
                }
            }
        }
        var headers = outer.headers
        headers[.accept] = nil
        return Call(
            method: method, path: try decodePath(pathPart), parameters: parameters, headers: headers, viewer: outer.viewer,
            body: nil, isInner: true)
    }
}
