public import Foundation
public import QilaCore
public import Metrics
import QilaStore

/// Establishes who a request comes from: passwords, TOTP, sessions, API tokens, client
/// certificates and one-time links. Every outcome of note goes to the audit log; no secret
/// does.
public final class Authenticator: Sendable {
    public let store: any QilaRepositories
    public let secrets: ServerSecrets
    public let hasher: PasswordHasher
    public let passwordPolicy: PasswordPolicy
    public let audit: AuditLog
    public let throttle: SignInThrottle
    public let limits: SessionLimits
    public let issuer: String

    public init(
        store: any QilaRepositories, secrets: ServerSecrets, hasher: PasswordHasher, passwordPolicy: PasswordPolicy,
        audit: AuditLog, throttle: SignInThrottle.Limits = SignInThrottle.Limits(), limits: SessionLimits = SessionLimits(),
        issuer: String = "Qila"
    ) {
        self.store = store
        self.secrets = secrets
        self.hasher = hasher
        self.passwordPolicy = passwordPolicy
        self.audit = audit
        self.throttle = SignInThrottle(store: store, limits: throttle)
        self.limits = limits
        self.issuer = issuer
    }

    /// A signed-in principal: the user, their organisation and the session behind the request.
    public struct Principal: Sendable {
        public var user: User
        public var organisation: Organisation
        public var session: Session?
        public var token: APIToken?
        public var certificate: DeviceCertificate?

        public func subject(at now: Date = Date()) -> Subject {
            if let session {
                return Subject(
                    user: user, organisation: organisation, method: session.method, authenticatedAt: session.authenticatedAt,
                    mfaAt: session.mfaAt)
            }
            if let token {
                // Only an admin token carries a second factor: the one checked when it was issued.
                return Subject(
                    user: user, organisation: organisation, method: .apiToken, authenticatedAt: now,
                    mfaAt: token.scopes.contains(.admin) ? token.secondFactorAt : nil,
                    tokenScopes: token.scopes, hasDeviceCertificate: certificate != nil)
            }
            return Subject(
                user: user, organisation: organisation, method: .clientCertificate, authenticatedAt: now, mfaAt: now,
                hasDeviceCertificate: true)
        }
    }

    public enum SignInOutcome: Sendable {
        /// Signed in; set the cookie to `secret`.
        case signedIn(secret: String, session: Session)
        /// The password was right; the session awaits the second factor.
        case needsSecondFactor(secret: String, session: Session)
        case refused(String)
        case throttled(until: Date)
    }

    // MARK: password sign-in

    public func signIn(username: String, password: String, source: String?, userAgent: String?, now: Date = Date())
        async throws -> SignInOutcome
    {
        let account = username.precomposedStringWithCompatibilityMapping.lowercased()
        if let until = try await throttle.retryAfter(account: account, source: source, now: now) {
            try await record("auth.sign-in", .denied, actor: "anonymous", source: source, details: ["reason": "throttled"])
            return .throttled(until: until)
        }
        let generic = "The username or password is not right."
        guard let user = try await store.user(username: username), user.kind == .person,
            let hash = try await store.credentials(of: user.id)?.passwordHash
        else {
            hasher.verifyDummy(password)
            try await throttle.recordFailure(account: account, source: source, now: now)
            try await record("auth.sign-in", .failure, actor: "anonymous", source: source, details: ["reason": "unknown-user"])
            return .refused(generic)
        }
        guard hasher.verify(password, against: hash) else {
            try await throttle.recordFailure(account: account, source: source, now: now)
            try await record("auth.sign-in", .failure, user: user, source: source, details: ["reason": "wrong-password"])
            return .refused(generic)
        }
        guard !user.disabled else {
            try await record("auth.sign-in", .denied, user: user, source: source, details: ["reason": "disabled"])
            return .refused("This account is disabled. Ask your organisation's administrator.")
        }
        try await throttle.recordSuccess(account: account)
        if hasher.needsRehash(hash), var credentials = try await store.credentials(of: user.id) {
            credentials.passwordHash = try hasher.hash(password)
            try await store.updateCredentials(credentials, of: user.id)
        }
        let mfa = try await store.credentials(of: user.id)?.mfaEnabled ?? false
        let (secret, session) = try await createSession(for: user, method: .password, source: source, userAgent: userAgent, now: now)
        if mfa {
            try await record("auth.password", .success, user: user, source: source, details: ["next": "totp"])
            return .needsSecondFactor(secret: secret, session: session)
        }
        try await record("auth.sign-in", .success, user: user, source: source, details: ["method": "password"])
        return .signedIn(secret: secret, session: session)
    }

