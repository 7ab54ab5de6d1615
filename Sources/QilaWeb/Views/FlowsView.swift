import Foundation
import QilaCore
import QilaFlows
import QilaRetention

/// The traffic-data page: the collector's state and losses, the registered exporters and RADIUS
/// clients with their counters, each organisation's retention and stored data, and the forms to
/// register a source and import a NAT log.
struct FlowsView: Sendable {
    struct Collector: Sendable {
        var collecting: Bool
        var flowPorts: String
        var accounting: Bool
        var radiusPorts: String
        var diskFull: Bool
        /// What only the authority sees: unregistered senders and drops.
        var seesCollector: Bool
        var unknownExporters: Int
        var dropped: Int
        var hasDropped: Bool
        var kernelDrops: String
        var handoffOverflow: Int
        var lastError: String?
    }

    struct Loss: Sendable {
        var from, to: String
        var datagrams: Int
        var place: String
    }

    struct Source: Sendable {
        var id, name, kind, organisation, address, domain: String
        var received, lost, faults: String
        var canDelete: Bool
    }

    struct Stored: Sendable {
        var id, name: String
        var days: String
        var daysError: String?
        var segments, flows, assignments: Int
        var megabytes: String
        /// The nodes keeping it (traffic data stays where it was collected).
        var nodes: String
        var canSet: Bool
    }

    /// Another node's collector as its last heartbeat described it.
    struct NodeCollectorRow: Sendable {
        var node, state: String
        var up: Bool
        var flowPorts, radiusPorts: String
        var stored, dropped: Int
        var diskFull, losing: Bool
    }

    /// This node's name: the collector card is about it.
    let node: String
    let collector: Collector
    let otherCollectors: [NodeCollectorRow]
    let hasOtherCollectors: Bool
    let losing: Bool
    let losses: [Loss]
    let hasLosses: Bool
    let chart: String
    let sources: [Source]
    let hasSources: Bool
    let organisations: [Stored]
    let message: String?
    let lineErrors: [String]
    let hasLineErrors: Bool
    let registerForm: FormView?
    let importForm: FormView?
    let hasForms: Bool

    static let registerFormName = "flows.source"
    static let importFormName = "flows.assignments"
    static let importedName = "flows.imported"
    static let retentionFormName = "flows.retention"

    static func registerFields(organisations: [Organisation], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "organisation", label: "Organisation", control: .select(organisations.map { .init(value: $0.id.description, label: $0.name) }),
                required: true, state: state, initial: organisations.count == 1 ? organisations[0].id.description : ""),
            FieldView(
                "kind", label: "Kind", control: .select(FlowSource.Kind.allCases.map { .init(value: $0.rawValue, label: $0.title) }), required: true,
                state: state, initial: FlowSource.Kind.exporter.rawValue),
            FieldView("name", label: "Name", hint: "At most \(FlowSourceDesk.maximumName) characters.", required: true, state: state),
            FieldView("address", label: "Source address", hint: "The IPv4 or IPv6 address its datagrams come from.", required: true, state: state),
            FieldView("domain", label: "Observation domain", hint: "Exporters only; empty accepts every domain.", state: state),
            FieldView(
                "secret", label: "Shared secret", control: .text(type: "password"),
                hint: "RADIUS clients only, at least \(FlowSourceDesk.minimumSecret) characters.", state: state.map(Self.withoutSecret),
                autocomplete: "off"),
        ]
    }

    /// A refused registration never carries the RADIUS secret back into the page.
    static func withoutSecret(_ state: FormState) -> FormState {
        var state = state
        state.values["secret"] = nil
        return state
    }

    static func importFields(organisations: [Organisation], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "organisation", label: "Organisation", control: .select(organisations.map { .init(value: $0.id.description, label: $0.name) }),
                required: true, state: state, initial: organisations.count == 1 ? organisations[0].id.description : "", id: "assign-org"),
            FieldView(
                "log", label: "Port-block log", control: .textarea(rows: 8),
                hint: "CSV with a header (time,event,address,port_first,port_last,internal_address) or syslog lines.", required: true,
                state: state),
        ]
    }

    /// `kept` is the form state the browser was sent back with, if any: a refusal of one of the
    /// forms, or the result of an import.
    init(
        node: String, collector: Collector, otherCollectors: [NodeCollectorRow], losing: Bool, losses: [Loss], chart: String, sources: [Source], organisations: [Stored], creatable: [Organisation],
        message: String?, kept: FormState?
    ) {
        self.node = node
        self.collector = collector
        self.otherCollectors = otherCollectors
        hasOtherCollectors = !otherCollectors.isEmpty
        self.losing = losing
        self.losses = losses
        hasLosses = !losses.isEmpty
        self.chart = chart
        self.sources = sources
        hasSources = !sources.isEmpty
        let retention = kept?.form == Self.retentionFormName ? kept : nil
        self.organisations = organisations.map { row in
            guard let retention, retention.value("organisation") == row.id else { return row }
            var row = row
            row.days = retention.value("days")
            row.daysError = retention.errors["days"]
            return row
        }
        let imported = kept?.form == Self.importedName ? kept : nil
        self.message = message ?? imported.map { "\($0.value("records")) port-block records stored for \($0.value("organisation"))." }
        lineErrors = imported?.values("lineError") ?? []
        hasLineErrors = !lineErrors.isEmpty
        let register = kept?.form == Self.registerFormName ? kept : nil
        let importing = kept?.form == Self.importFormName ? kept : nil
        registerForm =
            creatable.isEmpty
            ? nil
            : FormView(
                action: "/flows/sources", submit: "Register", fields: Self.registerFields(organisations: creatable, state: register), state: register,
                id: "add-source")
        importForm =
            creatable.isEmpty
            ? nil
            : FormView(
                action: "/flows/assignments", submit: "Import", fields: Self.importFields(organisations: creatable, state: importing),
                state: importing, id: "import-assignments")
        hasForms = !creatable.isEmpty
    }
}
