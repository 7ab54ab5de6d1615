import HTTPTypes
import Hummingbird

/// Headers every answer carries: a strict content security policy (no inline scripts, no
/// framing), HSTS, and no sniffing or referrers.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let hsts: Bool

    static var contentSecurityPolicy: String { SecurityHeaderValues.contentSecurityPolicy }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        SecurityHeaderValues.apply(to: &response.headers, hsts: hsts)
        if response.headers[.cacheControl] == nil, !request.uri.path.hasPrefix("/assets/") {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }
}

/// The headers' names and the policy, made once rather than on every answer.
enum SecurityHeaderValues {
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
    ].joined(separator: "; ")
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let openerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!

    /// Sets the headers every answer carries (all but Cache-Control, which depends on the answer).
    static func apply(to headers: inout HTTPFields, hsts: Bool) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[referrerPolicy] = "no-referrer"
        headers[frameOptions] = "DENY"
        headers[openerPolicy] = "same-origin"
        headers[permissionsPolicy] = "camera=(), microphone=(), geolocation=()"
        if hsts { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
    }
}
