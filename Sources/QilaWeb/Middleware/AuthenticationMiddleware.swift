import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL
import QilaAccess
import QilaCore
import QilaStore
import X509

/// Establishes who sent each request, afresh every time: a client certificate from Qila's CA,
/// an API token, or a session cookie, in that order. It decides nothing about access: that is
/// the policy decision point's job, asked by each route.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    let authenticator: Authenticator
    /// The node registry, for calls from other nodes.
    let nodes: SQLStore
    /// `https` unless the server runs without TLS: the scheme a same-origin form's Origin names.
    let scheme: String
    /// Without TLS there is no client certificate to ask the connection for (asking costs a hop to
    /// the connection's event loop on every request).
    var tls: Bool { scheme == "https" }
    static let sessionCookie = "__Host-qila_session"

    /// Paths anyone may reach: health, the API description, assets, the sign-in pages, and the
    /// public portal with its API.
    static func isPublic(_ path: String) -> Bool {
        isPortal(path) || path == "/healthz" || path == "/readyz" || path == "/openapi.yaml" || path.hasPrefix("/assets/")
            || path == "/sign-in" || path.hasPrefix("/setup/") || path == "/favicon.ico" || path.hasPrefix("/problems/")
            // The CSAF provider and security.txt: TLP:CLEAR for anyone; the handlers ask for an
            // identity for any other marking, so credentials sent are still checked here.
            || path.hasPrefix("/.well-known/")
    }

    /// The public portal's paths, and the published KEV catalogue: nobody's identity is asked for
    /// or used there.
    static func isPortal(_ path: String) -> Bool {
        path == "/public" || path.hasPrefix("/public/") || path.hasPrefix("/api/v1/public/") || path.hasPrefix("/kev/known_exploited_vulnerabilities.")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The public portal answers everyone alike: no certificate, token or session is looked up
        // (a crowd after a national alert costs no database reads), and its forms act as nobody's
        // account, so they need only come from this site.
        if Self.isPortal(request.uri.path) {
            if request.method != .get && request.method != .head { try CSRFCheck.sameOrigin(request, scheme: scheme) }
            return try await next(request, context)
        }
        var context = context
        let source = context.sourceAddress
        let peerCertificate = tls ? try? await context.channel?.nioSSL_peerCertificate().get() : nil
        // TAXII and MISP feeds take HTTP Basic (an account's name and one of its tokens) as well.
        let isTAXII = request.uri.path == "/taxii2" || request.uri.path.hasPrefix("/taxii2/") || request.uri.path.hasPrefix("/misp/feeds/")
            || request.uri.path.hasPrefix("/.well-known/csaf/")
        let isAPI = request.uri.path.hasPrefix("/api/") || isTAXII

        if let certificate = peerCertificate,
            let nodeID = (try? X509.Certificate(derEncoded: certificate.toDERBytes())).flatMap(CertificateAuthority.nodeIdentity(of:))
        {
            // Another node: its certificate chains to the installation's CA (the handshake checked)
            // and names a node that has registered. It reaches only the routes nodes call.
            guard let node = try await nodes.node(id: nodeID) else {
                throw Problem(.unauthorized, "the node certificate names a node that has not registered")
            }
            context.node = node
        } else if let certificate = peerCertificate {
            let fingerprint = Hex.encode(SHA256.hash(data: try certificate.toDERBytes()))
            guard let principal = try await authenticator.authenticate(certificateFingerprint: fingerprint, source: source) else {
                throw Problem(.unauthorized, "the client certificate is not known to Qila, or has been revoked or has expired")
            }
            context.principal = principal
        } else if let authorization = request.headers[.authorization] {
            let principal: Authenticator.Principal
            if isTAXII, authorization.lowercased().hasPrefix("basic ") {
                // TAXII clients send HTTP Basic (TAXII 2.1 section 1.6.8.1): the account's name and
                // one of its API tokens as the password; the token must belong to that account.
                guard let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                    let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
                    let found = try await authenticator.authenticate(bearer: String(text[text.index(after: colon)...]), source: source),
                    found.user.username == text[..<colon]
                else {
                    throw Problem(.unauthorized, "HTTP Basic takes the account's name and one of its API tokens, unexpired and not revoked")
                }
                principal = found
            } else {
                guard authorization.lowercased().hasPrefix("bearer ") else {
                    throw Problem(.unauthorized, "the Authorization header must be 'Bearer qila_...'")
                }
                let secret = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
                guard let found = try await authenticator.authenticate(bearer: secret, source: source) else {
                    throw Problem(.unauthorized, "the API token is unknown, expired or revoked")
                }
                principal = found
            }
            if let token = principal.token {
                // A token is refused outright where its scopes cannot reach: an ingest-only token
                // reads nothing, rather than reading empty lists.
                let needed: TokenScope =
                    request.uri.path == "/api/v1/intake" ? .ingest : (request.method == .get || request.method == .head ? .read : .write)
                guard token.scopes.contains(needed) else {
                    throw Problem(.forbidden, "the API token lacks the \(needed.rawValue) scope", type: .tokenScope)
                }
            }
            context.principal = principal
        } else if let secret = request.cookies[Self.sessionCookie]?.value, !secret.isEmpty {
            context.sessionSecret = secret
            switch try await authenticator.session(secret: secret) {
            case .active(let principal): context.principal = principal
            case .awaitingSecondFactor(let principal): context.awaitingSecondFactor = principal
            case .expired:
                if isAPI { throw Problem(.unauthorized, "the session has expired; sign in again") }
                if !Self.isPublic(request.uri.path) {
                    return Response.redirect(to: "/sign-in?expired=1")
                }
            case .unknown: break
            }
        }

        // Routes other nodes call take a node certificate and nothing else; a node certificate
        // reaches nothing else.
        if request.uri.path.hasPrefix("/internal/") {
            guard context.node != nil else {
                throw Problem(.unauthorized, "only another node of this installation, presenting its node certificate, calls this")
            }
            return try await next(request, context)
        }
        if context.node != nil { throw Problem(.forbidden, "a node certificate reaches only the routes other nodes call") }

        if context.principal == nil && !Self.isPublic(request.uri.path) {
            if isAPI || request.uri.path == "/metrics" { throw Problem.unauthenticated }
            if context.awaitingSecondFactor != nil, request.uri.path == "/sign-in/totp" || request.uri.path == "/sign-out" {
                return try await next(request, context)
            }
            return Response.redirect(to: "/sign-in")
        }
        var request = request
        if let session = context.principal?.session ?? context.awaitingSecondFactor?.session {
            try await CSRFCheck.verify(request: &request, session: session, limit: context.maxUploadSize, scheme: scheme)
        } else if request.method != .get && request.method != .head && !isAPI {
            try CSRFCheck.sameOrigin(request, scheme: scheme)
        }
        return try await next(request, context)
    }
}

