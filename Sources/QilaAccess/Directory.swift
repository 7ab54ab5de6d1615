public import Foundation
public import QilaCore
public import QilaStore

/// Registers organisations and accounts, checking what was asked and recording who did it.
///
/// Callers decide first whether the actor may act (the web layer asks the policy decision
/// point; the command line is the operator on the machine). This type checks what the policy
/// cannot: that the input is well formed and that nobody grants more than they hold.
public final class Directory: Sendable {
    public let store: any QilaRepositories
    public let audit: AuditLog

    public init(store: any QilaRepositories, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    public struct OrganisationInput: Sendable {
        public var name: String
        public var kind: Organisation.Kind
        public var sector: SectorID
        public var registrationNumber: String?
        public var criticality: Organisation.Criticality?
        public init(
            name: String, kind: Organisation.Kind, sector: SectorID, registrationNumber: String? = nil, criticality: Organisation.Criticality? = nil
        ) {
            self.name = name
            self.kind = kind
            self.sector = sector
            self.registrationNumber = registrationNumber
            self.criticality = criticality
        }
    }

    public func createOrganisation(_ input: OrganisationInput, by actor: Subject?) async throws -> Organisation {
        let organisation = Organisation(
            name: try Self.name(input.name, field: "name"), kind: input.kind, sector: input.sector,
            registrationNumber: try Self.optionalText(input.registrationNumber, field: "registrationNumber", max: 100), criticality: input.criticality)
        try await requireSector(input.sector)
        if input.kind == .authority, try await store.organisations().contains(where: { $0.kind == .authority }) {
            throw QilaError(.conflict, "there is already a national authority; there can be only one", at: "field kind")
        }
        do {
            try await store.createOrganisation(organisation)
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError(.conflict, "an organisation named '\(organisation.name)' already exists", at: "field name")
        }
        try await record("admin.organisation.create", actor, "organisation:\(organisation.id)", ["kind": input.kind.rawValue])
        return organisation
    }

    public func updateOrganisation(_ id: OrganisationID, _ input: OrganisationInput, by actor: Subject?) async throws -> Organisation {
        guard var organisation = try await store.organisation(id) else {
            throw QilaError(.notFound, "no organisation \(id)")
        }
        try await requireSector(input.sector)
        let changesStanding = input.kind != organisation.kind || input.sector != organisation.sector || input.criticality != organisation.criticality
        if changesStanding, let actor, !actor.effectiveRoles.contains(.authorityAdmin) {
            throw QilaError(.forbidden, "only the authority may change an organisation's kind, sector or criticality", at: "field kind")
        }
        if input.kind == .authority, organisation.kind != .authority {
            throw QilaError(.conflict, "there is already a national authority; there can be only one", at: "field kind")
        }
        organisation.name = try Self.name(input.name, field: "name")
        organisation.kind = input.kind
        organisation.sector = input.sector
        organisation.registrationNumber = try Self.optionalText(input.registrationNumber, field: "registrationNumber", max: 100)
        organisation.criticality = input.criticality
        do {
            try await store.updateOrganisation(organisation)
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError(.conflict, "an organisation named '\(organisation.name)' already exists", at: "field name")
        }
        try await record("admin.organisation.update", actor, "organisation:\(id)", [:])
        return organisation
    }

    public func createSector(_ sector: Sector, by actor: Subject?) async throws {
        guard sector.id.isWellFormed else {
            throw QilaError.invalid("use 2 to 40 lower-case letters, digits and hyphens, starting with a letter", field: "id")
        }
        let named = Sector(id: sector.id, name: try Self.name(sector.name, field: "name"))
        do {
            try await store.createSector(named)
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError(.conflict, "sector '\(sector.id)' already exists", at: "field id")
        }
        try await record("admin.sector.create", actor, "sector:\(sector.id)", [:])
    }

    public struct UserInput: Sendable {
        public var kind: User.Kind = .person
        public var username: String
        public var displayName: String
        public var email: String?
        public var roles: Set<Role>
        public var clearance: TLP = .green
        public var auditedOrganisations: Set<OrganisationID> = []
        public init(
            kind: User.Kind = .person, username: String, displayName: String, email: String? = nil, roles: Set<Role>,
            clearance: TLP = .green, auditedOrganisations: Set<OrganisationID> = []
        ) {
            self.kind = kind
            self.username = username
            self.displayName = displayName
            self.email = email
            self.roles = roles
            self.clearance = clearance
            self.auditedOrganisations = auditedOrganisations
        }
    }

    public func createUser(_ input: UserInput, in organisationID: OrganisationID, by actor: Subject?) async throws -> User {
        guard let organisation = try await store.organisation(organisationID) else {
            throw QilaError(.notFound, "no organisation \(organisationID)")
        }
        let username = try Self.username(input.username)
        try checkGrant(roles: input.roles, clearance: input.clearance, in: organisation, by: actor)
        try await checkAudited(input.auditedOrganisations, roles: input.roles)
        let user = User(
            organisation: organisation.id, kind: input.kind, username: username,
            displayName: try Self.name(input.displayName, field: "displayName"),
            email: try Self.email(input.email), roles: input.roles, clearance: input.clearance,
            auditedOrganisations: input.auditedOrganisations)
        do {
            try await store.createUser(user, credentials: UserCredentials())
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError(.conflict, "the username '\(username)' is taken", at: "field username")
        }
        try await record(
            "admin.user.create", actor, "user:\(user.id)",
            ["roles": user.roles.map(\.rawValue).sorted().joined(separator: ","), "clearance": user.clearance.rawValue])
        return user
    }

    public struct UserUpdate: Sendable {
        public var displayName: String?
        public var email: String??
        public var roles: Set<Role>?
        public var clearance: TLP?
        public var auditedOrganisations: Set<OrganisationID>?
        public var disabled: Bool?
        public init(
            displayName: String? = nil, email: String?? = nil, roles: Set<Role>? = nil, clearance: TLP? = nil,
            auditedOrganisations: Set<OrganisationID>? = nil, disabled: Bool? = nil
        ) {
            self.displayName = displayName
            self.email = email
            self.roles = roles
            self.clearance = clearance
            self.auditedOrganisations = auditedOrganisations
            self.disabled = disabled
        }
    }

    /// The settings key of a person's chosen display time zone.
    public static func timeZoneKey(_ user: UserID) -> String { "display.timeZone.user:\(user)" }

    /// The IANA time zone a person wants times shown in; nil when they have not chosen one.
    public func displayTimeZone(of user: UserID) async throws -> String? {
        try await store.setting(Self.timeZoneKey(user))
    }

    /// Records the time zone the subject wants pages to show times in (an IANA name).
    public func setDisplayTimeZone(_ identifier: String, for subject: Subject) async throws {
        let name = identifier.trimmingCharacters(in: .whitespaces)
        guard TimeZone(identifier: name) != nil else {
            throw QilaError.invalid("'\(name.prefix(60))' is not a time zone: choose one from the list", field: "timeZone")
        }
        try await store.setSetting(Self.timeZoneKey(subject.user.id), name)
        try await audit.recordChange(by: subject, "profile.time-zone", resource: "user:\(subject.user.id)", source: nil, details: ["timeZone": name])
    }

    public func updateUser(_ id: UserID, _ update: UserUpdate, by actor: Subject?) async throws -> User {
        guard var user = try await store.user(id), let organisation = try await store.organisation(user.organisation) else {
            throw QilaError(.notFound, "no user \(id)")
        }
        var changed: [String: String] = [:]
        if let displayName = update.displayName { user.displayName = try Self.name(displayName, field: "displayName") }
        if let email = update.email { user.email = try Self.email(email) }
        if update.roles != nil || update.clearance != nil {
            let roles = update.roles ?? user.roles
            let clearance = update.clearance ?? user.clearance
            try checkGrant(roles: roles, clearance: clearance, in: organisation, by: actor)
            if let actor, actor.user.id == user.id, roles != user.roles || clearance > user.clearance {
                throw QilaError(.forbidden, "you cannot change your own roles or raise your own clearance", at: "field roles")
            }
            if roles != user.roles { changed["roles"] = roles.map(\.rawValue).sorted().joined(separator: ",") }
            if clearance != user.clearance { changed["clearance"] = clearance.rawValue }
            user.roles = roles
            user.clearance = clearance
        }
        if let audited = update.auditedOrganisations {
            try await checkAudited(audited, roles: user.roles)
            user.auditedOrganisations = audited
            changed["audited"] = String(audited.count)
        }
        if let disabled = update.disabled {
            if let actor, actor.user.id == user.id, disabled {
                throw QilaError(.forbidden, "you cannot disable your own account", at: "field disabled")
            }
            user.disabled = disabled
            changed["disabled"] = String(disabled)
        }
        try await store.updateUser(user)
        if user.disabled { try await store.deleteSessions(of: user.id, except: nil) }
        try await record("admin.user.update", actor, "user:\(user.id)", changed)
        return user
    }

    /// The roles `actor` may grant to an account of `organisation`, in the order forms list them:
    /// the roles its kind of organisation can hold, and outside the authority's administrators
    /// only an organisation's own (administrator, reporter, auditor).
    public static func grantableRoles(by actor: Subject, in organisation: Organisation) -> [Role] {
        Role.allCases.filter { role in
            (try? check([role], in: organisation)) != nil
                && (actor.effectiveRoles.contains(.authorityAdmin) || [.organisationAdmin, .organisationReporter, .auditor].contains(role))
        }
    }

    /// Where each role may exist: authority roles inside the authority, a sector regulator's in a
    /// regulator (or the authority).
    static func check(_ roles: Set<Role>, in organisation: Organisation) throws {
        let authorityOnly: Set<Role> = [.authorityAdmin, .authorityAnalyst, .investigator, .oversightViewer]
        if organisation.kind != .authority, let role = roles.first(where: authorityOnly.contains) {
            throw QilaError(.invalidInput, "the role \(role.rawValue) exists only in the national authority", at: "field roles")
        }
        if roles.contains(.sectorRegulator), organisation.kind != .sectorRegulator, organisation.kind != .authority {
            throw QilaError(.invalidInput, "the role sector-regulator needs a sector regulator organisation", at: "field roles")
        }
        if roles.contains(.vendorContact), organisation.kind != .vendor {
            throw QilaError(.invalidInput, "the role vendor-contact needs a vendor organisation", at: "field roles")
        }
        if organisation.kind == .vendor, let role = roles.first(where: { $0 != .vendorContact }) {
            throw QilaError(.invalidInput, "a vendor's accounts hold only the role vendor-contact, not \(role.rawValue)", at: "field roles")
        }
    }

    /// Nobody grants a role they could not hold, or a clearance above their own; authority
    /// roles exist only inside the authority.
    func checkGrant(roles: Set<Role>, clearance: TLP, in organisation: Organisation, by actor: Subject?) throws {
        try Self.check(roles, in: organisation)
        guard let actor else { return }
        if clearance > actor.user.clearance {
            throw QilaError(.forbidden, "you cannot grant a clearance above your own (\(actor.user.clearance.rawValue))", at: "field clearance")
        }
        if !actor.effectiveRoles.contains(.authorityAdmin) {
            let grantable: Set<Role> = [.organisationAdmin, .organisationReporter, .auditor]
            if let role = roles.first(where: { !grantable.contains($0) }) {
                throw QilaError(.forbidden, "only the authority may grant the role \(role.rawValue)", at: "field roles")
            }
        }
    }

    func checkAudited(_ audited: Set<OrganisationID>, roles: Set<Role>) async throws {
        guard !audited.isEmpty else { return }
        guard roles.contains(.auditor) else {
            throw QilaError(.invalidInput, "only auditors have audited organisations", at: "field auditedOrganisations")
        }
        for id in audited where try await store.organisation(id) == nil {
            throw QilaError(.invalidInput, "no organisation \(id)", at: "field auditedOrganisations")
        }
    }

    func requireSector(_ sector: SectorID) async throws {
        guard try await store.sectors().contains(where: { $0.id == sector }) else {
            let known = try await store.sectors().map(\.id.rawValue).joined(separator: ", ")
            throw QilaError(.invalidInput, "unknown sector '\(sector)'; known sectors: \(known)", at: "field sector")
        }
    }

    func record(_ action: String, _ actor: Subject?, _ resource: String, _ details: [String: String]) async throws {
        try await audit.append(
            AuditEntry(
                time: Date(), actor: actor?.user.id.description ?? "system", actorOrganisation: actor?.organisation.id,
                action: action, outcome: .success, resource: resource, details: details))
    }

    // MARK: input rules

    static func name(_ text: String, field: String) throws -> String {
        let trimmed = text.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (2...200).contains(trimmed.count) else {
            throw QilaError.invalid("must be 2 to 200 characters, not \(trimmed.count)", field: field)
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw QilaError.invalid("must not contain control characters", field: field)
        }
        return trimmed
    }

    static func optionalText(_ text: String?, field: String, max: Int) throws -> String? {
        guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        guard trimmed.count <= max else { throw QilaError.invalid("must be at most \(max) characters", field: field) }
        return trimmed
    }

    static func username(_ text: String) throws -> String {
        let trimmed = text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-_@"))
        guard (2...100).contains(trimmed.count), trimmed.unicodeScalars.allSatisfy(allowed.contains) else {
            throw QilaError.invalid("use 2 to 100 letters, digits and . - _ @", field: "username")
        }
        return trimmed
    }

    public static func email(_ text: String?) throws -> String? {
        guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), trimmed.count <= 254,
            !trimmed.contains(where: \.isWhitespace)
        else { throw QilaError.invalid("'\(trimmed)' is not an email address", field: "email") }
        return trimmed
    }
}