    /// Checks a TOTP or recovery code for a session that passed the password step. A code is
    /// accepted once only. On success the session is replaced by a new one (new secret, new CSRF
    /// token), whose secret is returned for the cookie: a session id seen before the second factor
    /// is worth nothing after it.
    public func verifySecondFactor(sessionSecret: String, code: String, source: String?, now: Date = Date()) async throws
        -> SecondFactorOutcome
    {
        guard let session = try await store.session(idHash: RandomSecret.hash(sessionSecret)),
            let user = try await store.user(session.user)
        else { return .refused }
        let account = user.username.lowercased()
        if let until = try await throttle.retryAfter(account: account, source: source, now: now) { return .throttled(until: until) }
        guard try await checkSecondFactor(user: user, code: code, now: now) else {
            try await throttle.recordFailure(account: account, source: source, now: now)
            try await record("auth.totp", .failure, user: user, source: source)
            return .refused
        }
        var renewed = session
        renewed.method = .passwordAndTOTP
        renewed.mfaAt = now
        renewed.authenticatedAt = now
        renewed.lastSeenAt = now
        let secret = try await rotate(session, to: renewed)
        try await record("auth.sign-in", .success, user: user, source: source, details: ["method": "password+totp"])
        return .verified(secret: secret)
    }

    public enum SecondFactorOutcome: Sendable, Equatable {
        /// Accepted; the session now has this secret (set it as the cookie).
        case verified(secret: String)
        case refused
        case throttled(until: Date)
    }

    /// Replaces a session by one with a new secret and CSRF token, carrying `renewed`'s state.
    private func rotate(_ old: Session, to renewed: Session) async throws -> String {
        let secret = RandomSecret.make()
        var next = renewed
        next.idHash = RandomSecret.hash(secret)
        next.csrfToken = RandomSecret.make()
        try await store.createSession(next)
        try await store.deleteSession(idHash: old.idHash)
        return secret
    }

    func checkSecondFactor(user: User, code: String, now: Date) async throws -> Bool {
        guard let credentials = try await store.credentials(of: user.id), credentials.mfaEnabled,
            let sealed = credentials.totpSecretSealed
        else { return false }
        let totp = TOTP(secret: try secrets.open(sealed))
        if let step = totp.matchingStep(for: code, at: now) {
            return try await store.claimTOTPStep(step, for: user.id)
        }
        let normalised = code.lowercased().filter { $0.isLetter || $0.isNumber }
        if normalised.count == 10 {
            let used = try await store.consumeRecoveryCode(RandomSecret.hash(normalised), for: user.id)
            if used { try await record("auth.recovery-code", .success, user: user, source: nil) }
            return used
        }
        return false
    }

