public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Reading and triaging security alerts, for the pages, the API and automatic promotion alike:
/// every read and change asks the gate first, input is checked with the field named, and every
/// triage is in the audit log. Promotion opens the case through `CaseDesk.openFromAlert`; there is
/// no other way an alert becomes a case.
public struct AlertDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let policy: PolicyDecisionPoint
    public let cases: CaseDesk
    /// Most alerts one bulk triage may change.
    public static let maximumBulk = 500

    public init(store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint, cases: CaseDesk) {
        self.store = store
        self.audit = audit
        self.policy = policy
        self.cases = cases
    }

    public static func resource(_ alert: SecurityAlert, _ organisation: Organisation?) -> Resource {
        Resource(kind: .alert, owner: alert.organisation, sector: organisation?.sector, reference: "alert:\(alert.id)")
    }

    /// The organisations whose alerts the subject may read, and all of them. When there are none
    /// the refusal is asked of the gate (and so recorded).
    public func readableOrganisations(_ subject: Subject, gate: any AccessGate) async throws -> (readable: [Organisation], all: [Organisation]) {
        let organisations = try await store.organisations()
        let readable = organisations.filter { policy.decide(subject, .read, Resource(kind: .alert, owner: $0.id, sector: $0.sector)).allowed }
        guard !readable.isEmpty else {
            try await gate.require(subject, .read, Resource(kind: .alert, owner: subject.organisation.id, sector: subject.organisation.sector))
            throw QilaError(.forbidden, "alerts are shown to their organisation and the authority")
        }
        return (readable, organisations)
    }

    /// The alert, if the subject may read it.
    public func alert(_ idText: String, for subject: Subject, gate: any AccessGate) async throws -> (alert: SecurityAlert, organisation: Organisation?) {
        guard let id = AlertID(idText), let alert = try await store.alert(id) else { throw QilaError(.notFound, "no such alert") }
        let organisation = try await store.organisation(alert.organisation)
        try await gate.require(subject, .read, Self.resource(alert, organisation))
        return (alert, organisation)
    }

    public enum Action: String, Sendable, CaseIterable {
        case acknowledge, dismiss, promote
    }

    /// What a person asks for: the action's name as typed, and the reason.
    public static func action(_ text: String?) throws -> Action {
        guard let action = text.flatMap(Action.init(rawValue:)) else {
            throw QilaError.invalid("choose acknowledge, dismiss or promote", field: "action")
        }
        return action
    }

    /// Acknowledges, dismisses (a reason is required) or promotes the alert to a case of its
    /// organisation. Nothing is changed when the request is refused.
    public func triage(
        _ idText: String, action actionText: String?, reason: String?, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()
    ) async throws -> SecurityAlert {
        guard let id = AlertID(idText), let alert = try await store.alert(id) else { throw QilaError(.notFound, "no such alert") }
        let organisation = try await store.organisation(alert.organisation)
        try await gate.require(subject, .update, Self.resource(alert, organisation))
        let action = try Self.action(actionText)
        return try await apply(action, to: alert, organisation: organisation, reason: reason, by: subject, gate: gate, source: source, now: now)
    }

    /// The outcome of a bulk triage: what changed, and what was left with the reason.
    public struct BulkResult: Sendable {
        public var changed: [SecurityAlert] = []
        public var skipped: [(id: String, reason: String)] = []
    }

    /// Acknowledges or dismisses (with one reason for all) the alerts named. Each is checked on its
    /// own: one the subject may not change, or one already a case, is skipped with the reason and
    /// the rest still change. Promotion is one alert at a time.
    public func triage(
        _ ids: [String], action actionText: String?, reason: String?, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()
    ) async throws -> BulkResult {
        let action = try Self.action(actionText)
        guard action != .promote else { throw QilaError.invalid("promote one alert at a time, from its page", field: "action") }
        let unique = Array(NSOrderedSet(array: ids).compactMap { $0 as? String })
        guard !unique.isEmpty else { throw QilaError.invalid("tick at least one alert", field: "alert") }
        guard unique.count <= Self.maximumBulk else { throw QilaError.invalid("at most \(Self.maximumBulk) alerts at once", field: "alert") }
        if action == .dismiss, (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw Self.reasonNeeded
        }
        var result = BulkResult()
        for idText in unique {
            guard let id = AlertID(idText), let alert = try await store.alert(id) else {
                result.skipped.append((idText, "no such alert"))
                continue
            }
            let organisation = try await store.organisation(alert.organisation)
            guard policy.decide(subject, .update, Self.resource(alert, organisation)).allowed else {
                // Recorded as any refusal is; the other alerts still change.
                try? await gate.require(subject, .update, Self.resource(alert, organisation))
                result.skipped.append((idText, "not yours to triage"))
                continue
            }
            guard alert.status != .promoted else {
                result.skipped.append((idText, "already a case"))
                continue
            }
            do {
                result.changed.append(try await apply(action, to: alert, organisation: organisation, reason: reason, by: subject, gate: gate, source: source, now: now))
            } catch let error as QilaError where error.code == .conflict {
                result.skipped.append((idText, "triaged meanwhile by someone else"))
            }
        }
        return result
    }

    static let reasonNeeded = QilaError.invalid("say why the alert is dismissed: a false positive, expected activity or another reason", field: "reason")

    func apply(
        _ action: Action, to alert: SecurityAlert, organisation: Organisation?, reason: String?, by subject: Subject, gate: (any AccessGate)?,
        source: String?, now: Date, opening: String? = nil
    ) async throws -> SecurityAlert {
        let original = alert
        var alert = alert
        let note = (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard alert.status != .promoted else { throw QilaError(.conflict, "the alert is already a case") }
        var details: [String: String] = [:]
        switch action {
        case .acknowledge:
            alert.status = .acknowledged
            alert.reason = note.isEmpty ? nil : note
        case .dismiss:
            guard !note.isEmpty else { throw Self.reasonNeeded }
            alert.status = .dismissed
            alert.reason = note
        case .promote:
            guard let organisation, organisation.kind != .authority else {
                throw QilaError.invalid("a national campaign alert is promoted through its organisations' alerts", field: "action")
            }
            alert.status = .promoted
            alert.reason = note.isEmpty ? nil : note
        }
        alert.triagedBy = subject.user.id
        alert.triagedAt = now
        // Claim the alert before anything else: of two people (or nodes) triaging it at once, one wins.
        guard try await store.triageAlert(alert, expecting: original.status) else {
            throw QilaError(.conflict, "alert \(alert.id) was triaged meanwhile by someone else: reload it to see what was done")
        }
        if action == .promote, let organisation {
            let incident: IncidentCase
            do {
                incident = try await cases.openFromAlert(
                    alert, organisation: organisation, by: subject, gate: gate,
                    note: opening ?? "Opened by \(subject.user.displayName) (\(subject.organisation.name))", now: now)
            } catch {
                _ = try? await store.triageAlert(original, expecting: .promoted)
                throw error
            }
            var linked = alert
            linked.caseID = incident.id
            _ = try await store.triageAlert(linked, expecting: .promoted)
            alert = linked
            details = ["case": incident.id.description, "automatic": String(gate == nil)]
        }
        try await audit.append(
            AuditEntry(
                time: now, actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "alert.\(action.rawValue)",
                outcome: .success, resource: "alert:\(alert.id)", sourceAddress: source, details: details))
        return alert
    }

    /// Opens a case, in the authority's queue on behalf of the organisation, for every new alert at
    /// or above `minimum` whose last occurrence is at or after `since` (national campaign alerts
    /// are promoted through their organisations' alerts). Recorded under the automation account.
    /// Returns the cases opened.
    public func promoteAutomatically(atOrAbove minimum: SecurityAlert.Severity, since: Date, now: Date = Date()) async throws -> [IncidentCase] {
        let severities = SecurityAlert.Severity.allCases.filter { $0 >= minimum }
        let alerts = try await store.alerts(
            AlertFilter(statuses: [.new], kinds: [.rule, .indicator, .correlation, .anomaly], severities: severities, since: since, limit: 200))
        guard !alerts.isEmpty, let automation = try await cases.automationAccount() else { return [] }
        var opened: [IncidentCase] = []
        for alert in alerts.sorted(by: { $0.firstAt < $1.firstAt }) {
            guard let organisation = try await store.organisation(alert.organisation), organisation.kind != .authority,
                cases.regimes.defaultRegime(for: organisation.sector) != nil
            else { continue }
            let promoted: SecurityAlert
            do {
                promoted = try await apply(
                    .promote, to: alert, organisation: organisation, reason: "severity \(alert.severity.rawValue) is at or above \(minimum.rawValue)",
                    by: automation, gate: nil, source: nil, now: now, opening: "Opened automatically (at or above \(minimum.rawValue))")
            } catch let error as QilaError where error.code == .conflict {
                continue  // an analyst triaged it meanwhile
            }
            if let id = promoted.caseID, let incident = try await store.incident(id) { opened.append(incident) }
        }
        return opened
    }
}