/// Cross-site request forgery defences for browser sessions: a per-session token on every
/// change (header `X-CSRF-Token` or form field `_csrf`), plus fetch-metadata and Origin checks.
enum CSRFCheck {
    /// Refuses cross-site requests: `Sec-Fetch-Site: cross-site`, or an `Origin` whose scheme, host
    /// and port are not exactly those of this server as the request reached it.
    static func sameOrigin(_ request: Request, scheme: String) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" {
            throw Problem(.forbidden, "cross-site requests are refused")
        }
        if let origin = request.headers[HTTPField.Name("Origin")!], origin != "null" {
            guard let authority = request.head.authority, let server = PublicOrigin(scheme: scheme, authority: authority),
                let sender = PublicOrigin(origin), sender == server
            else {
                throw Problem(.forbidden, "the request's Origin does not match this server")
            }
        }
    }

    static func verify(request: inout Request, session: Session, limit: Int, scheme: String) async throws {
        guard request.method != .get, request.method != .head, request.method != .options else { return }
        try sameOrigin(request, scheme: scheme)
        if let header = request.headers[HTTPField.Name("X-CSRF-Token")!], constantTimeEqual(header, session.csrfToken) {
            return
        }
        if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
            // Collecting keeps the body for the route to read again.
            let body = try await request.collectBody(upTo: limit)
            let fields = FormFields(String(buffer: body))
            if let token = fields["_csrf"], constantTimeEqual(token, session.csrfToken) { return }
        }
        if let boundary = MultipartForm.boundary(of: request.headers[.contentType]) {
            let body = try await request.collectBody(upTo: limit)
            if let token = (try? MultipartForm(body: body, boundary: boundary))?["_csrf"], constantTimeEqual(token, session.csrfToken) { return }
        }
        throw Problem(.forbidden, "missing or wrong CSRF token: reload the page and try again")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}
