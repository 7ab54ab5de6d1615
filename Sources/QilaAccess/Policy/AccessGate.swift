public import Foundation
public import QilaCore

/// Decides whether a subject may act, and records a refusal. The web layer passes its policy
/// enforcement point; the command line passes `DecisionGate`.
public protocol AccessGate: Sendable {
    func require(_ subject: Subject, _ action: Action, _ resource: Resource) async throws
}

/// The policy decision point, with every denial recorded in the audit log.
public struct DecisionGate: AccessGate {
    let policy: PolicyDecisionPoint
    let audit: AuditLog

    public init(policy: PolicyDecisionPoint, audit: AuditLog) {
        self.policy = policy
        self.audit = audit
    }

    public func require(_ subject: Subject, _ action: Action, _ resource: Resource) async throws {
        let decision = policy.decide(subject, action, resource)
        guard decision.allowed else {
            try await audit.append(
                AuditEntry(
                    time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "policy.deny",
                    outcome: .denied, resource: resource.reference,
                    details: ["action": action.rawValue, "reason": decision.denial?.rawValue ?? "denied"]))
            throw QilaError(.forbidden, decision.reason)
        }
    }
}
