public import Foundation

public typealias UserID = Identifier<User>

/// A person or a service account of an organisation.
///
/// Credentials (password hash, TOTP secret) are kept apart in `UserCredentials` so that a
/// `User` can be shown, logged by id and passed around without carrying secrets.
public struct User: Sendable, Codable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Codable {
        /// A person who signs in with a password and, usually, TOTP.
        case person
        /// A sensor, script or partner system that authenticates with API tokens or a client certificate.
        case service
    }

    public var id: UserID
    public var organisation: OrganisationID
    public var kind: Kind
    /// Sign-in name, unique across Qila, compared case-insensitively.
    public var username: String
    public var displayName: String
    public var email: String?
    public var roles: Set<Role>
    /// The most restricted TLP marking this user may read.
    public var clearance: TLP
    /// For auditors: the organisations they audit, and may read and report for.
    public var auditedOrganisations: Set<OrganisationID>
    public var disabled: Bool
    public var createdAt: Date

    public init(
        id: UserID = UserID(),
        organisation: OrganisationID,
        kind: Kind = .person,
        username: String,
        displayName: String,
        email: String? = nil,
        roles: Set<Role>,
        clearance: TLP = .green,
        auditedOrganisations: Set<OrganisationID> = [],
        disabled: Bool = false,
        createdAt: Date = Date()
    ) {
        self.id = id
        self.organisation = organisation
        self.kind = kind
        self.username = username
        self.displayName = displayName
        self.email = email
        self.roles = roles
        self.clearance = clearance
        self.auditedOrganisations = auditedOrganisations
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// A user's secrets as stored: never returned by the API, never logged.
public struct UserCredentials: Sendable, Hashable {
    /// PHC-style encoded PBKDF2 hash, or nil for service accounts and users yet to set one.
    public var passwordHash: String?
    public var passwordChangedAt: Date?
    /// The TOTP shared secret, sealed with the server key; nil until enrolment is confirmed.
    public var totpSecretSealed: [UInt8]?
    public var totpEnabledAt: Date?
    /// The last TOTP time step accepted, so that a code cannot be used twice.
    public var totpLastStep: Int64?
    /// SHA-256 hashes of unused recovery codes.
    public var recoveryCodeHashes: [String]

    public init(
        passwordHash: String? = nil,
        passwordChangedAt: Date? = nil,
        totpSecretSealed: [UInt8]? = nil,
        totpEnabledAt: Date? = nil,
        totpLastStep: Int64? = nil,
        recoveryCodeHashes: [String] = []
    ) {
        self.passwordHash = passwordHash
        self.passwordChangedAt = passwordChangedAt
        self.totpSecretSealed = totpSecretSealed
        self.totpEnabledAt = totpEnabledAt
        self.totpLastStep = totpLastStep
        self.recoveryCodeHashes = recoveryCodeHashes
    }

    public var mfaEnabled: Bool { totpEnabledAt != nil }
}
