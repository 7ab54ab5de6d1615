import Foundation
import Metrics
import QilaAccess
import QilaCore

/// The one gate every route passes: it asks the policy decision point, records every denial
/// (and every cross-tenant access) in the audit log, and turns a denial into an answer that
/// does not reveal what exists in other tenants.
struct PolicyEnforcementPoint: Sendable {
    let policy: PolicyDecisionPoint
    let audit: AuditLog
    /// Only for measuring the cost of the checks (`qila serve --benchmark-unsafe-skip-policy`).
    let skipForBenchmark: Bool
    /// Only for measuring the cost of auditing reads (`--benchmark-unsafe-skip-read-audit`).
    var auditReads = true

    @discardableResult
    func require(_ subject: Subject, _ action: Action, _ resource: Resource, source: String?) async throws -> Subject {
        if skipForBenchmark { return subject }
        let decision = policy.decide(subject, action, resource)
        guard decision.allowed else {
            Counter(label: "qila_policy_denials_total", dimensions: [("reason", decision.denial?.rawValue ?? "denied")]).increment()
            try await audit.append(
                AuditEntry(
                    time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id,
                    action: "policy.deny", outcome: .denied, resource: resource.reference, sourceAddress: source,
                    details: ["action": action.rawValue, "reason": decision.denial?.rawValue ?? "denied"]))
            if decision.denial != .staleMFA, isHidden(resource, from: subject, action: action) {
                // Other tenants' things are not there, as far as this subject can tell: the same
                // answer as for an id that names nothing.
                throw Problem(.notFound, "no such \(Self.thing(resource))")
            }
            switch decision.denial {
            case .staleMFA:
                throw Problem(
                    .forbidden, "this needs a second factor checked in the last 15 minutes: re-authenticate at /reauthenticate",
                    type: .reauthenticate)
            default:
                throw Problem(.forbidden, decision.reason)
            }
        }
        if auditReads, let owner = resource.owner, owner != subject.organisation.id, action == .read {
            try await audit.append(
                AuditEntry(
                    time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id,
                    action: "data.read.cross-tenant", outcome: .success, resource: resource.reference, sourceAddress: source))
        }
        return subject
    }

    /// Whether the resource belongs to another organisation that the subject may not even read:
    /// then a refusal must not confirm that it exists.
    func isHidden(_ resource: Resource, from subject: Subject, action: Action) -> Bool {
        guard let owner = resource.owner, owner != subject.organisation.id else { return false }
        if action == .read { return true }
        var reader = subject
        reader.tokenScopes = nil
        return !policy.decide(reader, .read, resource).allowed
    }

    /// What a path names, as its not-found answer says it: `organisation` for
    /// `organisation:<id>/users`, else the resource's kind.
    static func thing(_ resource: Resource) -> String {
        var kind = resource.kind
        if let colon = resource.reference.firstIndex(of: ":"), let named = Resource.Kind(rawValue: String(resource.reference[..<colon])) {
            kind = named
        }
        // As the handlers name them when an id is unknown.
        switch kind {
        case .incident, .incidentInternal: return "case"
        case .complianceNotice: return "notice"
        case .flowSource: return "flow source"
        case .apiToken: return "token"
        default: return kind.rawValue
        }
    }

    /// True when the subject may; records nothing. For showing or hiding buttons, never for access.
    func permits(_ subject: Subject, _ action: Action, _ resource: Resource) -> Bool {
        skipForBenchmark || policy.decide(subject, action, resource).allowed
    }
}
