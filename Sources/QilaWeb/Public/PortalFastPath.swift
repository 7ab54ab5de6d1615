import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import QilaPublic

/// Answers the portal's hottest reads before the rest of the middleware and the router: the
/// password range API, and the home and statistics pages while their rendering is fresh in the
/// cache. What a crowd hits after a national alert then costs no more than the security headers
/// (added by the middleware before this one). Anything else, and a page not yet cached, goes on
/// to the route as usual, which renders and caches it.
struct PortalFastPath: RouterMiddleware {
    typealias Context = QilaRequestContext
    let range: PasswordRange
    let cache: PublicPageCache
    static let rangePrefix = "/api/v1/public/passwords/range/"
    static let served = Counter(label: "qila_public_fast_requests_total")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        let path = request.uri.path
        if path.hasPrefix(Self.rangePrefix), let prefix = PasswordRange.prefix(String(path.dropFirst(Self.rangePrefix.count))) {
            Self.served.increment()
            return PasswordRangeRoutes.answer(range, prefix: prefix, padding: request.headers[PasswordRangeRoutes.addPadding]?.lowercased() == "true")
        }
        if path == "/public/" || path == "/public/statistics", request.uri.query == nil {
            let language = PublicLanguage.negotiate(
                choice: request.cookies[PublicPages.languageCookie]?.value, acceptLanguage: request.headers[.acceptLanguage])
            if let page = cache.fresh((path == "/public/" ? "home:" : "statistics:") + language.rawValue) {
                Self.served.increment()
                return page
            }
        }
        return try await next(request, context)
    }
}
