import Foundation
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaStore

/// The REST API of `openapi.yaml`. Every operation establishes the subject, asks the policy
/// enforcement point, and only then touches the store.
struct QilaAPI: APIProtocol {
    let installation: Installation
    let enforcement: PolicyEnforcementPoint
    let cases: CaseRuntime
    let campaigns: CampaignDesk

    var store: SQLStore { installation.store }

    /// The caller, or 401. (The authentication middleware already refuses anonymous API calls;
    /// this keeps the handlers safe if they are ever mounted elsewhere.)
    func caller() throws -> (Subject, Authenticator.Principal, String?) {
        guard let principal = RequestScope.current.principal else { throw Problem.unauthenticated }
        return (principal.subject(), principal, RequestScope.current.source)
    }

    func require(_ action: Action, _ resource: Resource) async throws -> Subject {
        let (subject, _, source) = try caller()
        return try await enforcement.require(subject, action, resource, source: source)
    }

    func organisation(_ id: OrganisationID) async throws -> Organisation {
        guard let organisation = try await store.organisation(id) else { throw Problem(.notFound, "no such organisation") }
        return organisation
    }

    func userAndOrganisation(_ id: UserID) async throws -> (User, Organisation) {
        guard let user = try await store.user(id), let organisation = try await store.organisation(user.organisation) else {
            throw Problem(.notFound, "no such user")
        }
        return (user, organisation)
    }

    func schema(_ user: User) async throws -> Components.Schemas.User {
        .init(user, mfaEnabled: try await store.credentials(of: user.id)?.mfaEnabled ?? false)
    }

