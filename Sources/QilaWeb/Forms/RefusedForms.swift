import Foundation
import Hummingbird
import QilaAccess
import QilaStore

/// Post-redirect-get for refused forms: the refused POST keeps the form's state (sealed, in the
/// database, for this session only) and redirects to the page, which shows the form again from
/// it. A reload of that page shows the same form and submits nothing. An accepted form whose
/// page must show something once (a new account's set-up link) is kept the same way.
struct RefusedForms: Sendable {
    let store: SQLStore
    let secrets: ServerSecrets
    /// How long a refused form can be shown again.
    static let lifetime: TimeInterval = 30 * 60

    /// Keeps `state` and answers with a redirect to `page` (a local path) that shows it, scrolled
    /// to `fragment` (the refusal's summary by default).
    func redirect(
        _ state: FormState, to page: String, context: QilaRequestContext, fragment: String = "error-summary", now: Date = Date()
    ) async throws -> Response {
        guard let session = context.principal?.session ?? context.awaitingSecondFactor?.session else { throw Problem.unauthenticated }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let sealed = try secrets.seal(Array(try JSONEncoder().encode(state)))
        try await store.keepRefusedForm(id: id, sessionHash: session.idHash, sealed: sealed, at: now, forgetBefore: now.addingTimeInterval(-Self.lifetime))
        let separator = page.contains("?") ? "&" : "?"
        return Response(status: .seeOther, headers: [.location: "\(page)\(separator)form=\(id)#\(fragment)"])
    }

    /// The refused form named by the request's `form` parameter, if it is `form` and this
    /// session's; nil otherwise (a fresh form).
    func state(of form: String, _ request: Request, context: QilaRequestContext, now: Date = Date()) async throws -> FormState? {
        guard let id = request.uri.queryParameters["form"].map(String.init), id.count == 32, id.allSatisfy(\.isHexDigit),
            let session = context.principal?.session ?? context.awaitingSecondFactor?.session,
            let sealed = try await store.refusedForm(id: id, sessionHash: session.idHash, notBefore: now.addingTimeInterval(-Self.lifetime)),
            let state = try? JSONDecoder().decode(FormState.self, from: Data(try secrets.open(sealed))),
            state.form == form
        else { return nil }
        return state
    }
}
