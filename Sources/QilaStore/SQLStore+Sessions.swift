public import Foundation
public import QilaCore

extension SQLStore {
    public func createSession(_ session: Session) async throws {
        try await database.execute(
            """
            INSERT INTO sessions (id_hash, user_id, method, created_at, last_seen_at, authenticated_at, mfa_at,
                csrf_token, source_address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(session.idHash), .text(session.user.description), .text(session.method.rawValue),
            SQLValue(session.createdAt), SQLValue(session.lastSeenAt), SQLValue(session.authenticatedAt),
            SQLValue(session.mfaAt), .text(session.csrfToken), SQLValue(session.sourceAddress),
            SQLValue(session.userAgent)
        )
    }

    public func session(idHash: String) async throws -> Session? {
        try await database.query("SELECT * FROM sessions WHERE id_hash = ?", .text(idHash)).first.map(Self.session)
    }

    public func touchSession(idHash: String, at time: Date) async throws {
        try await database.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", SQLValue(time), .text(idHash))
    }

    public func updateSession(_ session: Session) async throws {
        try await database.execute(
            "UPDATE sessions SET method = ?, last_seen_at = ?, authenticated_at = ?, mfa_at = ?, csrf_token = ? WHERE id_hash = ?",
            .text(session.method.rawValue), SQLValue(session.lastSeenAt), SQLValue(session.authenticatedAt),
            SQLValue(session.mfaAt), .text(session.csrfToken), .text(session.idHash)
        )
    }

    public func deleteSession(idHash: String) async throws {
        try await database.execute("DELETE FROM sessions WHERE id_hash = ?", .text(idHash))
    }

    public func sessions(of user: UserID) async throws -> [Session] {
        try await database.query(
            "SELECT * FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC", .text(user.description)
        ).map(Self.session)
    }

    @discardableResult
    public func deleteSessions(of user: UserID, except idHash: String?) async throws -> Int {
        try await database.writeReturning(
            "DELETE FROM sessions WHERE user_id = ? AND id_hash <> ? RETURNING id_hash",
            [.text(user.description), .text(idHash ?? "")]
        ).count
    }

    static func session(_ row: SQLRow) throws -> Session {
        guard let user = UserID(try row.string("user_id")),
            let method = AuthenticationMethod(rawValue: try row.string("method"))
        else { throw StoreError(.corruptRow, "a session row has a user or method Qila cannot read") }
        return Session(
            idHash: try row.string("id_hash"), user: user, method: method, createdAt: try row.date("created_at"),
            lastSeenAt: try row.date("last_seen_at"), authenticatedAt: try row.date("authenticated_at"),
            mfaAt: row.optionalDate("mfa_at"), csrfToken: try row.string("csrf_token"),
            sourceAddress: row.optionalString("source_address"), userAgent: row.optionalString("user_agent")
        )
    }
}

extension SQLStore {
    public func createToken(_ token: APIToken) async throws {
        try await database.execute(
            """
            INSERT INTO api_tokens (id, user_id, name, prefix, secret_hash, scopes, created_at, expires_at, revoked_at,
                last_used_at, second_factor_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(token.id.description), .text(token.user.description), .text(token.name), .text(token.prefix),
            .text(token.secretHash), .text(Self.joined(token.scopes.map(\.rawValue))), SQLValue(token.createdAt),
            SQLValue(token.expiresAt), SQLValue(token.revokedAt), SQLValue(token.lastUsedAt), SQLValue(token.secondFactorAt)
        )
    }

    public func token(secretHash: String) async throws -> APIToken? {
        try await database.query("SELECT * FROM api_tokens WHERE secret_hash = ?", .text(secretHash)).first.map(Self.token)
    }

    public func token(_ id: APITokenID) async throws -> APIToken? {
        try await database.query("SELECT * FROM api_tokens WHERE id = ?", .text(id.description)).first.map(Self.token)
    }

    public func tokens(of user: UserID) async throws -> [APIToken] {
        try await database.query(
            "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC", .text(user.description)
        ).map(Self.token)
    }

    public func revokeToken(_ id: APITokenID, at time: Date) async throws {
        try await database.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", SQLValue(time), .text(id.description)
        )
    }

    public func markTokenUsed(_ id: APITokenID, at time: Date) async throws {
        try await database.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", SQLValue(time), .text(id.description))
    }

    static func token(_ row: SQLRow) throws -> APIToken {
        guard let id = APITokenID(try row.string("id")), let user = UserID(try row.string("user_id")) else {
            throw StoreError(.corruptRow, "an API token row has an id Qila cannot read")
        }
        return APIToken(
            id: id, user: user, name: try row.string("name"), prefix: try row.string("prefix"),
            secretHash: try row.string("secret_hash"),
            scopes: Set(split(try row.string("scopes")).compactMap(TokenScope.init(rawValue:))),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            revokedAt: row.optionalDate("revoked_at"), lastUsedAt: row.optionalDate("last_used_at"),
            secondFactorAt: row.optionalDate("second_factor_at")
        )
    }
}

