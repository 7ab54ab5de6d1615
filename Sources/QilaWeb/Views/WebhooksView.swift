import Foundation
import QilaCases
import QilaCore

/// The webhooks page: the webhooks the subject may see, the signing secret of one just added
/// (once), the form to add one, and the latest deliveries.
struct WebhooksView: Sendable {
    struct Hook: Sendable {
        var id, url, scope, events, created: String
    }

    struct Delivery: Sendable {
        var event, created, state, error: String
        var attempts: Int
    }

    let hooks: [Hook]
    let hasHooks: Bool
    let deliveries: [Delivery]
    let hasDeliveries: Bool
    let newSecret: String?
    let message: String?
    let addForm: FormView

    static let addFormName = "webhook.add"
    /// A webhook just added: its secret, kept sealed for this session until the page shows it.
    static let addedName = "webhook.added"

    /// `scopes` are the organisations whose cases the subject may hook, `national` whether it may
    /// add the authority's own webhook for every case.
    static func addFields(scopes: [Organisation], national: Bool, state: FormState?) -> [FieldView] {
        [
            FieldView(
                "organisation", label: "Cases of",
                control: .select(
                    (national ? [.init(value: "", label: "All organisations (the authority's systems)")] : [])
                        + scopes.map { .init(value: $0.id.description, label: $0.name) }),
                state: state, initial: national ? "" : scopes.first?.id.description ?? "", id: "webhook-organisation"),
            FieldView(
                "url", label: "Address", control: .text(type: "url"), hint: "Starts https://; plain http:// only to this machine.", required: true,
                state: state, id: "webhook-url"),
            FieldView(
                "event", label: "Events", control: .checkboxes(CaseEvent.Kind.allCases.map { .init(value: $0.rawValue, label: $0.rawValue) }),
                hint: "None ticked: every event.", state: state),
        ]
    }

    init(hooks: [Hook], deliveries: [Delivery], scopes: [Organisation], national: Bool, kept: FormState?) {
        self.hooks = hooks
        hasHooks = !hooks.isEmpty
        self.deliveries = deliveries
        hasDeliveries = !deliveries.isEmpty
        let added = kept?.form == Self.addedName ? kept : nil
        newSecret = added.map { $0.value("secret") }
        message = added == nil ? nil : "Webhook added. Copy its signing secret now: it is not shown again."
        let refused = kept?.form == Self.addFormName ? kept : nil
        addForm = FormView(
            action: "/admin/webhooks", submit: "Add webhook", fields: Self.addFields(scopes: scopes, national: national, state: refused), state: refused,
            id: "add-webhook")
    }
}
