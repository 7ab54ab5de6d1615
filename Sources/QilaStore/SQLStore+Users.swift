public import QilaCore

extension SQLStore {
    public func createUser(_ user: User, credentials: UserCredentials) async throws {
        try await database.execute(
            """
            INSERT INTO users (id, organisation, kind, username, username_key, display_name, email, roles, clearance,
                audited, disabled, created_at, password_hash, password_changed_at, totp_secret, totp_enabled_at,
                totp_last_step, recovery_codes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(user.id.description), .text(user.organisation.description), .text(user.kind.rawValue),
            .text(user.username), .text(Self.key(user.username)), .text(user.displayName), SQLValue(user.email),
            .text(Self.joined(user.roles.map(\.rawValue))), .text(user.clearance.rawValue),
            .text(Self.joined(user.auditedOrganisations)), SQLValue(user.disabled), SQLValue(user.createdAt),
            SQLValue(credentials.passwordHash), SQLValue(credentials.passwordChangedAt),
            SQLValue(credentials.totpSecretSealed), SQLValue(credentials.totpEnabledAt),
            SQLValue(credentials.totpLastStep), .text(credentials.recoveryCodeHashes.joined(separator: ","))
        )
    }

    public func user(_ id: UserID) async throws -> User? {
        try await database.query("SELECT * FROM users WHERE id = ?", .text(id.description)).first.map(Self.user)
    }

    public func user(username: String) async throws -> User? {
        try await database.query("SELECT * FROM users WHERE username_key = ?", .text(Self.key(username))).first.map(Self.user)
    }

    public func users(in organisation: OrganisationID) async throws -> [User] {
        try await database.query(
            "SELECT * FROM users WHERE organisation = ? ORDER BY username_key", .text(organisation.description)
        ).map(Self.user)
    }

    public func userCount() async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) AS n FROM users").first?.int("n") ?? 0)
    }

    public func updateUser(_ user: User) async throws {
        try await database.execute(
            """
            UPDATE users SET organisation = ?, display_name = ?, email = ?, roles = ?, clearance = ?, audited = ?,
                disabled = ? WHERE id = ?
            """,
            .text(user.organisation.description), .text(user.displayName), SQLValue(user.email),
            .text(Self.joined(user.roles.map(\.rawValue))), .text(user.clearance.rawValue),
            .text(Self.joined(user.auditedOrganisations)), SQLValue(user.disabled), .text(user.id.description)
        )
    }

    public func credentials(of user: UserID) async throws -> UserCredentials? {
        guard
            let row = try await database.query(
                """
                SELECT password_hash, password_changed_at, totp_secret, totp_enabled_at, totp_last_step, recovery_codes
                FROM users WHERE id = ?
                """,
                .text(user.description)
            ).first
        else { return nil }
        return UserCredentials(
            passwordHash: row.optionalString("password_hash"),
            passwordChangedAt: row.optionalDate("password_changed_at"),
            totpSecretSealed: row.optionalBytes("totp_secret"),
            totpEnabledAt: row.optionalDate("totp_enabled_at"),
            totpLastStep: row.optionalInt("totp_last_step"),
            recoveryCodeHashes: Self.split(row.optionalString("recovery_codes") ?? "")
        )
    }

    public func updateCredentials(_ credentials: UserCredentials, of user: UserID) async throws {
        try await database.execute(
            """
            UPDATE users SET password_hash = ?, password_changed_at = ?, totp_secret = ?, totp_enabled_at = ?,
                totp_last_step = ?, recovery_codes = ? WHERE id = ?
            """,
            SQLValue(credentials.passwordHash), SQLValue(credentials.passwordChangedAt),
            SQLValue(credentials.totpSecretSealed), SQLValue(credentials.totpEnabledAt),
            SQLValue(credentials.totpLastStep), .text(credentials.recoveryCodeHashes.joined(separator: ",")),
            .text(user.description)
        )
    }

    public func claimTOTPStep(_ step: Int64, for user: UserID) async throws -> Bool {
        !(try await database.writeReturning(
            "UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?) RETURNING id",
            [.integer(step), .text(user.description), .integer(step)]
        )).isEmpty
    }

    public func consumeRecoveryCode(_ hash: String, for user: UserID) async throws -> Bool {
        // Compare-and-swap on the whole list, retried if another request changed it meanwhile.
        for _ in 0..<5 {
            guard let current = try await credentials(of: user)?.recoveryCodeHashes, current.contains(hash) else {
                return false
            }
            let remaining = current.filter { $0 != hash }
            let changed = try await database.writeReturning(
                "UPDATE users SET recovery_codes = ? WHERE id = ? AND recovery_codes = ? RETURNING id",
                [.text(remaining.joined(separator: ",")), .text(user.description), .text(current.joined(separator: ","))]
            )
            if !changed.isEmpty { return true }
        }
        return false
    }

    static func user(_ row: SQLRow) throws -> User {
        let id = try row.string("id")
        guard let userID = UserID(id), let organisation = OrganisationID(try row.string("organisation")),
            let kind = User.Kind(rawValue: try row.string("kind")),
            let clearance = TLP(rawValue: try row.string("clearance"))
        else {
            throw StoreError(.corruptRow, "user \(id) has a field Qila cannot read")
        }
        return User(
            id: userID,
            organisation: organisation,
            kind: kind,
            username: try row.string("username"),
            displayName: try row.string("display_name"),
            email: row.optionalString("email"),
            roles: Set(split(try row.string("roles")).compactMap(Role.init(rawValue:))),
            clearance: clearance,
            auditedOrganisations: Set(split(try row.string("audited")).compactMap(OrganisationID.init)),
            disabled: try row.bool("disabled"),
            createdAt: try row.date("created_at")
        )
    }
}
