public import Foundation
public import QilaCore

/// Who is asking, as the policy decision point sees them: established afresh on every request.
public struct Subject: Sendable, Hashable {
    public var user: User
    public var organisation: Organisation
    public var method: AuthenticationMethod
    /// When the subject last proved who they are (password, certificate handshake, token use).
    public var authenticatedAt: Date
    /// When a second factor was last checked; nil if never in this session.
    public var mfaAt: Date?
    /// The scopes of the API token used, or nil when no token was used.
    public var tokenScopes: Set<TokenScope>?
    /// True when the request came over TLS with a client certificate Qila issued and has not revoked.
    public var hasDeviceCertificate: Bool

    public init(
        user: User, organisation: Organisation, method: AuthenticationMethod, authenticatedAt: Date, mfaAt: Date?,
        tokenScopes: Set<TokenScope>? = nil, hasDeviceCertificate: Bool = false
    ) {
        self.user = user
        self.organisation = organisation
        self.method = method
        self.authenticatedAt = authenticatedAt
        self.mfaAt = mfaAt
        self.tokenScopes = tokenScopes
        self.hasDeviceCertificate = hasDeviceCertificate
    }

    /// Roles that take effect: authority roles count only for members of the authority, so a
    /// misconfigured account elsewhere cannot see across tenants.
    public var effectiveRoles: Set<Role> {
        user.roles.filter { role in
            switch role {
            case .authorityAdmin, .authorityAnalyst, .oversightViewer, .investigator:
                organisation.kind == .authority
            case .sectorRegulator:
                organisation.kind == .sectorRegulator || organisation.kind == .authority
            default:
                true
            }
        }
    }
}
