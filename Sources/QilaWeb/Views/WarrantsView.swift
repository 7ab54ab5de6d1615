import Foundation
import QilaCore

/// The warrants page: the warrants the subject may see and, for an investigator, the form to
/// record one.
struct WarrantsView: Sendable {
    struct Row: Sendable {
        var id, number, court, provider, status, statusSlug, expires, recorded: String
        var identifiers: Int
    }

    let warrants: [Row]
    let recordForm: FormView?

    /// The record form's fields; also gives the labels that word the desk's errors.
    static func recordFields(providers: [Organisation], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "provider", label: "Provider", control: .select(providers.map { .init(value: $0.id.description, label: $0.name) }),
                hint: "The licensee the court's order is addressed to.", required: true, state: state),
            FieldView("court", label: "Court", required: true, state: state),
            FieldView("number", label: "Warrant number", required: true, state: state),
            FieldView("issuedAt", label: "Issued", hint: DisplayZone.current.inputHint, required: true, state: state, autocomplete: "off"),
            FieldView("expiresAt", label: "Expires", hint: DisplayZone.current.inputHint, required: true, state: state, autocomplete: "off"),
            FieldView("agency", label: "Requesting agency", required: true, state: state),
            FieldView(
                "addresses", label: "Addresses in scope", control: .textarea(rows: 3),
                hint: "IPv4 or IPv6 addresses, one per line. Name at least one address or subscriber.", state: state),
            FieldView("subscribers", label: "Subscriber identifiers in scope", control: .textarea(rows: 3), hint: "One per line.", state: state),
            FieldView("disclosesSubscribers", label: "The order lets the provider name the subscriber behind each address", control: .checkbox(), state: state),
            FieldView("windowStart", label: "Traffic from", hint: DisplayZone.current.inputHint, required: true, state: state, autocomplete: "off"),
            FieldView("windowEnd", label: "Traffic until", hint: DisplayZone.current.inputHint, required: true, state: state, autocomplete: "off"),
        ]
    }

    static let recordFormName = "warrant.record"

    init(warrants: [Warrant], names: [OrganisationID: String], canRecord: Bool, providers: [Organisation], state: FormState?) {
        self.warrants = warrants.map { warrant in
            Row(
                id: warrant.id.description, number: warrant.number, court: warrant.court, provider: names[warrant.provider] ?? "",
                status: warrant.status.title, statusSlug: warrant.status.rawValue, expires: warrant.expiresAt.display,
                recorded: warrant.recordedAt.display, identifiers: warrant.addresses.count + warrant.subscribers.count)
        }
        recordForm =
            canRecord
            ? FormView(action: "/warrants", submit: "Record", fields: Self.recordFields(providers: providers, state: state), state: state) : nil
    }
}