    /// Proves the person again before a sensitive action: password, and code if MFA is on.
    /// Throttled as sign-in is (a stolen cookie is no password oracle), and on success the session
    /// is replaced by one with a new secret, returned for the cookie.
    public func reauthenticate(session: Session, password: String, code: String?, source: String?, now: Date = Date()) async throws
        -> SecondFactorOutcome
    {
        guard let user = try await store.user(session.user), let credentials = try await store.credentials(of: user.id) else {
            return .refused
        }
        let account = user.username.lowercased()
        if let until = try await throttle.retryAfter(account: account, source: source, now: now) {
            try await record("auth.reauthenticate", .denied, user: user, source: source, details: ["reason": "throttled"])
            return .throttled(until: until)
        }
        guard let hash = credentials.passwordHash, hasher.verify(password, against: hash) else {
            try await throttle.recordFailure(account: account, source: source, now: now)
            try await record("auth.reauthenticate", .failure, user: user, source: source, details: ["reason": "wrong-password"])
            return .refused
        }
        var renewed = session
        if credentials.mfaEnabled {
            guard let code, try await checkSecondFactor(user: user, code: code, now: now) else {
                try await throttle.recordFailure(account: account, source: source, now: now)
                try await record("auth.reauthenticate", .failure, user: user, source: source, details: ["reason": "wrong-code"])
                return .refused
            }
            renewed.mfaAt = now
        }
        renewed.authenticatedAt = now
        renewed.lastSeenAt = now
        let secret = try await rotate(session, to: renewed)
        try await record("auth.reauthenticate", .success, user: user, source: source)
        return .verified(secret: secret)
    }

    // MARK: sessions

    func createSession(for user: User, method: AuthenticationMethod, source: String?, userAgent: String?, now: Date)
        async throws -> (String, Session)
    {
        let secret = RandomSecret.make()
        let session = Session(
            idHash: RandomSecret.hash(secret), user: user.id, method: method, createdAt: now, lastSeenAt: now,
            authenticatedAt: now, mfaAt: nil, csrfToken: RandomSecret.make(), sourceAddress: source,
            userAgent: userAgent.map { String($0.prefix(200)) })
        try await store.createSession(session)
        return (secret, session)
    }

    public enum SessionState: Sendable {
        case active(Principal)
        /// Signed in with the password; the second factor is still to come.
        case awaitingSecondFactor(Principal)
        case expired
        case unknown
    }

    /// Finds the session behind a cookie, enforcing the idle and absolute limits.
    public func session(secret: String, now: Date = Date()) async throws -> SessionState {
        let idHash = RandomSecret.hash(secret)
        guard let session = try await store.session(idHash: idHash) else { return .unknown }
        if now.timeIntervalSince(session.lastSeenAt) > limits.idle.timeInterval
            || now.timeIntervalSince(session.createdAt) > limits.absolute.timeInterval
        {
            try await store.deleteSession(idHash: idHash)
            try await record("auth.session-expired", .success, actor: session.user.description, source: session.sourceAddress)
            return .expired
        }
        guard let user = try await store.user(session.user), !user.disabled,
            let organisation = try await store.organisation(user.organisation)
        else {
            try await store.deleteSession(idHash: idHash)
            return .unknown
        }
        // Record use at most once a minute, so that reads do not turn into writes.
        if now.timeIntervalSince(session.lastSeenAt) > 60 {
            try await store.touchSession(idHash: idHash, at: now)
        }
        let principal = Principal(user: user, organisation: organisation, session: session)
        if session.mfaAt == nil, try await store.credentials(of: user.id)?.mfaEnabled == true {
            return .awaitingSecondFactor(principal)
        }
        return .active(principal)
    }

    public func signOut(secret: String, source: String?) async throws {
        let idHash = RandomSecret.hash(secret)
        if let session = try await store.session(idHash: idHash) {
            try await store.deleteSession(idHash: idHash)
            try await record("auth.sign-out", .success, actor: session.user.description, source: source)
        }
    }

    public func endOtherSessions(of user: User, keeping session: Session?) async throws -> Int {
        let count = try await store.deleteSessions(of: user.id, except: session?.idHash)
        try await record("auth.sessions-ended", .success, user: user, source: nil, details: ["count": String(count)])
        return count
    }

    // MARK: passwords

