import QilaCore

/// What the subject wants to do.
public enum Action: String, Sendable, CaseIterable, Hashable {
    case read
    case create
    case update
    case delete
    /// Grant roles, reset another person's MFA, issue or revoke certificates.
    case administer

    /// The API token scope that must accompany the action when a token is used.
    var requiredScope: TokenScope {
        switch self {
        case .read: .read
        case .create, .update, .delete: .write
        case .administer: .admin
        }
    }

    /// Actions that change who can do what, and so need a fresh second factor.
    public var isSensitive: Bool { self == .administer }
}
