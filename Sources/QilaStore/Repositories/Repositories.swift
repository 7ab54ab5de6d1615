public import Foundation
public import QilaCore

/// Sectors and organisations, the tenants of Qila.
public protocol OrganisationRepository: Sendable {
    func sectors() async throws -> [Sector]
    func createSector(_ sector: Sector) async throws
    func createOrganisation(_ organisation: Organisation) async throws
    func organisation(_ id: OrganisationID) async throws -> Organisation?
    func organisations() async throws -> [Organisation]
    func updateOrganisation(_ organisation: Organisation) async throws
}

/// People and service accounts, and their credentials.
public protocol UserRepository: Sendable {
    func createUser(_ user: User, credentials: UserCredentials) async throws
    func user(_ id: UserID) async throws -> User?
    func user(username: String) async throws -> User?
    func users(in organisation: OrganisationID) async throws -> [User]
    func userCount() async throws -> Int
    func updateUser(_ user: User) async throws
    func credentials(of user: UserID) async throws -> UserCredentials?
    func updateCredentials(_ credentials: UserCredentials, of user: UserID) async throws
    /// Records `step` as the last TOTP step used, only if it is later than the one recorded.
    /// Returns false when it is not, which means the code was already used: a replay.
    func claimTOTPStep(_ step: Int64, for user: UserID) async throws -> Bool
    /// Removes one recovery code hash; false if it was not there (already used or never issued).
    func consumeRecoveryCode(_ hash: String, for user: UserID) async throws -> Bool
}

/// Browser sessions.
public protocol SessionRepository: Sendable {
    func createSession(_ session: Session) async throws
    func session(idHash: String) async throws -> Session?
    func touchSession(idHash: String, at time: Date) async throws
    func updateSession(_ session: Session) async throws
    func deleteSession(idHash: String) async throws
    func sessions(of user: UserID) async throws -> [Session]
    /// Ends every session of the user, except the one named; returns how many ended.
    @discardableResult
    func deleteSessions(of user: UserID, except idHash: String?) async throws -> Int
}

/// API tokens.
public protocol TokenRepository: Sendable {
    func createToken(_ token: APIToken) async throws
    func token(secretHash: String) async throws -> APIToken?
    func token(_ id: APITokenID) async throws -> APIToken?
    func tokens(of user: UserID) async throws -> [APIToken]
    func revokeToken(_ id: APITokenID, at time: Date) async throws
    func markTokenUsed(_ id: APITokenID, at time: Date) async throws
}

/// Failed sign-ins and re-authentications counted per account and per source address, in the
/// database so that every node of an installation counts the same failures.
public protocol SignInThrottleRepository: Sendable {
    /// Counts one failure against `key` and returns the failures counted since its window began;
    /// a window begins at the first failure and ends `window` seconds later.
    func countSignInFailure(key: String, at time: Date, window: TimeInterval) async throws -> Int
    /// Holds `key` back until `until` (never shortening a longer hold).
    func holdSignIns(key: String, until: Date) async throws
    /// The latest time until which any of `keys` is held back.
    func signInsHeld(keys: [String]) async throws -> Date?
    /// Forgets the failures of `key` (after a success).
    func clearSignInFailures(key: String) async throws
}

/// Client certificates issued by the internal CA.
public protocol CertificateRepository: Sendable {
    func recordCertificate(_ certificate: DeviceCertificate) async throws
    func certificate(serial: String) async throws -> DeviceCertificate?
    func certificate(fingerprint: String) async throws -> DeviceCertificate?
    func certificates() async throws -> [DeviceCertificate]
    func revokeCertificate(serial: String, at time: Date, reason: String) async throws
}

/// One-time links: the first administrator's set-up link, password set-up for new users.
public protocol OneTimeLinkRepository: Sendable {
    func createLink(tokenHash: String, purpose: String, user: UserID?, expiresAt: Date) async throws
    /// Marks the link used and returns its purpose and user, once; nil if unknown, used or expired.
    func redeemLink(tokenHash: String, at time: Date) async throws -> (purpose: String, user: UserID?)?
    func linkIsValid(tokenHash: String, at time: Date) async throws -> Bool
    /// The user a link was made for, without redeeming it.
    func linkUser(tokenHash: String) async throws -> UserID?
}

/// The rows behind the tamper-evident audit log. Integrity is not this layer's job: the
/// Merkle tree in `QilaAccess` is what detects a changed, missing or reordered row.
public protocol AuditRepository: Sendable {
    /// Inserts entries whose indices the caller assigned; fails with a conflict if any is taken.
    func insertAuditEntries(_ entries: [(entry: AuditEntry, leafHash: [UInt8])]) async throws
    func auditEntryCount() async throws -> Int64
    func auditEntries(from index: Int64, limit: Int, actionPrefix: String?) async throws -> [AuditEntry]
    /// Stored leaf hashes of entries `range`, in index order.
    func auditLeafHashes(_ range: Range<Int64>) async throws -> [[UInt8]]
    func saveTreeHead(_ head: SignedTreeHead) async throws
    func latestTreeHead() async throws -> SignedTreeHead?
    func treeHeads() async throws -> [SignedTreeHead]
}

/// Small named values that belong to the installation rather than to a tenant.
public protocol SettingsRepository: Sendable {
    func setting(_ key: String) async throws -> String?
    func setSetting(_ key: String, _ value: String) async throws
}

/// Everything Qila stores in SQL.
public protocol QilaRepositories: OrganisationRepository, UserRepository, SessionRepository, TokenRepository,
    SignInThrottleRepository, CertificateRepository, OneTimeLinkRepository, AuditRepository, SettingsRepository
{}
