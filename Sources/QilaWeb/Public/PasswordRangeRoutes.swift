import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaPublic

/// The k-anonymity password range API, `/api/v1/public/passwords/range/{prefix}`, as Have I Been
/// Pwned's Pwned Passwords answers it: `SUFFIX:COUNT` lines ending in CRLF, padded with count-0
/// lines when `Add-Padding: true` is sent. No sign-in, nothing recorded of what was asked.
struct PasswordRangeRoutes: Sendable {
    let range: PasswordRange

    func register(on router: Router<QilaRequestContext>) {
        router.get("/api/v1/public/passwords/range/:prefix", use: answer)
    }

    func answer(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let text = try context.parameters.require("prefix")
        guard let prefix = PasswordRange.prefix(text) else {
            throw Problem(
                .badRequest, "the prefix must be exactly five hexadecimal digits (0-9, A-F) of the password's SHA-1, such as 21BD1",
                location: "path prefix", type: .invalidInput)
        }
        return Self.answer(range, prefix: prefix, padding: request.headers[Self.addPadding]?.lowercased() == "true")
    }

    static let addPadding = HTTPField.Name("Add-Padding")!

    /// The answer for a checked prefix; cacheable for an hour unless padded (padding differs each
    /// time).
    static func answer(_ range: PasswordRange, prefix: String, padding: Bool) -> Response {
        let (headers, body) = answerParts(range, prefix: prefix, padding: padding)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// The answer's headers (without the security headers every answer gets) and body.
    static func answerParts(_ range: PasswordRange, prefix: String, padding: Bool) -> (HTTPFields, ByteBuffer) {
        (headers(padding: padding), body(range, prefix: prefix, padding: padding))
    }

    static func headers(padding: Bool) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = padding ? "no-store" : "public, max-age=3600"
        headers[.vary] = "Add-Padding"
        return headers
    }

    /// The answer's lines; unpadded, written from the breached file straight into the buffer.
    static func body(_ range: PasswordRange, prefix: String, padding: Bool) -> ByteBuffer {
        if padding {
            var random = SystemRandomNumberGenerator()
            return ByteBuffer(string: range.body(prefix, padding: true, random: &random))
        }
        let answer = range.answer(prefix)
        var buffer = ByteBufferAllocator().buffer(capacity: answer.capacity)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: answer.capacity) { answer.write(into: $0) }
        return buffer
    }
}
