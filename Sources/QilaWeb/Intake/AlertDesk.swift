import Foundation
import HTTPTypes
import QilaAccess
import QilaCases
import QilaCore
import QilaIngest
import QilaStore

/// Reading and triaging alerts, for the pages and the API alike: every read and change asks the
/// policy enforcement point first, and every triage is in the audit log.
struct AlertDesk: Sendable {
    let installation: Installation
    let enforcement: PolicyEnforcementPoint
    let cases: CaseRuntime

    var store: SQLStore { installation.store }

    static func resource(_ alert: SecurityAlert, _ organisation: Organisation?) -> Resource {
        Resource(kind: .alert, owner: alert.organisation, sector: organisation?.sector, reference: "alert:\(alert.id)")
    }

    /// The organisations whose alerts the subject may read (refused and recorded when none), and all of them.
    func readableOrganisations(_ subject: Subject, source: String?) async throws -> (readable: [Organisation], all: [Organisation]) {
        let organisations = try await store.organisations()
        let readable = organisations.filter { enforcement.permits(subject, .read, Resource(kind: .alert, owner: $0.id, sector: $0.sector)) }
        guard !readable.isEmpty else {
            try await enforcement.require(subject, .read, Resource(kind: .alert, owner: subject.organisation.id, sector: subject.organisation.sector), source: source)
            throw Problem(.forbidden, "alerts are shown to their organisation and the authority")
        }
        return (readable, organisations)
    }

    /// The organisations whose sensors the subject may see (refused and recorded when none), and all of them.
    func sensorOrganisations(_ subject: Subject, source: String?) async throws -> (readable: [Organisation], all: [Organisation]) {
        let organisations = try await store.organisations()
        let readable = organisations.filter { enforcement.permits(subject, .read, SensorDesk.resource($0)) }
        guard !readable.isEmpty else {
            try await enforcement.require(subject, .read, SensorDesk.resource(subject.organisation), source: source)
            throw Problem(.forbidden, "sensors are shown to their organisation's administrators and the authority")
        }
        return (readable, organisations)
    }

    /// The alert, if the subject may read it.
    func alert(_ idText: String, for subject: Subject, source: String?) async throws -> (alert: SecurityAlert, organisation: Organisation?) {
        guard let id = AlertID(idText), let alert = try await store.alert(id) else { throw Problem(.notFound, "no such alert") }
        let organisation = try await store.organisation(alert.organisation)
        try await enforcement.require(subject, .read, Self.resource(alert, organisation), source: source)
        return (alert, organisation)
    }

    enum Action: String {
        case acknowledge, dismiss, promote
    }

    /// Acknowledges, dismisses (a reason is required) or promotes the alert to a case of its
    /// organisation. Problems name what is wrong; nothing is changed then.
    func triage(_ idText: String, action actionText: String?, reason: String?, by subject: Subject, source: String?) async throws -> SecurityAlert {
        guard let id = AlertID(idText), var alert = try await store.alert(id) else { throw Problem(.notFound, "no such alert") }
        let organisation = try await store.organisation(alert.organisation)
        try await enforcement.require(subject, .update, Self.resource(alert, organisation), source: source)
        guard let action = actionText.flatMap(Action.init(rawValue:)) else {
            throw Problem(.badRequest, "choose acknowledge, dismiss or promote", location: "action")
        }
        let note = (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard alert.status != .promoted else { throw Problem(.conflict, "the alert is already a case") }
        switch action {
        case .acknowledge:
            alert.status = .acknowledged
            alert.reason = note.isEmpty ? nil : note
        case .dismiss:
            guard !note.isEmpty else {
                throw Problem(.badRequest, "say why the alert is dismissed: a false positive, expected activity or another reason", location: "reason")
            }
            alert.status = .dismissed
            alert.reason = note
        case .promote:
            guard let organisation, organisation.kind != .authority else {
                throw Problem(.badRequest, "a national campaign alert is promoted through its organisations' alerts")
            }
            let incident = try await cases.desk.openFromAlert(
                alert, organisation: organisation, by: subject, gate: EnforcementGate(enforcement: enforcement, source: source),
                note: "Opened by \(subject.user.displayName) (\(subject.organisation.name))")
            alert.status = .promoted
            alert.caseID = incident.id
            alert.reason = note.isEmpty ? nil : note
        }
        alert.triagedBy = subject.user.id
        alert.triagedAt = Date()
        try await store.triageAlert(alert)
        try await installation.audit.append(
            AuditEntry(
                time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "alert.\(action.rawValue)",
                outcome: .success, resource: "alert:\(alert.id)", sourceAddress: source))
        return alert
    }
}