extension SQLStore {
    public func countSignInFailure(key: String, at time: Date, window: TimeInterval) async throws -> Int {
        // One statement, so that failures counted by several nodes at once are all counted.
        let windowOpen = time.addingTimeInterval(-window)
        let rows = try await database.writeReturning(
            """
            INSERT INTO sign_in_throttle (key, failures, window_start, held_until, updated_at) VALUES (?, 1, ?, NULL, ?)
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN sign_in_throttle.window_start <= ? THEN 1 ELSE sign_in_throttle.failures + 1 END,
                window_start = CASE WHEN sign_in_throttle.window_start <= ? THEN excluded.window_start ELSE sign_in_throttle.window_start END,
                updated_at = excluded.updated_at
            RETURNING failures
            """,
            [.text(key), SQLValue(time), SQLValue(time), SQLValue(windowOpen), SQLValue(windowOpen)])
        // Rows idle for a day are forgotten, so that the table does not grow with every address ever seen.
        if Int.random(in: 0..<100) == 0 {
            try await database.execute("DELETE FROM sign_in_throttle WHERE updated_at < ?", SQLValue(time.addingTimeInterval(-86_400)))
        }
        return Int(try rows.first?.int("failures") ?? 1)
    }

    public func holdSignIns(key: String, until: Date) async throws {
        try await database.execute(
            "UPDATE sign_in_throttle SET held_until = ? WHERE key = ? AND (held_until IS NULL OR held_until < ?)",
            SQLValue(until), .text(key), SQLValue(until))
    }

    public func signInsHeld(keys: [String]) async throws -> Date? {
        guard !keys.isEmpty else { return nil }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try await database.query(
            "SELECT held_until FROM sign_in_throttle WHERE key IN (\(marks)) AND held_until IS NOT NULL", keys.map(SQLValue.text)
        ).compactMap { $0.optionalDate("held_until") }.max()
    }

    public func clearSignInFailures(key: String) async throws {
        try await database.execute("DELETE FROM sign_in_throttle WHERE key = ?", .text(key))
    }
}

extension SQLStore {
    public func recordCertificate(_ certificate: DeviceCertificate) async throws {
        try await database.execute(
            """
            INSERT INTO device_certificates (serial, user_id, common_name, fingerprint, not_before, not_after, revoked_at,
                revocation_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(certificate.serial), .text(certificate.user.description), .text(certificate.commonName),
            .text(certificate.fingerprint), SQLValue(certificate.notBefore), SQLValue(certificate.notAfter),
            SQLValue(certificate.revokedAt), SQLValue(certificate.revocationReason)
        )
    }

    public func certificate(serial: String) async throws -> DeviceCertificate? {
        try await database.query("SELECT * FROM device_certificates WHERE serial = ?", .text(serial)).first.map(Self.certificate)
    }

    public func certificate(fingerprint: String) async throws -> DeviceCertificate? {
        try await database.query(
            "SELECT * FROM device_certificates WHERE fingerprint = ?", .text(fingerprint)
        ).first.map(Self.certificate)
    }

    public func certificates() async throws -> [DeviceCertificate] {
        try await database.query("SELECT * FROM device_certificates ORDER BY not_before DESC").map(Self.certificate)
    }

    public func revokeCertificate(serial: String, at time: Date, reason: String) async throws {
        try await database.execute(
            "UPDATE device_certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ? AND revoked_at IS NULL",
            SQLValue(time), .text(reason), .text(serial)
        )
    }

    static func certificate(_ row: SQLRow) throws -> DeviceCertificate {
        guard let user = UserID(try row.string("user_id")) else {
            throw StoreError(.corruptRow, "a certificate row has a user id Qila cannot read")
        }
        return DeviceCertificate(
            serial: try row.string("serial"), user: user, commonName: try row.string("common_name"),
            fingerprint: try row.string("fingerprint"), notBefore: try row.date("not_before"),
            notAfter: try row.date("not_after"), revokedAt: row.optionalDate("revoked_at"),
            revocationReason: row.optionalString("revocation_reason")
        )
    }
}

extension SQLStore {
    public func createLink(tokenHash: String, purpose: String, user: UserID?, expiresAt: Date) async throws {
        try await database.execute(
            "INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            .text(tokenHash), .text(purpose), SQLValue(user?.description), SQLValue(Date()), SQLValue(expiresAt)
        )
    }

    public func redeemLink(tokenHash: String, at time: Date) async throws -> (purpose: String, user: UserID?)? {
        guard
            let row = try await database.writeReturning(
                """
                UPDATE one_time_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
                RETURNING purpose, user_id
                """,
                [SQLValue(time), .text(tokenHash), SQLValue(time)]
            ).first
        else { return nil }
        return (try row.string("purpose"), row.optionalString("user_id").flatMap(UserID.init))
    }

    public func linkUser(tokenHash: String) async throws -> UserID? {
        try await database.query("SELECT user_id FROM one_time_links WHERE token_hash = ?", .text(tokenHash))
            .first?.optionalString("user_id").flatMap(UserID.init)
    }

    public func linkIsValid(tokenHash: String, at time: Date) async throws -> Bool {
        !(try await database.query(
            "SELECT token_hash FROM one_time_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            .text(tokenHash), SQLValue(time)
        )).isEmpty
    }
}

extension SQLStore {
    public func setting(_ key: String) async throws -> String? {
        try await database.query("SELECT value FROM settings WHERE key = ?", .text(key)).first?.string("value")
    }

    public func setSetting(_ key: String, _ value: String) async throws {
        try await database.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            .text(key), .text(value)
        )
    }
}
