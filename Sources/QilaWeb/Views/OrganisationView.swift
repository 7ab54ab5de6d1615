import Foundation
import QilaCore

/// An organisation's page: what it is, its people and service accounts, the form to add one,
/// and, once after an account was added, its one-time set-up link.
struct OrganisationView: Sendable {
    struct Summary: Sendable {
        var id, name, kind, sector, registration: String
    }

    struct Account: Sendable {
        var id, username, displayName, kind, roles, clearance, clearanceSlug: String
        var mfa, disabled: Bool
    }

    let organisation: Summary
    let users: [Account]
    let message: String?
    let setupLink: String?
    let setupFor: String?
    let accountForm: FormView?

    static let accountFormName = "account.add"
    /// A created account's one-time set-up link, kept (sealed, for this session) for the page
    /// the browser is sent to.
    static let accountAddedName = "account.added"

    /// The add-account form's fields; also gives the labels that word the directory's errors.
    static func accountFields(roles: [Role], clearances: [TLP], state: FormState?) -> [FieldView] {
        [
            FieldView("username", label: "Username", hint: "What they sign in with.", required: true, state: state, autocomplete: "off"),
            FieldView("displayName", label: "Name", required: true, state: state),
            FieldView("email", label: "Email", control: .text(type: "email"), state: state),
            FieldView(
                "kind", label: "Kind", control: .select([.init(value: "person", label: "Person"), .init(value: "service", label: "Service account (sensor, script)")]),
                required: true, state: state, initial: "person"),
            FieldView("role", label: "Roles", control: .checkboxes(roles.map { .init(value: $0.rawValue, label: $0.title) }), state: state),
            FieldView(
                "clearance", label: "TLP clearance", control: .select(clearances.map { .init(value: $0.rawValue, label: $0.rawValue) }),
                hint: "The most sensitive marking they may read.", required: true, state: state, initial: TLP.green.rawValue),
        ]
    }

    /// `added` is the kept state of an account just added; `form` the add-account form, nil when
    /// the subject may not add accounts.
    init(organisation: Summary, users: [Account], added: FormState?, form: FormView?) {
        self.organisation = organisation
        self.users = users
        message = added.map { "Account \($0.value("username")) added." }
        let link = added?.value("setupLink") ?? ""
        setupLink = link.isEmpty ? nil : link
        setupFor = link.isEmpty ? nil : added?.value("username")
        accountForm = form
    }
}
