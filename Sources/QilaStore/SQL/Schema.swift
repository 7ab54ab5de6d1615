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
        Migration(
            version: 5,
            name: "incident reporting and case management",
            statements: [
                """
                CREATE TABLE cases (
                    id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, organisation TEXT NOT NULL REFERENCES organisations(id),
                    sector TEXT NOT NULL, title TEXT NOT NULL, awareness BIGINT NOT NULL, regimes TEXT NOT NULL, tlp TEXT NOT NULL,
                    pap TEXT NOT NULL, classification TEXT, offences TEXT NOT NULL, personal_data BIGINT NOT NULL,
                    significance TEXT NOT NULL, severity TEXT, status TEXT NOT NULL, assignee TEXT, reported_by TEXT NOT NULL,
                    on_behalf BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, submitted_at BIGINT,
                    merged_into TEXT)
                """,
                "CREATE INDEX cases_organisation ON cases (organisation, created_at)",
                "CREATE INDEX cases_queue ON cases (status, updated_at)",
                """
                CREATE TABLE case_stages (
                    case_id TEXT NOT NULL REFERENCES cases(id), regime TEXT NOT NULL, stage TEXT NOT NULL, field_values TEXT NOT NULL,
                    submitted_at BIGINT, submitted_by TEXT, on_behalf BIGINT NOT NULL, requested_at BIGINT, requested_by TEXT,
                    updated_at BIGINT NOT NULL, PRIMARY KEY (case_id, regime, stage))
                """,
                """
                CREATE TABLE case_entries (
                    id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), time BIGINT NOT NULL, actor TEXT,
                    actor_organisation TEXT, kind TEXT NOT NULL, text TEXT NOT NULL, shared BIGINT NOT NULL)
                """,
                "CREATE INDEX case_entries_case ON case_entries (case_id, time)",
                """
                CREATE TABLE case_tasks (
                    id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), title TEXT NOT NULL, assignee TEXT, due BIGINT,
                    created_at BIGINT NOT NULL, created_by TEXT NOT NULL, done_at BIGINT, done_by TEXT)
                """,
                "CREATE INDEX case_tasks_case ON case_tasks (case_id)",
                """
                CREATE TABLE case_requests (
                    id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), question TEXT NOT NULL, asked_by TEXT NOT NULL,
                    asked_at BIGINT NOT NULL, due BIGINT, answer TEXT, answered_by TEXT, answered_at BIGINT)
                """,
                "CREATE INDEX case_requests_case ON case_requests (case_id)",
                """
                CREATE TABLE case_observables (
                    case_id TEXT NOT NULL REFERENCES cases(id), kind TEXT NOT NULL, value TEXT NOT NULL, added_at BIGINT NOT NULL,
                    added_by TEXT, PRIMARY KEY (case_id, kind, value))
                """,
                "CREATE INDEX case_observables_value ON case_observables (kind, value)",
                """
                CREATE TABLE case_attachments (
                    id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), sha256 TEXT NOT NULL, name TEXT NOT NULL,
                    media_type TEXT NOT NULL, size BIGINT NOT NULL, uploaded_at BIGINT NOT NULL, uploaded_by TEXT NOT NULL)
                """,
                "CREATE INDEX case_attachments_case ON case_attachments (case_id)",
                """
                CREATE TABLE case_links (
                    case_a TEXT NOT NULL REFERENCES cases(id), case_b TEXT NOT NULL REFERENCES cases(id), kind TEXT NOT NULL,
                    created_at BIGINT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (case_a, case_b))
                """,
                """
                CREATE TABLE case_alerts (
                    case_id TEXT NOT NULL REFERENCES cases(id), regime TEXT NOT NULL, stage TEXT NOT NULL, kind TEXT NOT NULL,
                    time BIGINT NOT NULL, PRIMARY KEY (case_id, regime, stage, kind))
                """,
                """
                CREATE TABLE compliance_notices (
                    id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, organisation TEXT NOT NULL REFERENCES organisations(id),
                    case_id TEXT NOT NULL REFERENCES cases(id), stages TEXT NOT NULL, issued_at BIGINT NOT NULL,
                    issued_by TEXT NOT NULL, reply_days BIGINT NOT NULL, text TEXT NOT NULL)
                """,
                "CREATE INDEX compliance_notices_organisation ON compliance_notices (organisation, issued_at)",
                """
                CREATE TABLE webhooks (
                    id TEXT PRIMARY KEY, organisation TEXT REFERENCES organisations(id), url TEXT NOT NULL, sealed_secret BYTES NOT NULL,
                    events TEXT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL, active BIGINT NOT NULL)
                """,
                """
                CREATE TABLE notification_outbox (
                    id TEXT PRIMARY KEY, channel TEXT NOT NULL, target TEXT NOT NULL, event TEXT NOT NULL, subject TEXT NOT NULL,
                    payload TEXT NOT NULL, created_at BIGINT NOT NULL, attempts BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL,
                    delivered_at BIGINT, given_up_at BIGINT, last_error TEXT)
                """,
                "CREATE INDEX notification_outbox_pending ON notification_outbox (delivered_at, next_attempt_at)",
            ]
        ),
        Migration(
            version: 6,
            name: "telemetry intake, alerts and detection rules",
            statements: [
                """
                CREATE TABLE sensors (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id), name TEXT NOT NULL,
                    transport TEXT NOT NULL, format TEXT NOT NULL, mapping TEXT NOT NULL, account TEXT REFERENCES users(id),
                    addresses TEXT NOT NULL, rate_limit BIGINT NOT NULL, enabled BIGINT NOT NULL, created_at BIGINT NOT NULL,
                    created_by TEXT, UNIQUE (organisation, name))
                """,
                """
                CREATE TABLE sensor_health (
                    sensor TEXT PRIMARY KEY REFERENCES sensors(id), last_seen BIGINT, events BIGINT NOT NULL, bytes BIGINT NOT NULL,
                    refused TEXT NOT NULL, last_error TEXT, last_error_at BIGINT)
                """,
                """
                CREATE TABLE sensor_volumes (
                    sensor TEXT NOT NULL REFERENCES sensors(id), hour BIGINT NOT NULL, type TEXT NOT NULL, events BIGINT NOT NULL,
                    PRIMARY KEY (sensor, type, hour))
                """,
                """
                CREATE TABLE detection_rules (
                    id TEXT PRIMARY KEY, title TEXT NOT NULL, level TEXT, file TEXT NOT NULL, yaml TEXT NOT NULL, enabled BIGINT NOT NULL,
                    problems TEXT NOT NULL, uploaded_at BIGINT NOT NULL, uploaded_by TEXT)
                """,
                """
                CREATE TABLE alerts (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL REFERENCES organisations(id), sensor TEXT, kind TEXT NOT NULL,
                    rule TEXT NOT NULL, title TEXT NOT NULL, severity TEXT NOT NULL, group_key TEXT NOT NULL, host TEXT, account TEXT,
                    first_at BIGINT NOT NULL, last_at BIGINT NOT NULL, count BIGINT NOT NULL, fields TEXT NOT NULL, status TEXT NOT NULL,
                    reason TEXT, triaged_by TEXT, triaged_at BIGINT, case_id TEXT, campaign TEXT, explanation TEXT)
                """,
                "CREATE INDEX alerts_group ON alerts (group_key, last_at)",
                "CREATE INDEX alerts_queue ON alerts (status, last_at)",
                "CREATE INDEX alerts_organisation ON alerts (organisation, last_at)",
                "CREATE INDEX alerts_rule ON alerts (rule, last_at)",
                """
                CREATE TABLE alert_evidence (
                    alert TEXT NOT NULL REFERENCES alerts(id), seq BIGINT NOT NULL, received_at BIGINT NOT NULL, event TEXT NOT NULL,
                    fields TEXT NOT NULL, PRIMARY KEY (alert, seq))
                """,
                "CREATE TABLE intake_checkpoints (journal TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
                """
                CREATE TABLE first_seen (
                    organisation TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, value TEXT NOT NULL, first_at BIGINT NOT NULL,
                    PRIMARY KEY (organisation, kind, subject, value))
                """,
            ]
        ),
        Migration(
            version: 7,
            name: "volume baselines read hours across sensors",
            statements: ["CREATE INDEX sensor_volumes_hour ON sensor_volumes (hour)"]
        ),
        Migration(
            version: 8,
            name: "admin tokens carry their second factor; sign-in throttling shared by every node",
            statements: [
                "ALTER TABLE api_tokens ADD COLUMN second_factor_at BIGINT",
                """
                CREATE TABLE sign_in_throttle (
                    key TEXT PRIMARY KEY, failures BIGINT NOT NULL, window_start BIGINT NOT NULL, held_until BIGINT,
                    updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX sign_in_throttle_updated ON sign_in_throttle (updated_at)",
            ]
        ),
        Migration(
            version: 9,
            name: "a refused form waits, sealed, for the page that shows it again",
            statements: [
                "CREATE TABLE refused_forms (id TEXT PRIMARY KEY, session_hash TEXT NOT NULL, sealed BYTES NOT NULL, created_at BIGINT NOT NULL)",
                "CREATE INDEX refused_forms_created ON refused_forms (created_at)",
            ]
        ),
        Migration(
            version: 10,
            name: "several nodes, one installation: shared secrets sealed under the installation key, leases, the node registry",
            statements: [
                """
                CREATE TABLE installation_secrets (
                    key_id TEXT NOT NULL, name TEXT NOT NULL, sealed BYTES NOT NULL, created_at BIGINT NOT NULL,
                    PRIMARY KEY (key_id, name))
                """,
                "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
                // A periodic job's period done once for the installation: the insert fails for a second node.
                // Which alert a group's occurrences go to, so that nodes opening a group at once agree.
                "CREATE TABLE alert_groups (group_key TEXT PRIMARY KEY, alert TEXT NOT NULL, until BIGINT NOT NULL)",
                // Events a Sigma correlation reads, from every node, for the one node that evaluates correlations.
                """
                CREATE TABLE correlation_inputs (
                    journal TEXT NOT NULL, seq BIGINT NOT NULL, mapping TEXT NOT NULL, rules TEXT NOT NULL, event BYTES NOT NULL,
                    sensor TEXT NOT NULL, organisation TEXT NOT NULL, received_at BIGINT NOT NULL, PRIMARY KEY (journal, seq))
                """,
                "CREATE INDEX correlation_inputs_received ON correlation_inputs (received_at)",
                // Case attachments' content, once per SHA-256, where every node reads it.
                "CREATE TABLE attachment_contents (sha256 TEXT PRIMARY KEY, content BYTES NOT NULL, size BIGINT NOT NULL)",
                "CREATE TABLE periods_done (job TEXT NOT NULL, period BIGINT NOT NULL, done_at BIGINT NOT NULL, PRIMARY KEY (job, period))",
                """
                CREATE TABLE nodes (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, address TEXT, owns TEXT NOT NULL, health TEXT NOT NULL,
                    started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)
                """,
            ]
        ),
        Migration(
            version: 11,
            name: "warrant export packages in the database, where the investigator downloads them from any node",
            statements: [
                "CREATE TABLE warrant_exports (query TEXT PRIMARY KEY, sealed BYTES NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL)"
            ]
        ),
        Migration(
            version: 12,
            name: "threat-intelligence sharing: collections, STIX objects with their versions and TLP, recipients, disclosures, TAXII status",
            statements: [
                """
                CREATE TABLE intel_collections (
                    id TEXT PRIMARY KEY, root TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL,
                    description TEXT NOT NULL, organisation TEXT, sector TEXT, audience TEXT NOT NULL, created_at BIGINT NOT NULL,
                    UNIQUE (kind, key))
                """,
                // One row per version of an object in a collection; times in microseconds since 1970.
                """
                CREATE TABLE intel_objects (
                    collection TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, version_text TEXT NOT NULL, type TEXT NOT NULL,
                    spec_version TEXT NOT NULL, date_added BIGINT NOT NULL, producer TEXT NOT NULL, added_by TEXT NOT NULL,
                    tlp BIGINT NOT NULL, revoked BIGINT NOT NULL, source TEXT, name TEXT, body BYTES NOT NULL,
                    pattern TEXT, valid_from BIGINT, valid_until BIGINT, confidence BIGINT,
                    PRIMARY KEY (collection, id, version))
                """,
                "CREATE INDEX intel_objects_added ON intel_objects (collection, date_added, id, version)",
                "CREATE INDEX intel_objects_id ON intel_objects (id)",
                // Who may read an AMBER object besides its producer (organisations), and a RED one (people).
                """
                CREATE TABLE intel_recipients (
                    collection TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, organisation TEXT, person TEXT)
                """,
                "CREATE INDEX intel_recipients_object ON intel_recipients (collection, id, version)",
                """
                CREATE TABLE intel_disclosures (
                    collection TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL, producer TEXT NOT NULL, tlp BIGINT NOT NULL,
                    account TEXT NOT NULL, organisation TEXT NOT NULL, time BIGINT NOT NULL)
                """,
                "CREATE INDEX intel_disclosures_producer ON intel_disclosures (producer, time)",
                // The organisations a producer shares its AMBER objects in a collection with, when a request names none.
                "CREATE TABLE intel_sharing (collection TEXT NOT NULL, producer TEXT NOT NULL, recipients TEXT NOT NULL, PRIMARY KEY (collection, producer))",
                // The values an object version names (lower case: names, observable values, pattern values, hashes), for search.
                "CREATE TABLE intel_values (value TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, version BIGINT NOT NULL)",
                "CREATE INDEX intel_values_value ON intel_values (value)",
                // Sightings of indicators (by STIX id), counted per organisation, kind, source and day.
                """
                CREATE TABLE intel_sightings (
                    indicator TEXT NOT NULL, organisation TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, day BIGINT NOT NULL,
                    count BIGINT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, account TEXT, note TEXT,
                    PRIMARY KEY (indicator, organisation, kind, source, day))
                """,
                "CREATE INDEX intel_sightings_last ON intel_sightings (last_seen)",
                // An analyst's score for an indicator, kept until removed.
                "CREATE TABLE intel_score_overrides (indicator TEXT PRIMARY KEY, score BIGINT NOT NULL, reason TEXT NOT NULL, account TEXT NOT NULL, time BIGINT NOT NULL)",
                // TAXII collections of other servers the authority subscribes to, polled into a local collection.
                """
                CREATE TABLE intel_peers (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, local_collection TEXT NOT NULL, username TEXT NOT NULL,
                    sealed_password BYTES NOT NULL, trust TEXT, interval_seconds BIGINT NOT NULL, cursor TEXT, polled_at BIGINT, last_error TEXT,
                    objects BIGINT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE intel_status (
                    id TEXT PRIMARY KEY, collection TEXT NOT NULL, account TEXT NOT NULL, organisation TEXT NOT NULL, body BYTES NOT NULL,
                    created_at BIGINT NOT NULL)
                """,
            ]
        ),
        Migration(
            version: 13,
            name: "peers may be MISP feeds as well as TAXII collections",
            statements: [
                "ALTER TABLE intel_peers ADD COLUMN format TEXT NOT NULL DEFAULT 'taxii'"
            ]
        ),
        Migration(
            version: 14,
            name: "large TAXII requests answered at once and finished by a job any node claims",
            statements: [
                // The request's objects wait here, beside their status, until a node has stored them;
                // a node holds one until `held_until` and renews it as it goes.
                """
                CREATE TABLE intel_pending_adds (
                    status TEXT PRIMARY KEY, collection TEXT NOT NULL, account TEXT NOT NULL, organisation TEXT NOT NULL, objects BYTES NOT NULL,
                    total BIGINT NOT NULL, recipients TEXT NOT NULL, source TEXT, accepted_at BIGINT NOT NULL, held_by TEXT,
                    held_until BIGINT NOT NULL, attempts BIGINT NOT NULL)
                """,
                "CREATE INDEX intel_pending_adds_due ON intel_pending_adds (held_until)",
            ]
        ),
        Migration(
            version: 15,
            name: "assessment frameworks the authority adds, every version kept",
            statements: [
                """
                CREATE TABLE assessment_frameworks (
                    id TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, added_by TEXT NOT NULL,
                    added_at BIGINT NOT NULL, PRIMARY KEY (id, version))
                """
            ]
        ),
        Migration(
            version: 16,
            name: "assessment campaigns and directives, answers, attestations; organisations classed by criticality; notices about campaigns",
            statements: [
                "ALTER TABLE organisations ADD COLUMN criticality TEXT",
                // A show-cause notice now concerns a case or a campaign: the table is rebuilt with
                // case_id optional and campaign_id added (SQLite cannot relax NOT NULL in place).
                """
                CREATE TABLE compliance_notices_v16 (
                    id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, organisation TEXT NOT NULL REFERENCES organisations(id),
                    case_id TEXT REFERENCES cases(id), campaign_id TEXT, stages TEXT NOT NULL, issued_at BIGINT NOT NULL,
                    issued_by TEXT NOT NULL, reply_days BIGINT NOT NULL, text TEXT NOT NULL)
                """,
                """
                INSERT INTO compliance_notices_v16 (id, number, organisation, case_id, stages, issued_at, issued_by, reply_days, text)
                SELECT id, number, organisation, case_id, stages, issued_at, issued_by, reply_days, text FROM compliance_notices
                """,
                "DROP TABLE compliance_notices",
                "ALTER TABLE compliance_notices_v16 RENAME TO compliance_notices",
                "CREATE INDEX compliance_notices_organisation ON compliance_notices (organisation, issued_at)",
                """
                CREATE TABLE assessment_campaigns (
                    id TEXT PRIMARY KEY, title TEXT NOT NULL, framework TEXT NOT NULL, framework_version TEXT NOT NULL,
                    requirements TEXT NOT NULL, targets TEXT NOT NULL, cycle TEXT NOT NULL, sector TEXT, opens_at BIGINT NOT NULL,
                    due_at BIGINT NOT NULL, reminder_days BIGINT NOT NULL, grace_days BIGINT NOT NULL, created_by TEXT NOT NULL,
                    created_by_organisation TEXT NOT NULL, created_at BIGINT NOT NULL, closed_at BIGINT, directive TEXT)
                """,
                // An addressee's acknowledgement of a directive.
                """
                CREATE TABLE directive_acknowledgements (
                    campaign_id TEXT NOT NULL, organisation TEXT NOT NULL, acknowledged_by TEXT NOT NULL, acknowledged_at BIGINT NOT NULL,
                    PRIMARY KEY (campaign_id, organisation))
                """,
                """
                CREATE TABLE assessment_participants (
                    campaign_id TEXT NOT NULL REFERENCES assessment_campaigns(id), organisation TEXT NOT NULL REFERENCES organisations(id),
                    sector TEXT NOT NULL, submitted_at BIGINT, submitted_by TEXT, assignee TEXT, PRIMARY KEY (campaign_id, organisation))
                """,
                "CREATE INDEX assessment_participants_organisation ON assessment_participants (organisation)",
                """
                CREATE TABLE assessment_answers (
                    campaign_id TEXT NOT NULL, organisation TEXT NOT NULL, requirement TEXT NOT NULL, choice TEXT NOT NULL,
                    comment TEXT NOT NULL, evidence TEXT NOT NULL, answered_by TEXT NOT NULL, answered_at BIGINT NOT NULL,
                    PRIMARY KEY (campaign_id, organisation, requirement))
                """,
                """
                CREATE TABLE assessment_attestations (
                    campaign_id TEXT NOT NULL, organisation TEXT NOT NULL, requirement TEXT NOT NULL, verdict TEXT NOT NULL,
                    choice TEXT NOT NULL, comment TEXT NOT NULL, evidence TEXT NOT NULL, auditor TEXT NOT NULL,
                    auditor_organisation TEXT NOT NULL, attested_at BIGINT NOT NULL, PRIMARY KEY (campaign_id, organisation, requirement))
                """,
                // Each submitted assessment's scores, kept so that roll-ups read one row per
                // organisation: `nodes` holds the overall score, then one per node of the framework's
                // tree in its order ("-" where none), `overall` the first of them alone (both in
                // ten-thousandths) for the trend, which needs no more; `basis` is self-declared or audited.
                """
                CREATE TABLE assessment_scores (
                    campaign_id TEXT NOT NULL, organisation TEXT NOT NULL, basis TEXT NOT NULL, overall BIGINT,
                    answered BIGINT NOT NULL, asked BIGINT NOT NULL, attested BIGINT NOT NULL, nodes TEXT NOT NULL,
                    PRIMARY KEY (campaign_id, organisation, basis))
                """,
                // A reminder or a notice sent for a participant, claimed once across nodes.
                """
                CREATE TABLE assessment_alerts (
                    campaign_id TEXT NOT NULL, organisation TEXT NOT NULL, kind TEXT NOT NULL, time BIGINT NOT NULL,
                    PRIMARY KEY (campaign_id, organisation, kind))
                """,
            ]
        ),
        Migration(
            version: 17,
            name: "the public portal: guides and alerts the authority publishes, citizens' complaints, reports of suspicious messages",
            statements: [
                """
                CREATE TABLE public_publications (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, title TEXT NOT NULL, title_ur TEXT NOT NULL,
                    body TEXT NOT NULL, body_ur TEXT NOT NULL, published_at BIGINT NOT NULL, published_by TEXT NOT NULL,
                    updated_at BIGINT NOT NULL, withdrawn_at BIGINT)
                """,
                "CREATE INDEX public_publications_published ON public_publications (published_at)",
                // A complaint is a case of the agency's; this row holds what only the portal needs:
                // the tracking number, the secret's hash, and the contact details, sealed.
                """
                CREATE TABLE public_complaints (
                    id TEXT PRIMARY KEY, tracking TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL, category TEXT NOT NULL,
                    case_id TEXT NOT NULL REFERENCES cases(id), sealed_contact BYTES, language TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                "CREATE INDEX public_complaints_case ON public_complaints (case_id)",
                """
                CREATE TABLE suspicious_reports (
                    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, url TEXT NOT NULL, sender TEXT NOT NULL,
                    headers TEXT NOT NULL, description TEXT NOT NULL, language TEXT NOT NULL, created_at BIGINT NOT NULL, status TEXT NOT NULL,
                    decided_by TEXT, decided_at BIGINT, note TEXT NOT NULL, intel_object TEXT)
                """,
                "CREATE INDEX suspicious_reports_status ON suspicious_reports (status, created_at)",
            ]
        ),
        Migration(
            version: 18,
            name: "training and awareness: courses, the people of each organisation, enrolments, completions, phishing-simulation results",
            statements: [
                """
                CREATE TABLE training_courses (
                    id TEXT PRIMARY KEY, organisation TEXT, title TEXT NOT NULL, kind TEXT NOT NULL, audience TEXT NOT NULL,
                    duration_minutes BIGINT NOT NULL, materials TEXT NOT NULL, passing_mark BIGINT NOT NULL, created_by TEXT NOT NULL,
                    created_at BIGINT NOT NULL, retired_at BIGINT)
                """,
                // The people of an organisation as training knows them: by e-mail, most are not Qila users.
                """
                CREATE TABLE training_people (
                    organisation TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL, position TEXT NOT NULL, added_at BIGINT NOT NULL,
                    PRIMARY KEY (organisation, email))
                """,
                "CREATE TABLE training_headcounts (organisation TEXT PRIMARY KEY, headcount BIGINT NOT NULL, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL)",
                """
                CREATE TABLE training_enrolments (
                    course TEXT NOT NULL, organisation TEXT NOT NULL, email TEXT NOT NULL, enrolled_at BIGINT NOT NULL, enrolled_by TEXT NOT NULL,
                    reason TEXT NOT NULL, due_at BIGINT, PRIMARY KEY (course, organisation, email))
                """,
                """
                CREATE TABLE training_completions (
                    id TEXT PRIMARY KEY, course TEXT NOT NULL, organisation TEXT NOT NULL, email TEXT NOT NULL, score BIGINT NOT NULL,
                    passed BIGINT NOT NULL, completed_at BIGINT NOT NULL, recorded_by TEXT NOT NULL, revoked_at BIGINT)
                """,
                "CREATE INDEX training_completions_organisation ON training_completions (organisation, completed_at)",
                """
                CREATE TABLE phishing_campaigns (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL, name TEXT NOT NULL, launched_at BIGINT NOT NULL, imported_at BIGINT NOT NULL,
                    imported_by TEXT NOT NULL, sent BIGINT NOT NULL, opened BIGINT NOT NULL, clicked BIGINT NOT NULL, submitted BIGINT NOT NULL,
                    reported BIGINT NOT NULL, enrolled_course TEXT)
                """,
                "CREATE INDEX phishing_campaigns_organisation ON phishing_campaigns (organisation, launched_at)",
                """
                CREATE TABLE phishing_results (
                    campaign TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL, opened BIGINT NOT NULL, clicked BIGINT NOT NULL,
                    submitted BIGINT NOT NULL, reported BIGINT NOT NULL, PRIMARY KEY (campaign, email))
                """,
            ]
        ),
        Migration(
            version: 19,
            name: "the national catalogue of known exploited vulnerabilities: entries (CISA's and the authority's), removals, due dates",
            statements: [
                // One row per CVE; a removed entry keeps its row with the date, reason and who removed it.
                """
                CREATE TABLE kev_entries (
                    cve TEXT PRIMARY KEY, source TEXT NOT NULL, vendor_project TEXT NOT NULL, product TEXT NOT NULL,
                    vulnerability_name TEXT NOT NULL, date_added TEXT NOT NULL, short_description TEXT NOT NULL,
                    required_action TEXT NOT NULL, due_date TEXT NOT NULL, ransomware TEXT NOT NULL, notes TEXT NOT NULL,
                    cwes TEXT NOT NULL, tlp TEXT NOT NULL, catalog_version TEXT NOT NULL, updated_at BIGINT NOT NULL,
                    updated_by TEXT NOT NULL, removed_on TEXT, removal_reason TEXT, removed_by TEXT, removed_by_import BIGINT)
                """,
                "CREATE INDEX kev_entries_added ON kev_entries (date_added, cve)",
                // Days after an entry's addition to fix it, for a sector or a criticality class;
                // `cve` empty for every entry, else that entry alone (a fixed date then, or days).
                """
                CREATE TABLE kev_deadlines (
                    cve TEXT NOT NULL, scope TEXT NOT NULL, scope_value TEXT NOT NULL, days BIGINT, due_date TEXT,
                    set_by TEXT NOT NULL, set_at BIGINT NOT NULL, PRIMARY KEY (cve, scope, scope_value))
                """,
            ]
        ),
        Migration(
            version: 20,
            name: "advisories: drafts under review and published revisions with their CSAF documents, hashes and signatures",
            statements: [
                // The working copy: `draft` is the form as typed (JSON); `state` draft or review.
                """
                CREATE TABLE advisories (
                    id TEXT PRIMARY KEY, tracking_id TEXT NOT NULL UNIQUE, year BIGINT NOT NULL, sequence BIGINT NOT NULL,
                    title TEXT NOT NULL, tlp TEXT NOT NULL, state TEXT NOT NULL, draft TEXT NOT NULL,
                    created_by TEXT NOT NULL, created_at BIGINT NOT NULL, updated_by TEXT NOT NULL, updated_at BIGINT NOT NULL,
                    submitted_by TEXT, submitted_at BIGINT, review_note TEXT, published_version BIGINT NOT NULL,
                    UNIQUE (year, sequence))
                """,
                // One row per published revision, never changed: the checked content, the CSAF
                // document's exact bytes, their hashes and the detached OpenPGP signature.
                """
                CREATE TABLE advisory_revisions (
                    advisory_id TEXT NOT NULL, number BIGINT NOT NULL, title TEXT NOT NULL, tlp TEXT NOT NULL,
                    audience TEXT NOT NULL, content TEXT NOT NULL, summary TEXT NOT NULL, path TEXT NOT NULL,
                    document BYTES NOT NULL, sha256 TEXT NOT NULL, sha512 TEXT NOT NULL, signature TEXT NOT NULL,
                    published_by TEXT NOT NULL, reviewed_by TEXT NOT NULL, published_at BIGINT NOT NULL,
                    PRIMARY KEY (advisory_id, number))
                """,
                "CREATE INDEX advisory_revisions_published ON advisory_revisions (published_at)",
            ]
        ),
        Migration(
            version: 21,
            name: "inventories of what organisations run, and their statements on each exposure",
            statements: [
                // An inventory is a named file an organisation imports (an SBOM, a CSV); importing one
                // of the same name again replaces its components.
                """
                CREATE TABLE inventories (
                    id TEXT PRIMARY KEY, organisation TEXT NOT NULL, name TEXT NOT NULL, format TEXT NOT NULL, components BIGINT NOT NULL,
                    imported_by TEXT NOT NULL, imported_at BIGINT NOT NULL, UNIQUE (organisation, name))
                """,
                """
                CREATE TABLE inventory_components (
                    id TEXT PRIMARY KEY, inventory TEXT NOT NULL, organisation TEXT NOT NULL, vendor TEXT NOT NULL, name TEXT NOT NULL,
                    version TEXT NOT NULL, cpe TEXT, purl TEXT)
                """,
                "CREATE INDEX inventory_components_organisation ON inventory_components (organisation, inventory)",
                // What an organisation says of one exposure (a component, by vendor, name and
                // version, to a KEV entry or an advisory's product): kept across re-imports.
                """
                CREATE TABLE exposure_statements (
                    organisation TEXT NOT NULL, component TEXT NOT NULL, kind TEXT NOT NULL, reference TEXT NOT NULL, status TEXT NOT NULL,
                    justification TEXT, note TEXT NOT NULL, stated_by TEXT NOT NULL, stated_at BIGINT NOT NULL,
                    PRIMARY KEY (organisation, component, kind, reference))
                """,
            ]
        ),
        Migration(
            version: 22,
            name: "reminders and escalations of exposure due dates, each claimed once",
            statements: [
                """
                CREATE TABLE exposure_alerts (
                    organisation TEXT NOT NULL, component TEXT NOT NULL, kind TEXT NOT NULL, reference TEXT NOT NULL, alert TEXT NOT NULL,
                    due TEXT NOT NULL, time BIGINT NOT NULL, PRIMARY KEY (organisation, component, kind, reference, alert, due))
                """
            ]
        ),
        Migration(
            version: 23,
            name: "coordinated vulnerability disclosure: researchers' reports, cases, their vendors",
            statements: [
                // A vulnerability reported on the public pages; the reporter's contact details sealed.
                """
                CREATE TABLE vulnerability_reports (
                    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL,
                    description TEXT NOT NULL, credit TEXT NOT NULL, sealed_contact BYTES, language TEXT NOT NULL, created_at BIGINT NOT NULL,
                    status TEXT NOT NULL, case_id TEXT, decided_by TEXT, decided_at BIGINT, note TEXT NOT NULL)
                """,
                "CREATE INDEX vulnerability_reports_created ON vulnerability_reports (status, created_at)",
                // A coordination case: its embargo as an instant and the time zone it was agreed in,
                // the advisory that will publish it, and who approved its release at the embargo's end.
                """
                CREATE TABLE disclosure_cases (
                    id TEXT PRIMARY KEY, tracking_id TEXT NOT NULL UNIQUE, year BIGINT NOT NULL, sequence BIGINT NOT NULL, title TEXT NOT NULL,
                    summary TEXT NOT NULL, status TEXT NOT NULL, embargo_at BIGINT, embargo_zone TEXT, report_id TEXT, advisory_id TEXT,
                    release_by TEXT, release_summary TEXT, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                    UNIQUE (year, sequence))
                """,
                """
                CREATE TABLE disclosure_vendors (
                    case_id TEXT NOT NULL, organisation TEXT NOT NULL, status TEXT NOT NULL, statement TEXT NOT NULL, embargo_agreed BIGINT NOT NULL,
                    added_at BIGINT NOT NULL, updated_by TEXT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (case_id, organisation))
                """,
                "CREATE INDEX disclosure_vendors_organisation ON disclosure_vendors (organisation)",
            ]
        ),
    ]
}
