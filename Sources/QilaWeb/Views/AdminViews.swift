import Foundation
import QilaAccess
import QilaCore

/// The organisations the subject may see, and the form to register one.
struct OrganisationsView: Sendable {
    struct Row: Sendable {
        var id, name, kind, sector, registration, created: String
    }

    let organisations: [Row]
    let registerForm: FormView?

    static let registerFormName = "organisation.register"

    static func registerFields(sectors: [Sector], state: FormState?) -> [FieldView] {
        [
            FieldView("name", label: "Name", required: true, state: state),
            FieldView(
                "kind", label: "Kind",
                control: .select(Organisation.Kind.allCases.filter { $0 != .authority }.map { .init(value: $0.rawValue, label: $0.title) }), required: true,
                state: state),
            FieldView("sector", label: "Sector", control: .select(sectors.map { .init(value: $0.id.rawValue, label: $0.name) }), required: true, state: state),
            FieldView("registrationNumber", label: "Licence or registration number", hint: "At most 100 characters.", state: state, id: "registration"),
            FieldView(
                "criticality", label: "Criticality",
                control: .select([.init(value: "", label: "Not classed")] + Organisation.Criticality.allCases.map { .init(value: $0.rawValue, label: $0.title) }),
                hint: "How much the nation depends on it; assessment campaigns may address a class.", state: state),
        ]
    }

    init(organisations: [Row], sectors: [Sector], canCreate: Bool, state: FormState?) {
        self.organisations = organisations
        registerForm =
            canCreate
            ? FormView(action: "/admin/organisations", submit: "Register", fields: Self.registerFields(sectors: sectors, state: state), state: state, id: "register-organisation")
            : nil
    }
}

/// One account: what it is, and for an administrator its roles, clearance, engagements and state.
struct UserView: Sendable {
    struct Summary: Sendable {
        var id, displayName, username, kind, email: String
        var disabled: Bool
    }

    struct Place: Sendable {
        var id, name: String
    }

    let user: Summary
    let organisation: Place
    let mfa: Bool
    let isPerson: Bool
    let canAdminister: Bool
    let message: String?
    let setupLink: String?
    let grantForm: FormView?

    static let grantFormName = "user.grant"
    static let doneName = "user.done"

    static func grantFields(roles: [Role], clearances: [TLP], auditable: [Organisation]?, user: User, state: FormState?) -> [FieldView] {
        var fields = [
            FieldView(
                "role", label: "Roles", control: .checkboxes(roles.map { .init(value: $0.rawValue, label: $0.title, selected: user.roles.contains($0)) }),
                state: state),
            FieldView(
                "clearance", label: "TLP clearance", control: .select(clearances.map { .init(value: $0.rawValue, label: $0.rawValue) }),
                hint: "The most sensitive marking they may read.", required: true, state: state, initial: user.clearance.rawValue),
        ]
        if let auditable {
            fields.append(
                FieldView(
                    "audited", label: "Organisations audited",
                    control: .checkboxes(auditable.map { .init(value: $0.id.description, label: $0.name, selected: user.auditedOrganisations.contains($0.id)) }),
                    hint: "For auditors: they report for and read these.", state: state))
        }
        fields.append(FieldView("disabled", label: "Disabled", control: .checkbox(), state: state, initial: user.disabled ? "1" : ""))
        return fields
    }

    init(
        user: User, organisation: Organisation, mfa: Bool, canAdminister: Bool, roles: [Role], clearances: [TLP], auditable: [Organisation]?,
        kept: FormState?
    ) {
        self.user = Summary(
            id: user.id.description, displayName: user.displayName, username: user.username, kind: user.kind.rawValue, email: user.email ?? "—",
            disabled: user.disabled)
        self.organisation = Place(id: organisation.id.description, name: organisation.name)
        self.mfa = mfa
        isPerson = user.kind == .person
        self.canAdminister = canAdminister
        let done = kept?.form == Self.doneName ? kept : nil
        message = done.flatMap { $0.value("message").isEmpty ? nil : $0.value("message") }
        setupLink = done.flatMap { $0.value("setupLink").isEmpty ? nil : $0.value("setupLink") }
        let refused = kept?.form == Self.grantFormName ? kept : nil
        let fields = Self.grantFields(roles: roles, clearances: clearances, auditable: auditable, user: user, state: refused)
        grantForm =
            canAdminister
            ? FormView(action: "/admin/users/\(user.id)", submit: "Save", fields: fields, state: refused, id: "grant") : nil
    }
}

/// The audit log: a page of entries, newest first, the chart per hour, and the signed tree head.
struct AuditView: Sendable {
    struct Entry: Sendable {
        var index: Int64
        var time, actor, action, outcome, resource, source, details: String
    }

    struct Head: Sendable {
        var treeSize: Int64
        var rootHash, time: String
    }

    let action: String
    let from: Int64
    let entries: [Entry]
    let hasEntries: Bool
    let chart: String
    let next: String?
    let head: Head?
}
