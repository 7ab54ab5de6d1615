import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaStore

/// An RFC 9457 problem: every error the API returns has this shape.
struct Problem: Error, Codable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    var instance: String?
    /// Where in the input the problem is (field, line, offset), when it is in the input.
    var location: String?

    init(_ status: HTTPResponse.Status, _ detail: String?, location: String? = nil, type: ProblemType? = nil) {
        self.status = Int(status.code)
        self.title = status.reasonPhrase
        self.detail = detail
        self.location = location
        self.type = (type ?? ProblemType(status: Int(status.code))).uri
    }

    var kind: ProblemType? { ProblemType.allCases.first { $0.uri == type } }

    static let unauthenticated = Problem(
        .unauthorized, "Sign in, or send an API token (Authorization: Bearer qila_...) or a client certificate.",
        type: .unauthenticated)

    /// Maps any error to a problem, keeping internals (SQL, stack traces) out of the answer.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as QilaError:
            let status: HTTPResponse.Status =
                switch error.code {
                case .invalidInput: .badRequest
                case .notFound: .notFound
                case .conflict: .conflict
                case .unauthenticated: .unauthorized
                case .forbidden: .forbidden
                case .throttled: .tooManyRequests
                case .unavailable: .serviceUnavailable
                default: .internalServerError
                }
            return Problem(status, error.message, location: error.location)
        case let refusal as PasswordPolicy.Refusal:
            return Problem(.badRequest, refusal.description, location: "field password", type: .weakPassword)
        case let error as HTTPError:
            return Problem(error.status, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, "the body is larger than this endpoint accepts")
        case is DecodingError:
            return Problem(.badRequest, describe(error as! DecodingError), type: .invalidInput)
        case let error as StoreError where error.code == .unavailable:
            return Problem(.serviceUnavailable, "the database is unavailable; try again shortly")
        default:
            return Problem(.internalServerError, "an internal error occurred; it has been logged")
        }
    }

    /// What is wrong with a body, in the terms of JSON and the API's own field names: never a
    /// Swift type or coding key.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
            return text.isEmpty ? "the body" : "field \(text)"
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) should be \(jsonKind(type))"
        case .valueNotFound(_, let context): return "\(path(context)) is missing a value"
        case .keyNotFound(let key, let context): return "\(path(context)) lacks the required field '\(key.stringValue)'"
        case .dataCorrupted(let context):
            // The generated decoders say "… from invalid String value X" for a value outside an enum.
            if let range = context.debugDescription.range(of: "invalid String value ") {
                let value = context.debugDescription[range.upperBound...].trimmingCharacters(in: .whitespaces)
                return "\(path(context)): '\(value.prefix(60))' is not one of the values it allows (see openapi.yaml)"
            }
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context)) is not valid"
        @unknown default: return "the body could not be read"
        }
    }

    /// A JSON type's name for the Swift type a decoder wanted.
    static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") || String(describing: type).hasPrefix("[")
                ? "a list" : String(describing: type).hasPrefix("Dictionary") ? "an object" : "an object or value of another shape"
        }
    }

    func response() -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"qila\"" }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
    }
}
