/// The kinds of problem the API answers with (RFC 9457 `type`). Each is a URI reference to this
/// installation's own page that explains it (`GET /problems/{type}`), and each is listed, with the
/// same words, in `openapi.yaml`. A problem never carries another kind.
enum ProblemType: String, CaseIterable, Sendable {
    case invalidInput = "invalid-input"
    case weakPassword = "weak-password"
    case unauthenticated
    case forbidden
    case tokenScope = "token-scope"
    case reauthenticate
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
    case conflict
    case tooLarge = "too-large"
    case unsupportedMediaType = "unsupported-media-type"
    case throttled
    case unavailable
    case internalError = "internal-error"

    var uri: String { "/problems/\(rawValue)" }

    var title: String {
        switch self {
        case .invalidInput: "The input is not valid"
        case .weakPassword: "The password is refused"
        case .unauthenticated: "Not signed in"
        case .forbidden: "Not allowed"
        case .tokenScope: "The token lacks a scope"
        case .reauthenticate: "A fresh second factor is needed"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .conflict: "Conflicts with what is stored"
        case .tooLarge: "Too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .throttled: "Too many attempts"
        case .unavailable: "Unavailable for now"
        case .internalError: "Internal error"
        }
    }

    /// What it means and what to do, for the page `uri` names.
    var explanation: String {
        switch self {
        case .invalidInput: "Something in the request is not what the operation accepts. `detail` says what, and `location` where (a field, a query parameter, a line). Mend it and send again."
        case .weakPassword: "The password is too short or on the list of passwords known to attackers. Choose a longer one; a few unrelated words are easy to remember."
        case .unauthenticated: "The request carries no valid session, API token or client certificate. Sign in, or send Authorization: Bearer with a token."
        case .forbidden: "You are signed in, but your roles or organisation do not allow this. The refusal is recorded in the audit log. Ask your administrator if you should have access."
        case .tokenScope: "The API token is valid but was issued without the scope this operation needs (read, write, ingest or admin). Issue a token with that scope."
        case .reauthenticate: "The action needs a second factor checked in the last 15 minutes: confirm your password and code again, then repeat the request."
        case .notFound: "There is no such thing, or it belongs to another organisation (Qila does not say which)."
        case .methodNotAllowed: "The path exists but not with this HTTP method. The Allow header lists the methods it takes."
        case .conflict: "The request contradicts what is stored: a name already taken, a state that no longer allows the change. Read the current state and decide again."
        case .tooLarge: "The body is larger than this operation accepts. Send less, or in parts."
        case .unsupportedMediaType: "The body is not in a format this operation reads. Send application/json (or multipart/form-data for uploads)."
        case .throttled: "Too many attempts in a short time. The Retry-After header says when to try again."
        case .unavailable: "A part Qila needs (the database, telemetry intake, another node of the installation) is not answering. Try again shortly; administrators see why in the server's log."
        case .internalError: "Qila failed in a way that is not your doing. It is logged with the request's id for the administrators; nothing about it is shown here."
        }
    }

    /// The kind for an HTTP status, when nothing more precise is known.
    init(status: Int) {
        switch status {
        case 400, 422: self = .invalidInput
        case 401: self = .unauthenticated
        case 403: self = .forbidden
        case 404, 410: self = .notFound
        case 405: self = .methodNotAllowed
        case 409: self = .conflict
        case 413: self = .tooLarge
        case 415: self = .unsupportedMediaType
        case 429: self = .throttled
        case 503: self = .unavailable
        default: self = status >= 500 ? .internalError : .invalidInput
        }
    }
}
