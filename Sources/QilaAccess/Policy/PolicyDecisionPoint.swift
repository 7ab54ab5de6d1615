public import Foundation
public import QilaCore

/// A policy decision: allowed, or denied with a reason that is safe to show and to audit.
public struct Decision: Sendable, Hashable {
    public enum Denial: String, Sendable, Hashable {
        case noGrant = "no-grant"
        case outsideReach = "outside-reach"
        case clearance
        case tokenScope = "token-scope"
        case staleMFA = "stale-mfa"
        case disabled
    }

    public var allowed: Bool
    public var denial: Denial?
    public var reason: String

    public static func allow(_ reason: String) -> Decision { Decision(allowed: true, denial: nil, reason: reason) }
    public static func deny(_ denial: Denial, _ reason: String) -> Decision {
        Decision(allowed: false, denial: denial, reason: reason)
    }
}

/// The one place where access is decided. Default deny: a request is allowed only when a rule
/// of `Policy` grants it and every global condition holds.
public struct PolicyDecisionPoint: Sendable {
    public var rules: [Policy.Rule]

    public init(rules: [Policy.Rule] = Policy.rules) {
        self.rules = rules
    }

    public func decide(_ subject: Subject, _ action: Action, _ resource: Resource, at now: Date = Date()) -> Decision {
        if subject.user.disabled {
            return .deny(.disabled, "the account is disabled")
        }
        let roles = subject.effectiveRoles
        let candidates = rules.filter { rule in
            rule.kind == resource.kind && rule.actions.contains(action) && (rule.role.map(roles.contains) ?? true)
        }
        guard !candidates.isEmpty else {
            return .deny(.noGrant, "no role of the subject may \(action.rawValue) \(resource.kind.rawValue)")
        }
        guard let rule = candidates.first(where: { reaches($0.reach, subject, resource) }) else {
            return .deny(.outsideReach, "\(resource.reference) is outside what the subject's roles reach")
        }
        if let marking = resource.tlp, marking > subject.user.clearance {
            return .deny(.clearance, "\(resource.reference) is \(marking.rawValue), above the clearance \(subject.user.clearance.rawValue)")
        }
        let scope = resource.kind == .telemetry && action == .create ? TokenScope.ingest : action.requiredScope
        if let scopes = subject.tokenScopes, !scopes.contains(scope) {
            return .deny(.tokenScope, "the API token lacks the \(scope.rawValue) scope")
        }
        if resource.kind.needsSecondFactor(for: action) {
            // TOTP checked in a signed-in session: tokens and certificates alone never suffice here.
            let session = subject.method == .password || subject.method == .passwordAndTOTP
            if !session || Policy.freshSecondFactor(of: subject, at: now) == nil {
                return .deny(.staleMFA, "\(resource.kind.rawValue) needs a second factor checked in the last 15 minutes")
            }
        } else if action.isSensitive, Policy.freshSecondFactor(of: subject, at: now) == nil {
            return .deny(.staleMFA, "\(action.rawValue) needs a second factor checked in the last 15 minutes")
        }
        return .allow("\(rule.role?.rawValue ?? "everyone") may \(action.rawValue) \(resource.kind.rawValue) (\(rule.reach.rawValue))")
    }

    func reaches(_ reach: Policy.Reach, _ subject: Subject, _ resource: Resource) -> Bool {
        switch reach {
        case .all:
            return true
        case .installation:
            return resource.owner == nil
        case .self:
            return resource.person == subject.user.id
        case .ownOrganisation:
            return resource.owner == subject.organisation.id
        case .sector:
            guard let owner = resource.owner else { return false }
            return owner == subject.organisation.id || resource.sector == subject.organisation.sector
        case .national:
            return resource.owner == nil && resource.sector == nil && resource.audience == nil
        case .ownSector:
            return resource.owner == nil && resource.audience == nil && resource.sector == subject.organisation.sector
        case .audience:
            return resource.owner == nil && resource.audience?.contains(subject.organisation.id) == true
        case .audited:
            guard let owner = resource.owner else { return false }
            return owner == subject.organisation.id || subject.user.auditedOrganisations.contains(owner)
        }
    }
}