    /// Sets a new password after checking it against the policy; throws the refusal to show.
    public func setPassword(_ password: String, for user: User, organisationName: String? = nil, now: Date = Date())
        async throws
    {
        var credentials = try await store.credentials(of: user.id) ?? UserCredentials()
        var context = ["username": user.username, "name": user.displayName]
        if let organisationName { context["organisation name"] = organisationName }
        if let refusal = passwordPolicy.check(password, mfaEnabled: credentials.mfaEnabled, context: context) {
            throw refusal
        }
        // Names of the tenants are public facts a guesser would try first.
        let folded = PasswordPolicy.normalise(password).lowercased().filter { $0.isLetter || $0.isNumber }
        for organisation in try await store.organisations() {
            let name = organisation.name.lowercased().filter { $0.isLetter || $0.isNumber }
            if name.count >= 5, folded.contains(name) {
                throw PasswordPolicy.Refusal.blocklisted(reason: "it contains the name of an organisation registered in Qila")
            }
        }
        credentials.passwordHash = try hasher.hash(password)
        credentials.passwordChangedAt = now
        try await store.updateCredentials(credentials, of: user.id)
        try await record("auth.password-changed", .success, user: user, source: nil)
    }

    // MARK: TOTP enrolment

    /// Starts enrolment: a new secret, kept sealed but not yet in force until a code confirms it.
    public func beginTOTPEnrolment(for user: User) async throws -> TOTP {
        var credentials = try await store.credentials(of: user.id) ?? UserCredentials()
        guard !credentials.mfaEnabled else { throw QilaError(.conflict, "two-factor sign-in is already on for this account") }
        let totp = TOTP(secret: TOTP.generateSecret())
        credentials.totpSecretSealed = try secrets.seal(totp.secret)
        try await store.updateCredentials(credentials, of: user.id)
        return totp
    }

    /// The pending enrolment's secret, to show it again (QR code) until it is confirmed.
    public func pendingTOTP(for user: User) async throws -> TOTP? {
        guard let credentials = try await store.credentials(of: user.id), !credentials.mfaEnabled,
            let sealed = credentials.totpSecretSealed
        else { return nil }
        return TOTP(secret: try secrets.open(sealed))
    }

    /// Confirms enrolment with a code from the app; returns ten recovery codes to show once.
    public func confirmTOTPEnrolment(for user: User, code: String, now: Date = Date()) async throws -> [String]? {
        guard var credentials = try await store.credentials(of: user.id), !credentials.mfaEnabled,
            let sealed = credentials.totpSecretSealed,
            let step = TOTP(secret: try secrets.open(sealed)).matchingStep(for: code, at: now)
        else {
            try await record("auth.totp-enrol", .failure, user: user, source: nil)
            return nil
        }
        let codes = (0..<10).map { _ in Self.recoveryCode() }
        credentials.totpEnabledAt = now
        credentials.totpLastStep = step
        credentials.recoveryCodeHashes = codes.map { RandomSecret.hash($0.replacingOccurrences(of: "-", with: "")) }
        try await store.updateCredentials(credentials, of: user.id)
        try await record("auth.totp-enrol", .success, user: user, source: nil)
        return codes
    }

    /// Turns TOTP off for a user (lost phone) and ends their sessions; returns how many ended.
    @discardableResult
    public func resetMFA(for user: User, by actor: Subject?) async throws -> Int {
        var credentials = try await store.credentials(of: user.id) ?? UserCredentials()
        credentials.totpSecretSealed = nil
        credentials.totpEnabledAt = nil
        credentials.totpLastStep = nil
        credentials.recoveryCodeHashes = []
        try await store.updateCredentials(credentials, of: user.id)
        try await audit.append(
            AuditEntry(
                time: Date(), actor: actor?.user.id.description ?? "system", actorOrganisation: actor?.organisation.id,
                action: "admin.mfa-reset", outcome: .success, resource: "user:\(user.id)"))
        return try await store.deleteSessions(of: user.id, except: nil)
    }

