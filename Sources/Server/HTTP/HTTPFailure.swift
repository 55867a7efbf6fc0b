import HTTPTypes
import Repository

/// A failure the client sees as a 4xx (or, for the server's own faults, 5xx) status with a
/// message. Every domain error becomes one of these in `init(_:)`, the one place that maps
/// errors to statuses.
package struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    package var status: HTTPResponse.Status
    package var message: String
    package var headers: [(String, String)] = []

    package init(_ status: HTTPResponse.Status, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    package var description: String { "\(status.code) \(message)" }

    package static func badRequest(_ message: String) -> HTTPFailure { HTTPFailure(.badRequest, message) }
    package static func notFound(_ message: String = "Not found") -> HTTPFailure { HTTPFailure(.notFound, message) }
    package static func forbidden(_ message: String) -> HTTPFailure { HTTPFailure(.forbidden, message) }
    package static func methodNotAllowed(_ message: String) -> HTTPFailure { HTTPFailure(.methodNotAllowed, message) }
    package static func tooLarge(_ limit: Int) -> HTTPFailure {
        HTTPFailure(.contentTooLarge, "the request body is larger than the limit of \(limit) bytes here")
    }

    /// The same failure, asking the client to close the connection: sent when a request is
    /// refused before its body was read, so that a client stops sending what nobody reads.
    package func closing() -> HTTPFailure {
        var failure = self
        failure.headers.append(("Connection", "close"))
        return failure
    }

    /// The status and message for any error a handler throws.
    package init(_ error: any Error) {
        switch error {
        case let failure as HTTPFailure:
            self = failure
        case let error as RepositoryError:
            switch error {
            case .notFound: self.init(.notFound, "Not found")
            case .conflict(let message): self.init(.conflict, message)
            case .invalid(let field, let reason): self.init(.badRequest, "\(field) \(reason)")
            case .denied(let what): self.init(.forbidden, "You may not change \(what)")
            case .busy: self.init(.serviceUnavailable, "The server is busy; try again shortly", headers: [("Retry-After", "1")])
            case .tooLarge(let limit): self.init(.contentTooLarge, "the upload is larger than the limit of \(limit) bytes")
            case .integrity, .storage: self.init(.internalServerError, "The server could not complete the request")
            }
        default:
            self.init(.internalServerError, "The server could not complete the request")
        }
    }
}
