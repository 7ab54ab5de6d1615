/// Qila's schema, as numbered migrations. Types are portable: BIGINT, TEXT and BYTES (BLOB on
/// SQLite, BYTEA on PostgreSQL). Times are milliseconds since 1970.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "tenancy, identities and access",
            statements: [
                "CREATE TABLE sectors (id TEXT PRIMARY KEY, name TEXT NOT NULL)",
                """
                CREATE TABLE organisations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                    sector TEXT NOT NULL REFERENCES sectors(id), registration_number TEXT, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id), kind TEXT NOT NULL,
                    username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, email TEXT,
                    roles TEXT NOT NULL, clearance TEXT NOT NULL, audited TEXT NOT NULL, disabled BIGINT NOT NULL,
                    created_at BIGINT NOT NULL, password_hash TEXT, password_changed_at BIGINT, totp_secret BYTES,
                    totp_enabled_at BIGINT, totp_last_step BIGINT, recovery_codes TEXT NOT NULL)
                """,
                "CREATE INDEX users_organisation ON users (organisation)",
                """
                CREATE TABLE sessions (
                    id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    method TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,
                    authenticated_at BIGINT NOT NULL, mfa_at BIGINT, csrf_token TEXT NOT NULL, source_address TEXT,
                    user_agent TEXT)
                """,
                "CREATE INDEX sessions_user ON sessions (user_id)",
                """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
                    prefix TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, revoked_at BIGINT, last_used_at BIGINT)
                """,
                "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
                """
                CREATE TABLE device_certificates (
                    serial TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), common_name TEXT NOT NULL,
                    fingerprint TEXT NOT NULL UNIQUE, not_before BIGINT NOT NULL, not_after BIGINT NOT NULL,
                    revoked_at BIGINT, revocation_reason TEXT)
                """,
                """
                CREATE TABLE one_time_links (
                    token_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, user_id TEXT, created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, used_at BIGINT)
                """,
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            ]
        ),
        Migration(
            version: 2,
            name: "audit log",
            statements: [
                """
                CREATE TABLE audit_entries (
                    idx BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL, actor_organisation TEXT,
                    action TEXT NOT NULL, outcome TEXT NOT NULL, resource TEXT NOT NULL, source_address TEXT,
                    details TEXT NOT NULL, leaf_hash BYTES NOT NULL)
                """,
                "CREATE INDEX audit_entries_action ON audit_entries (action, idx)",
                """
                CREATE TABLE audit_tree_heads (
                    tree_size BIGINT PRIMARY KEY, root_hash TEXT NOT NULL, time BIGINT NOT NULL,
                    ed25519_signature TEXT NOT NULL, mldsa65_signature TEXT NOT NULL)
                """,
            ]
        ),
        Migration(
            version: 3,
            name: "audit entries and signed heads are append-only",
            statements: [],
            dialectStatements: [
                // Defence in depth: ordinary statements cannot change history. Someone with owner
                // rights can drop these; the Merkle tree still shows what they did.
                .sqlite: [
                    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
                    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
                    "CREATE TRIGGER audit_heads_no_update BEFORE UPDATE ON audit_tree_heads BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END",
                    "CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_tree_heads BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END",
                ],
                .postgres: [
                    """
                    CREATE FUNCTION qila_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
                    """,
                    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION qila_append_only()",
                    "CREATE TRIGGER audit_heads_append_only BEFORE UPDATE OR DELETE ON audit_tree_heads FOR EACH ROW EXECUTE FUNCTION qila_append_only()",
                ],
            ]
        ),
        Migration(
            version: 4,
            name: "traffic-data retention: flow sources, retention periods, warrants and their queries",
            statements: [
                """
                CREATE TABLE flow_sources (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id), kind TEXT NOT NULL,
                    name TEXT NOT NULL, address TEXT NOT NULL, domain BIGINT NOT NULL, sealed_secret BYTES,
                    created_at BIGINT NOT NULL, UNIQUE (kind, address, domain))
                """,
                "CREATE INDEX flow_sources_organisation ON flow_sources (organisation)",
                "CREATE TABLE flow_retention (organisation TEXT PRIMARY KEY REFERENCES organisations(id), days BIGINT NOT NULL)",
                """
                CREATE TABLE warrants (
                    id TEXT PRIMARY KEY, provider TEXT NOT NULL REFERENCES organisations(id), court TEXT NOT NULL,
                    number TEXT NOT NULL, issued_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, agency TEXT NOT NULL,
                    investigator TEXT NOT NULL REFERENCES users(id), sealed_scope BYTES NOT NULL, address_count BIGINT NOT NULL,
                    subscriber_count BIGINT NOT NULL, discloses_subscribers BIGINT NOT NULL, window_start BIGINT NOT NULL,
                    window_end BIGINT NOT NULL, status TEXT NOT NULL, recorded_at BIGINT NOT NULL, decided_by TEXT,
                    decided_at BIGINT, decision_note TEXT)
                """,
                "CREATE INDEX warrants_provider ON warrants (provider, recorded_at)",
                "CREATE INDEX warrants_investigator ON warrants (investigator, recorded_at)",
                """
                CREATE TABLE warrant_queries (
                    id TEXT PRIMARY KEY, warrant TEXT NOT NULL REFERENCES warrants(id), actor TEXT NOT NULL REFERENCES users(id),
                    time BIGINT NOT NULL, sealed_scope BYTES NOT NULL, window_start BIGINT NOT NULL, window_end BIGINT NOT NULL,
                    result_count BIGINT NOT NULL, elapsed_ms BIGINT NOT NULL, manifest_sha256 TEXT NOT NULL)
                """,
                "CREATE INDEX warrant_queries_warrant ON warrant_queries (warrant, time)",
            ]
        ),
    ]
}
