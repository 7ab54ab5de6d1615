import Foundation
import QilaAccess
import QilaCore
import QilaStore

/// A small world of tenants for access tests: the authority, a telecom regulator, two telecom
/// operators, a bank, and an audit firm that audits the first operator.
public struct TenantWorld: Sendable {
    public var installation: Installation
    public var authority: Organisation
    public var regulator: Organisation
    public var operatorA: Organisation
    public var operatorB: Organisation
    public var bank: Organisation
    public var auditFirm: Organisation
    public var users: [String: User]

    public static let password = "correct mango telescope quietly"

    public static func make(on backend: TestBackend) async throws -> TenantWorld {
        let installation = try await backend.makeInstallation()
        let directory = installation.directory
        func organisation(_ name: String, _ kind: Organisation.Kind, _ sector: SectorID) async throws -> Organisation {
            try await directory.createOrganisation(.init(name: name, kind: kind, sector: sector), by: nil)
        }
        let authority = try await organisation("National Cybersecurity Authority", .authority, "government")
        let regulator = try await organisation("Telecom Regulator", .sectorRegulator, "telecom")
        let operatorA = try await organisation("Operator A", .licensee, "telecom")
        let operatorB = try await organisation("Operator B", .licensee, "telecom")
        let bank = try await organisation("First Bank", .bank, "banking-finance")
        let auditFirm = try await organisation("Audit Firm", .other, "it-services")
        var users: [String: User] = [:]
        func user(_ name: String, _ organisation: Organisation, _ roles: Set<Role>, clearance: TLP = .amber,
                  audited: Set<OrganisationID> = [], kind: User.Kind = .person) async throws {
            let created = try await directory.createUser(
                .init(kind: kind, username: name, displayName: name.capitalized, roles: roles, clearance: clearance,
                      auditedOrganisations: audited),
                in: organisation.id, by: nil)
            if kind == .person {
                try await installation.authenticator.setPassword(password, for: created)
            }
            users[name] = created
        }
        try await user("admin", authority, [.authorityAdmin], clearance: .red)
        try await user("analyst", authority, [.authorityAnalyst], clearance: .amberStrict)
        try await user("overseer", authority, [.oversightViewer])
        try await user("investigator", authority, [.investigator])
        try await user("regulator", regulator, [.sectorRegulator])
        try await user("a-admin", operatorA, [.organisationAdmin])
        try await user("a-reporter", operatorA, [.organisationReporter], clearance: .green)
        try await user("a-sensor", operatorA, [.organisationReporter], kind: .service)
        try await user("a-legal", operatorA, [.legalOfficer])
        try await user("b-admin", operatorB, [.organisationAdmin])
        try await user("b-reporter", operatorB, [.organisationReporter])
        try await user("bank-admin", bank, [.organisationAdmin])
        try await user("auditor", auditFirm, [.auditor], audited: [operatorA.id])
        return TenantWorld(
            installation: installation, authority: authority, regulator: regulator, operatorA: operatorA,
            operatorB: operatorB, bank: bank, auditFirm: auditFirm, users: users)
    }

    public func organisation(of user: User) -> Organisation {
        [authority, regulator, operatorA, operatorB, bank, auditFirm].first { $0.id == user.organisation }!
    }

    /// The subject a user would be after signing in with a second factor just now.
    public func subject(_ name: String, now: Date = Date()) -> Subject {
        let user = users[name]!
        return Subject(
            user: user, organisation: organisation(of: user), method: .passwordAndTOTP, authenticatedAt: now, mfaAt: now)
    }
}
