import Foundation
import QilaAccess
import QilaCore

/// The sign-in page. Before a session exists a refusal is answered in place (there is nothing to
/// keep a form under): with the username kept and the reason.
struct SignInView: Sendable {
    var error: String?
    var username = ""
    var expired = false
}

/// The second-factor step of sign-in.
struct SecondFactorView: Sendable {
    var error: String?
}

/// A one-time set-up link: the first administrator's (with the authority's name) or a person's
/// own password.
struct SetupView: Sendable {
    var token: String
    var firstRun: Bool
    var organisation = ""
    var displayName = ""
    var username = ""
    var email = ""
    var error: String?
}

/// Asking for the password (and code) again before something that needs a fresh check.
struct ReauthenticateView: Sendable {
    var next: String
    var mfa: Bool
    var error: String?
}

/// Turning on two-factor sign-in: the QR code and secret, then the recovery codes once.
struct TOTPEnrolView: Sendable {
    var qr = ""
    var secret = ""
    var reasonText: String?
    var error: String?
    var recoveryCodes: [String] = []
    var enrolled = false
}

/// The profile: password, two-factor state, sessions and API tokens.
struct ProfileView: Sendable {
    struct SessionRow: Sendable {
        var created, lastSeen, source, agent: String
        var current: Bool
    }

    struct TokenRow: Sendable {
        var id, name, prefix, scopes, expires, lastUsed: String
        var revoked: Bool
    }

    let mfa: Bool
    let mfaSince: String
    let minimumLength: Int
    let sessions: [SessionRow]
    let tokens: [TokenRow]
    let hasTokens: Bool
    let message: String?
    let newToken: String?
    let passwordForm: FormView
    let tokenForm: FormView
    let zoneForm: FormView
    let zoneName: String

    static let passwordFormName = "profile.password"
    static let tokenFormName = "profile.token"
    /// A token just issued: its secret, kept sealed for this session until the page shows it once.
    static let tokenIssuedName = "profile.token.issued"
    static let doneName = "profile.done"
    static let zoneFormName = "profile.zone"

    static func zoneFields(current: DisplayZone, state: FormState?) -> [FieldView] {
        let offered = DisplayZone.offered.contains(current.zone.identifier) ? DisplayZone.offered : [current.zone.identifier] + DisplayZone.offered
        return [
            FieldView(
                "timeZone", label: "Show times in",
                control: .select(offered.compactMap { DisplayZone(identifier: $0) }.map { .init(value: $0.zone.identifier, label: $0.name) }),
                hint: "Every page shows times in this zone and names it.", required: true, state: state, initial: current.zone.identifier),
        ]
    }

    static func passwordFields(minimumLength: Int, state: FormState?) -> [FieldView] {
        // Passwords are never sent back into a page.
        let blank = state.map { FormState(form: $0.form, values: [:], errors: $0.errors, summary: $0.summary) }
        return [
            FieldView("current", label: "Current password", control: .text(type: "password"), required: true, state: blank, autocomplete: "current-password"),
            FieldView(
                "new", label: "New password", control: .text(type: "password"),
                hint: "At least \(minimumLength) characters. No symbols or digits are required.", required: true, state: blank,
                autocomplete: "new-password"),
        ]
    }

    static func tokenFields(state: FormState?) -> [FieldView] {
        [
            FieldView("name", label: "Name", hint: "What the token is for, 1 to 100 characters.", required: true, state: state, id: "token-name"),
            FieldView(
                "scope", label: "Scopes",
                control: .checkboxes([
                    .init(value: "read", label: "read", selected: true), .init(value: "write", label: "write"), .init(value: "ingest", label: "ingest"),
                ]), required: true, state: state),
            FieldView(
                "days", label: "Days until it expires", control: .text(type: "number"), hint: "From 1 to 397.", required: true, state: state,
                initial: "90", id: "token-days"),
        ]
    }

    init(mfa: Bool, mfaSince: String, minimumLength: Int, sessions: [SessionRow], tokens: [TokenRow], kept: FormState?, zone: DisplayZone) {
        self.mfa = mfa
        self.mfaSince = mfaSince
        self.minimumLength = minimumLength
        self.sessions = sessions
        self.tokens = tokens
        hasTokens = !tokens.isEmpty
        newToken = kept?.form == Self.tokenIssuedName ? kept?.value("secret") : nil
        message = kept?.form == Self.doneName ? kept?.value("message") : nil
        let password = kept?.form == Self.passwordFormName ? kept : nil
        passwordForm = FormView(
            action: "/profile/password", submit: "Change password", fields: Self.passwordFields(minimumLength: minimumLength, state: password),
            state: password, id: "change-password")
        let token = kept?.form == Self.tokenFormName ? kept : nil
        tokenForm = FormView(action: "/profile/tokens", submit: "Create token", fields: Self.tokenFields(state: token), state: token, id: "create-token")
        let zoneState = kept?.form == Self.zoneFormName ? kept : nil
        zoneForm = FormView(
            action: "/profile/time-zone", submit: "Save", fields: Self.zoneFields(current: zone, state: zoneState), state: zoneState, id: "time-zone")
        zoneName = zone.name
    }
}

/// The overview: who you are, and a dashboard for each part of the work your roles may see.
/// A section is present only when the policy lets the subject open what it summarises.
struct HomeView: Sendable {
    struct Link: Sendable {
        var href, text: String
        var note: String?
        var state: String?
    }

    struct Figure: Sendable {
        var label: String
        var value: Int
        var href: String?
        var tone: String?
    }

    /// Authority analysts: the alert queue, cases due and overdue, reports waiting for triage.
    struct Analyst: Sendable {
        var alertsChart: String
        var openAlerts: Int
        var figures: [Figure]
        var due: [Link]
        var hasDue: Bool
    }

    /// An organisation's people: its stages to send, questions to answer, its sensors' health.
    struct Organisation: Sendable {
        var stages: [Link]
        var hasStages: Bool
        var requests: [Link]
        var hasRequests: Bool
        var sensors: [Figure]
        var showSensors: Bool
    }

    /// Sector regulators: the sector's incidents and how well its organisations report.
    struct Regulator: Sendable {
        var figures: [Figure]
        var compliance: [Link]
        var hasCompliance: Bool
    }

    /// Administrators: sensors, collectors, the audit log's signed head, accounts not yet set up.
    struct Administrator: Sendable {
        var figures: [Figure]
        var collector: String
        var collectorState: String
        var head: String
        var pending: [Link]
        var hasPending: Bool
    }

    var organisation: String
    var roles: [String]
    var clearance: String
    var clearanceSlug: String
    var method: String
    var mfa: Bool
    var zoneName: String
    var analyst: Analyst?
    var reporting: Organisation?
    var regulator: Regulator?
    var administrator: Administrator?
    var sectorChart: String
}

/// A refusal or failure shown as a page.
struct ErrorView: Sendable {
    var status: Int
    var detail: String
    var location: String?
}

/// What one kind of problem means, at the URI a problem's `type` names.
struct ProblemTypeView: Sendable {
    let slug: String
    let title: String
    let explanation: String
    let all: [Link]

    struct Link: Sendable {
        var href, title: String
    }

    init(_ kind: ProblemType) {
        slug = kind.rawValue
        title = kind.title
        explanation = kind.explanation
        all = ProblemType.allCases.map { Link(href: $0.uri, title: $0.title) }
    }
}