    // MARK: identity

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let (subject, principal, _) = try caller()
        try await enforcement.require(subject, .read, .user(subject.user, in: subject.organisation), source: nil)
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: try await schema(subject.user), organisation: .init(subject.organisation),
                        roles: subject.effectiveRoles.sorted().map { .init(rawValue: $0.rawValue)! },
                        clearance: .init(rawValue: subject.user.clearance.rawValue)!,
                        method: .init(rawValue: subject.method.rawValue)!,
                        scopes: principal.token?.scopes.sorted().map(\.rawValue)))))
    }

    // MARK: sectors and organisations

    func listSectors(_ input: Operations.ListSectors.Input) async throws -> Operations.ListSectors.Output {
        _ = try await require(.read, Resource(kind: .sector))
        return .ok(.init(body: .json(try await store.sectors().map { .init(id: $0.id.rawValue, name: $0.name) })))
    }

    func createSector(_ input: Operations.CreateSector.Input) async throws -> Operations.CreateSector.Output {
        let subject = try await require(.create, Resource(kind: .sector))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        try await installation.directory.createSector(Sector(id: SectorID(rawValue: body.id), name: body.name), by: subject)
        return .created(.init(body: .json(body)))
    }

    func listOrganisations(_ input: Operations.ListOrganisations.Input) async throws -> Operations.ListOrganisations.Output {
        let (subject, _, _) = try caller()
        let visible = try await store.organisations().filter { enforcement.permits(subject, .read, .organisation($0)) }
        return .ok(.init(body: .json(visible.map(Components.Schemas.Organisation.init))))
    }

    func createOrganisation(_ input: Operations.CreateOrganisation.Input) async throws -> Operations.CreateOrganisation.Output {
        let subject = try await require(.create, Resource(kind: .organisation, reference: "organisation:new"))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let created = try await installation.directory.createOrganisation(.init(body), by: subject)
        return .created(.init(body: .json(.init(created))))
    }

    func getOrganisation(_ input: Operations.GetOrganisation.Input) async throws -> Operations.GetOrganisation.Output {
        let organisation = try await organisation(try Parse.organisation(input.path.organisationId))
        _ = try await require(.read, .organisation(organisation))
        return .ok(.init(body: .json(.init(organisation))))
    }

    func updateOrganisation(_ input: Operations.UpdateOrganisation.Input) async throws -> Operations.UpdateOrganisation.Output {
        let existing = try await organisation(try Parse.organisation(input.path.organisationId))
        let subject = try await require(.update, .organisation(existing))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        var change = Directory.OrganisationInput(body)
        // A body without a criticality leaves the class as it is.
        if body.criticality == nil { change.criticality = existing.criticality }
        let updated = try await installation.directory.updateOrganisation(existing.id, change, by: subject)
        return .ok(.init(body: .json(.init(updated))))
    }

    // MARK: users

    func listOrganisationUsers(_ input: Operations.ListOrganisationUsers.Input) async throws -> Operations.ListOrganisationUsers.Output {
        let organisation = try await organisation(try Parse.organisation(input.path.organisationId))
        let (subject, _, source) = try caller()
        // Reading the list is reading the organisation's users: the same rule as for one user.
        try await enforcement.require(
            subject, .read, Resource(kind: .user, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/users"),
            source: source)
        var users: [Components.Schemas.User] = []
        for user in try await store.users(in: organisation.id) { users.append(try await schema(user)) }
        return .ok(.init(body: .json(users)))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        let organisation = try await organisation(try Parse.organisation(input.path.organisationId))
        let subject = try await require(
            .create, Resource(kind: .user, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/users"))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let roles = Parse.roles(body.roles)
        if !roles.isEmpty || body.clearance != nil {
            // Granting roles is administering: it needs a fresh second factor.
            try await enforcement.require(
                subject, .administer, Resource(kind: .user, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/users"),
                source: RequestScope.current.source)
        }
        let user = try await installation.directory.createUser(
            .init(
                kind: User.Kind(rawValue: body.kind?.rawValue ?? "person") ?? .person, username: body.username,
                displayName: body.displayName, email: body.email, roles: roles, clearance: Parse.clearance(body.clearance) ?? .green,
                auditedOrganisations: try Parse.organisations(body.auditedOrganisations, field: "auditedOrganisations") ?? []),
            in: organisation.id, by: subject)
        if let password = body.password {
            try await installation.authenticator.setPassword(password, for: user, organisationName: organisation.name)
        }
        return .created(.init(body: .json(try await schema(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let (user, organisation) = try await userAndOrganisation(try Parse.user(input.path.userId))
        _ = try await require(.read, .user(user, in: organisation))
        return .ok(.init(body: .json(try await schema(user))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let (user, organisation) = try await userAndOrganisation(try Parse.user(input.path.userId))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let grants = body.roles != nil || body.clearance != nil || body.auditedOrganisations != nil || body.disabled != nil
        let subject = try await require(grants ? .administer : .update, .user(user, in: organisation))
        let updated = try await installation.directory.updateUser(
            user.id,
            .init(
                displayName: body.displayName, email: body.email.map { Optional($0) }, roles: body.roles.map(Parse.roles),
                clearance: Parse.clearance(body.clearance),
                auditedOrganisations: try Parse.organisations(body.auditedOrganisations, field: "auditedOrganisations"),
                disabled: body.disabled),
            by: subject)
        return .ok(.init(body: .json(try await schema(updated))))
    }

    // MARK: tokens

    func tokenResource(_ user: User, _ organisation: Organisation) -> Resource {
        Resource(kind: .apiToken, owner: organisation.id, sector: organisation.sector, person: user.id, reference: "user:\(user.id)/tokens")
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let (user, organisation) = try await userAndOrganisation(try Parse.user(input.path.userId))
        _ = try await require(.read, tokenResource(user, organisation))
        return .ok(.init(body: .json(try await store.tokens(of: user.id).map(Components.Schemas.APIToken.init))))
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        let (user, organisation) = try await userAndOrganisation(try Parse.user(input.path.userId))
        let subject = try await require(.create, tokenResource(user, organisation))
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        if subject.user.kind == .service {
            throw Problem(.forbidden, "service accounts cannot issue tokens; an administrator issues them")
        }
        if user.id != subject.user.id && user.kind != .service {
            throw Problem(.forbidden, "tokens may be issued for your own account or for service accounts only")
        }
        let scopes = Set(body.scopes.compactMap { TokenScope(rawValue: $0.rawValue) })
        let issued = try await installation.authenticator.issueToken(
            for: user, name: body.name, scopes: scopes, days: body.expiresInDays ?? 90, by: subject)
        return .created(.init(body: .json(.init(token: .init(issued.token), secret: issued.secret))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let (user, organisation) = try await userAndOrganisation(try Parse.user(input.path.userId))
        let subject = try await require(.delete, tokenResource(user, organisation))
        guard let tokenID = APITokenID(input.path.tokenId) else { throw Problem(.notFound, "no such token") }
        _ = try await installation.authenticator.revokeToken(tokenID, of: user.id, by: subject, source: RequestScope.current.source)
        return .noContent(.init())
    }

    // MARK: audit

    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let subject = try await require(.read, Resource(kind: .auditLog))
        let limit = try Self.limit(input.query.limit)
        if let from = input.query.from, from < 0 {
            throw Problem(.badRequest, "from must be 0 or more, not \(from)", location: "query from", type: .invalidInput)
        }
        let entries = try await installation.audit.read(
            from: input.query.from ?? 0, limit: limit, actionPrefix: input.query.action, by: subject, source: RequestScope.current.source)
        return .ok(.init(body: .json(entries.map(Components.Schemas.AuditEntry.init))))
    }

    func getTreeHead(_ input: Operations.GetTreeHead.Input) async throws -> Operations.GetTreeHead.Output {
        _ = try await require(.read, Resource(kind: .auditLog))
        try await installation.audit.signTreeHead()
        guard let head = try await store.latestTreeHead() else { throw Problem(.notFound, "the audit log is empty") }
        return .ok(
            .init(
                body: .json(
                    .init(
                        treeSize: head.treeSize, rootHash: head.rootHash, time: head.time, ed25519Signature: head.ed25519Signature,
                        mldsa65Signature: head.mldsa65Signature,
                        ed25519PublicKey: installation.audit.ed25519PublicKey.rawRepresentation.base64EncodedString(),
                        mldsa65PublicKey: installation.audit.mldsa65PublicKey.rawRepresentation.base64EncodedString()))))
    }

    func getInclusionProof(_ input: Operations.GetInclusionProof.Input) async throws -> Operations.GetInclusionProof.Output {
        _ = try await require(.read, Resource(kind: .auditLog))
        let proof = try await AuditVerifier.inclusionProof(store: store, index: input.query.index, treeSize: input.query.treeSize)
        return .ok(
            .init(
                body: .json(
                    .init(
                        index: input.query.index, treeSize: input.query.treeSize, leafHash: Hex.encode(proof.leaf),
                        rootHash: Hex.encode(proof.root), hashes: proof.proof.map { Hex.encode($0) }))))
    }

    func getConsistencyProof(_ input: Operations.GetConsistencyProof.Input) async throws -> Operations.GetConsistencyProof.Output {
        _ = try await require(.read, Resource(kind: .auditLog))
        let proof = try await AuditVerifier.consistencyProof(store: store, from: input.query.from, to: input.query.to)
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: input.query.from, treeSize: input.query.to, rootHash: Hex.encode(proof.toRoot),
                        hashes: proof.proof.map { Hex.encode($0) }))))
    }
}
