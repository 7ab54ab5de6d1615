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
        let location = try await keep(state, for: page, context: context, now: now) + "#\(fragment)"
        return Response(status: .seeOther, headers: [.location: location])
    }

    /// Keeps `state` and returns `page` with the parameter that shows it again.
    func keep(_ state: FormState, for page: String, context: QilaRequestContext, now: Date = Date()) async throws -> String {
        guard let owner = Self.owner(context) else { throw Problem.unauthenticated }
        let id = RandomSecret.make(bytes: 16)
        let sealed = try secrets.seal(Array(try JSONEncoder().encode(state)))
        try await store.keepRefusedForm(id: id, sessionHash: owner, sealed: sealed, at: now, forgetBefore: now.addingTimeInterval(-Self.lifetime))
        return page + (page.contains("?") ? "&" : "?") + "form=" + id
    }

    /// Whose a kept form is: the browser session's (by its id's hash); for a caller without a
    /// session (an API token or client certificate on a page), its account's.
    static func owner(_ context: QilaRequestContext) -> String? {
        if let session = context.principal?.session ?? context.awaitingSecondFactor?.session { return session.idHash }
        return context.principal.map { "account:\($0.user.id)" }
    }

    /// The refused form named by the request's `form` parameter, if it is `form` and this
    /// session's; nil otherwise (a fresh form).
    func state(of form: String, _ request: Request, context: QilaRequestContext, now: Date = Date()) async throws -> FormState? {
        try await kept(request, context: context, now: now).flatMap { $0.form == form ? $0 : nil }
    }

    /// Whatever form state the request's `form` parameter names, if it is this session's: for a
    /// page with several forms, each of which takes the state whose name is its own.
    func kept(_ request: Request, context: QilaRequestContext, now: Date = Date()) async throws -> FormState? {
        // 16 random bytes in URL-safe base64 (`RandomSecret`): 22 characters.
        guard let id = request.uri.queryParameters["form"].map(String.init), id.count == 22,
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
            let owner = Self.owner(context),
            let sealed = try await store.refusedForm(id: id, sessionHash: owner, notBefore: now.addingTimeInterval(-Self.lifetime))
        else { return nil }
        return try? JSONDecoder().decode(FormState.self, from: Data(try secrets.open(sealed)))
    }
}