    /// Ten characters from an alphabet without look-alikes, shown as xxxxx-xxxxx.
    static func recoveryCode() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        let characters = (0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }
        return String(characters[0..<5]) + "-" + String(characters[5..<10])
    }

    // MARK: API tokens

    /// Issues a token; the returned secret is shown once and only its hash is kept.
    ///
    /// The admin scope is for administrators only, and only while their second factor (or client
    /// certificate) is fresh: the token records when that was checked and administers only within
    /// `Policy.mfaFreshness` of it, never longer than the session that issued it could have.
    /// `actor` nil is the operator at the installation's console (`qila sensors token`), who holds
    /// the data directory and its keys anyway.
    public func issueToken(for user: User, name: String, scopes: Set<TokenScope>, days: Int, by actor: Subject?, now: Date = Date())
        async throws -> (token: APIToken, secret: String)
    {
        guard !scopes.isEmpty else { throw QilaError.invalid("choose at least one scope", field: "scopes") }
        var secondFactorAt: Date?
        if scopes.contains(.admin) {
            if let actor {
                let roles = actor.effectiveRoles
                guard roles.contains(.authorityAdmin) || roles.contains(.organisationAdmin) else {
                    throw QilaError(.forbidden, "only administrators may issue tokens with the admin scope", at: "field scopes")
                }
                guard let checked = Policy.freshSecondFactor(of: actor, at: now) else {
                    throw QilaError(
                        .forbidden, "a token with the admin scope needs a second factor checked in the last 15 minutes; re-authenticate first",
                        at: "field scopes")
                }
                secondFactorAt = checked
            } else {
                secondFactorAt = now
            }
        }
        guard (1...397).contains(days) else { throw QilaError.invalid("must be from 1 to 397 days", field: "expiresInDays") }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(trimmed.count) else { throw QilaError.invalid("give the token a name of 1 to 100 characters", field: "name") }
        let random = RandomSecret.make()
        let secret = "qila_" + random
        let token = APIToken(
            user: user.id, name: trimmed, prefix: String(secret.prefix(12)), secretHash: RandomSecret.hash(secret),
            scopes: scopes, createdAt: now, expiresAt: now.addingTimeInterval(Double(days) * 86_400), secondFactorAt: secondFactorAt)
        try await store.createToken(token)
        try await audit.append(
            AuditEntry(
                time: now, actor: actor?.user.id.description ?? user.id.description,
                actorOrganisation: actor?.organisation.id ?? user.organisation, action: "token.create", outcome: .success,
                resource: "api-token:\(token.id)",
                details: ["user": user.id.description, "scopes": token.scopes.map(\.rawValue).sorted().joined(separator: ",")]))
        return (token, secret)
    }

    public func authenticate(bearer secret: String, source: String?, now: Date = Date()) async throws -> Principal? {
        guard secret.hasPrefix("qila_"), secret.count < 200,
            let token = try await store.token(secretHash: RandomSecret.hash(secret))
        else {
            try await record("auth.token", .failure, actor: "anonymous", source: source, details: ["reason": "unknown-token"])
            return nil
        }
        guard token.isUsable(at: now), let user = try await store.user(token.user), !user.disabled,
            let organisation = try await store.organisation(user.organisation)
        else {
            try await record(
                "auth.token", .denied, actor: token.user.description, source: source,
                details: ["reason": "expired-revoked-or-disabled", "token": token.id.description])
            return nil
        }
        if token.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try await store.markTokenUsed(token.id, at: now)
        }
        return Principal(user: user, organisation: organisation, token: token)
    }

    // MARK: client certificates

    /// Finds the user a presented (and chain-verified) client certificate belongs to.
    public func authenticate(certificateFingerprint fingerprint: String, source: String?, now: Date = Date()) async throws
        -> Principal?
    {
        guard let certificate = try await store.certificate(fingerprint: fingerprint) else {
            try await record("auth.certificate", .failure, actor: "anonymous", source: source, details: ["reason": "unknown-certificate"])
            return nil
        }
        guard certificate.revokedAt == nil, certificate.notAfter > now, certificate.notBefore <= now,
            let user = try await store.user(certificate.user), !user.disabled,
            let organisation = try await store.organisation(user.organisation)
        else {
            try await record(
                "auth.certificate", .denied, actor: certificate.user.description, source: source,
                details: ["reason": "revoked-expired-or-disabled", "serial": certificate.serial])
            return nil
        }
        return Principal(user: user, organisation: organisation, certificate: certificate)
    }

    // MARK: one-time links

    /// Creates a link secret for first-run set-up or a new user's password; valid once.
    public func createOneTimeLink(purpose: String, user: UserID?, validFor: Duration, now: Date = Date()) async throws -> String {
        let secret = RandomSecret.make()
        try await store.createLink(
            tokenHash: RandomSecret.hash(secret), purpose: purpose, user: user, expiresAt: now.addingTimeInterval(validFor.timeInterval))
        return secret
    }

    public func oneTimeLinkIsValid(_ secret: String, now: Date = Date()) async throws -> Bool {
        try await store.linkIsValid(tokenHash: RandomSecret.hash(secret), at: now)
    }

    /// How long a link for setting a password stays valid.
    public static let passwordLinkValidity: Duration = .seconds(72 * 3600)

    /// A one-time link secret with which a person sets their own password (`/setup/<secret>`).
    public func createPasswordLink(for user: User) async throws -> String {
        try await createOneTimeLink(purpose: "password", user: user.id, validFor: Self.passwordLinkValidity)
    }

    /// A new password set-up link made by an administrator for `user`, recorded in the audit log.
    public func createPasswordLink(for user: User, by subject: Subject, source: String? = nil) async throws -> String {
        let secret = try await createPasswordLink(for: user)
        try await audit.recordChange(by: subject, "admin.setup-link", resource: "user:\(user.id)", source: source)
        return secret
    }

    /// Revokes one of `user`'s tokens; recorded in the audit log. The caller has asked the policy.
    public func revokeToken(_ id: APITokenID, of user: UserID, by subject: Subject, source: String? = nil, now: Date = Date()) async throws -> APIToken {
        guard let token = try await store.token(id), token.user == user else { throw QilaError(.notFound, "no such token") }
        try await store.revokeToken(id, at: now)
        try await audit.recordChange(by: subject, "token.revoke", resource: "api-token:\(id)", source: source, now: now)
        return token
    }

    public func oneTimeLinkUser(_ secret: String) async throws -> User? {
        guard let id = try await store.linkUser(tokenHash: RandomSecret.hash(secret)) else { return nil }
        return try await store.user(id)
    }

    public func redeemOneTimeLink(_ secret: String, now: Date = Date()) async throws -> (purpose: String, user: UserID?)? {
        try await store.redeemLink(tokenHash: RandomSecret.hash(secret), at: now)
    }

    // MARK: audit

    func record(
        _ action: String, _ outcome: AuditEntry.Outcome, user: User, source: String?, details: [String: String] = [:]
    ) async throws {
        Counter(label: "qila_authentication_events_total", dimensions: [("event", action), ("outcome", outcome.rawValue)]).increment()
        try await audit.append(
            AuditEntry(
                time: Date(), actor: user.id.description, actorOrganisation: user.organisation, action: action,
                outcome: outcome, resource: "user:\(user.id)", sourceAddress: source, details: details))
    }

    func record(
        _ action: String, _ outcome: AuditEntry.Outcome, actor: String, source: String?, details: [String: String] = [:]
    ) async throws {
        Counter(label: "qila_authentication_events_total", dimensions: [("event", action), ("outcome", outcome.rawValue)]).increment()
        try await audit.append(
            AuditEntry(time: Date(), actor: actor, action: action, outcome: outcome, sourceAddress: source, details: details))
    }
}
