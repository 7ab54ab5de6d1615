import Foundation
import QilaAccess
import QilaCore

extension Components.Schemas.Organisation {
    init(_ organisation: Organisation) {
        self.init(
            id: organisation.id.description, name: organisation.name,
            kind: .init(rawValue: organisation.kind.rawValue)!, sector: organisation.sector.rawValue,
            registrationNumber: organisation.registrationNumber, criticality: organisation.criticality.flatMap { .init(rawValue: $0.rawValue) },
            createdAt: organisation.createdAt)
    }
}

extension Components.Schemas.User {
    init(_ user: User, mfaEnabled: Bool) {
        self.init(
            id: user.id.description, organisation: user.organisation.description,
            kind: .init(rawValue: user.kind.rawValue)!, username: user.username, displayName: user.displayName,
            email: user.email, roles: user.roles.sorted().map { .init(rawValue: $0.rawValue)! },
            clearance: .init(rawValue: user.clearance.rawValue)!,
            auditedOrganisations: user.auditedOrganisations.sorted().map(\.description), disabled: user.disabled,
            mfaEnabled: mfaEnabled, createdAt: user.createdAt)
    }
}

extension Components.Schemas.APIToken {
    init(_ token: APIToken) {
        self.init(
            id: token.id.description, name: token.name, prefix: token.prefix,
            scopes: token.scopes.sorted().map { .init(rawValue: $0.rawValue)! }, createdAt: token.createdAt,
            expiresAt: token.expiresAt, revokedAt: token.revokedAt, lastUsedAt: token.lastUsedAt)
    }
}

extension Components.Schemas.AuditEntry {
    init(_ entry: AuditEntry) {
        self.init(
            index: entry.index, time: entry.time, actor: entry.actor, actorOrganisation: entry.actorOrganisation?.description,
            action: entry.action, outcome: .init(rawValue: entry.outcome.rawValue)!, resource: entry.resource,
            sourceAddress: entry.sourceAddress,
            details: entry.details.isEmpty ? nil : .init(additionalProperties: entry.details),
            leafHash: Hex.encode(MerkleTree.leafHash(entry.canonicalBytes)))
    }
}

extension Directory.OrganisationInput {
    init(_ body: Components.Schemas.OrganisationInput) {
        self.init(
            name: body.name, kind: Organisation.Kind(rawValue: body.kind.rawValue)!, sector: SectorID(rawValue: body.sector),
            registrationNumber: body.registrationNumber, criticality: body.criticality.flatMap { Organisation.Criticality(rawValue: $0.rawValue) })
    }
}

/// Parses identifiers from paths and bodies, naming the place when they are malformed.
enum Parse {
    static func organisation(_ text: String, at place: String = "path organisationId") throws -> OrganisationID {
        guard let id = OrganisationID(text) else { throw Problem(.badRequest, "'\(text)' is not an organisation id (a UUID)", location: place) }
        return id
    }

    static func user(_ text: String, at place: String = "path userId") throws -> UserID {
        guard let id = UserID(text) else { throw Problem(.badRequest, "'\(text)' is not a user id (a UUID)", location: place) }
        return id
    }

    static func roles(_ values: [Components.Schemas.Role]) -> Set<Role> {
        Set(values.compactMap { Role(rawValue: $0.rawValue) })
    }

    static func clearance(_ value: Components.Schemas.Tlp?) -> TLP? {
        value.flatMap { TLP(rawValue: $0.rawValue) }
    }

    static func organisations(_ values: [String]?, field: String) throws -> Set<OrganisationID>? {
        guard let values else { return nil }
        return Set(try values.map { try organisation($0, at: "field \(field)") })
    }
}
