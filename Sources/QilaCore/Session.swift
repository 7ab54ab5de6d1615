public import Foundation

/// How a subject proved who it is on this request.
public enum AuthenticationMethod: String, Sendable, Codable, Hashable {
    case password
    case passwordAndTOTP = "password+totp"
    case apiToken = "api-token"
    case clientCertificate = "client-certificate"
}

/// A signed-in browser session, kept on the server. The cookie holds a random secret; the
/// store keeps only its SHA-256, so a copy of the database does not let anyone sign in.
public struct Session: Sendable, Hashable {
    public var idHash: String
    public var user: UserID
    public var method: AuthenticationMethod
    public var createdAt: Date
    public var lastSeenAt: Date
    /// When the password (and second factor) were last checked, for re-authentication.
    public var authenticatedAt: Date
    /// When a second factor was last checked; nil for a password-only session.
    public var mfaAt: Date?
    public var csrfToken: String
    public var sourceAddress: String?
    public var userAgent: String?

    public init(
        idHash: String, user: UserID, method: AuthenticationMethod, createdAt: Date, lastSeenAt: Date,
        authenticatedAt: Date, mfaAt: Date?, csrfToken: String, sourceAddress: String?, userAgent: String?
    ) {
        self.idHash = idHash
        self.user = user
        self.method = method
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.authenticatedAt = authenticatedAt
        self.mfaAt = mfaAt
        self.csrfToken = csrfToken
        self.sourceAddress = sourceAddress
        self.userAgent = userAgent
    }
}

public typealias APITokenID = Identifier<APIToken>

/// A bearer token for a service account or a person's scripts: hashed at rest, scoped, expiring.
public struct APIToken: Sendable, Hashable, Codable, Identifiable {
    public var id: APITokenID
    public var user: UserID
    public var name: String
    /// The first characters of the token, shown so that people can tell their tokens apart.
    public var prefix: String
    public var secretHash: String
    public var scopes: Set<TokenScope>
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    /// For a token with the admin scope: when the second factor (or client certificate) of the
    /// person who issued it was last checked. The token administers only while that check is
    /// fresh, as the issuing session would have: it carries no more freshness than it was minted with.
    public var secondFactorAt: Date?

    public init(
        id: APITokenID = APITokenID(), user: UserID, name: String, prefix: String, secretHash: String,
        scopes: Set<TokenScope>, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil, lastUsedAt: Date? = nil,
        secondFactorAt: Date? = nil
    ) {
        self.secondFactorAt = secondFactorAt
        self.id = id
        self.user = user
        self.name = name
        self.prefix = prefix
        self.secretHash = secretHash
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    public func isUsable(at now: Date) -> Bool { revokedAt == nil && now < expiresAt }
}

/// What an API token may be used for. A token never grants more than its owner's roles.
public enum TokenScope: String, Sendable, Codable, CaseIterable, Hashable, Comparable {
    /// Read what the owner may read.
    case read
    /// Create and change what the owner may change.
    case write
    /// Send telemetry (sensors).
    case ingest
    /// Administrative actions the owner's roles allow.
    case admin

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
