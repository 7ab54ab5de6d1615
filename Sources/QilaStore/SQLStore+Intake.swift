public import Foundation
public import QilaCore

/// Rows behind telemetry intake: sensors and their health, hourly volumes, detection rules,
/// alerts with their evidence, first-seen values and the journal checkpoints. What intake has
/// processed is committed in one transaction with the checkpoint that says so, so a replay
/// after a crash neither loses nor repeats an occurrence.
extension SQLStore {
    // MARK: sensors

    public func createSensor(_ sensor: Sensor) async throws {
        try await database.batch([
            SQLStatement(
                """
                INSERT INTO sensors (id, organisation, name, transport, format, mapping, account, addresses, rate_limit, enabled, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(sensor.id.description), .text(sensor.organisation.description), .text(sensor.name), .text(sensor.transport.rawValue),
                    .text(sensor.format.rawValue), .text(sensor.mapping), SQLValue(sensor.account?.description),
                    .text(sensor.addresses.joined(separator: ",")), SQLValue(sensor.rateLimit), SQLValue(sensor.enabled),
                    SQLValue(sensor.createdAt), SQLValue(sensor.createdBy?.description),
                ]),
            SQLStatement(
                "INSERT INTO sensor_health (sensor, events, bytes, refused) VALUES (?, 0, 0, '{}')", [.text(sensor.id.description)]),
        ])
    }

    public func updateSensor(_ sensor: Sensor) async throws {
        try await database.execute(
            """
            UPDATE sensors SET name = ?, transport = ?, format = ?, mapping = ?, account = ?, addresses = ?, rate_limit = ?, enabled = ?
            WHERE id = ?
            """,
            .text(sensor.name), .text(sensor.transport.rawValue), .text(sensor.format.rawValue), .text(sensor.mapping),
            SQLValue(sensor.account?.description), .text(sensor.addresses.joined(separator: ",")), SQLValue(sensor.rateLimit),
            SQLValue(sensor.enabled), .text(sensor.id.description))
    }

    /// Sensors of one organisation, or all, by organisation and name.
    public func sensors(of organisation: OrganisationID? = nil) async throws -> [Sensor] {
        let rows = if let organisation {
            try await database.query("SELECT * FROM sensors WHERE organisation = ? ORDER BY name", .text(organisation.description))
        } else {
            try await database.query("SELECT * FROM sensors ORDER BY organisation, name")
        }
        return try rows.map(Self.sensorRow)
    }

    public func sensor(_ id: Sensor.ID) async throws -> Sensor? {
        try await database.query("SELECT * FROM sensors WHERE id = ?", .text(id.description)).first.map(Self.sensorRow)
    }

    static func sensorRow(_ row: SQLRow) throws -> Sensor {
        let id = try row.string("id")
        guard let sensorID = Sensor.ID(id), let organisation = OrganisationID(try row.string("organisation")),
            let transport = Sensor.Transport(rawValue: try row.string("transport")), let format = Sensor.Format(rawValue: try row.string("format"))
        else { throw StoreError(.corruptRow, "sensor \(id) cannot be read") }
        return Sensor(
            id: sensorID, organisation: organisation, name: try row.string("name"), transport: transport, format: format,
            mapping: try row.string("mapping"), account: row.optionalString("account").flatMap(UserID.init),
            addresses: split(try row.string("addresses")), rateLimit: Int(try row.int("rate_limit")), enabled: try row.bool("enabled"),
            createdAt: try row.date("created_at"), createdBy: row.optionalString("created_by").flatMap(UserID.init))
    }

    public func sensorHealth() async throws -> [Sensor.ID: SensorHealth] {
        var result: [Sensor.ID: SensorHealth] = [:]
        for row in try await database.query("SELECT * FROM sensor_health") {
            guard let id = Sensor.ID(try row.string("sensor")) else { continue }
            result[id] = SensorHealth(
                sensor: id, lastSeen: row.optionalDate("last_seen"), events: try row.int("events"), bytes: try row.int("bytes"),
                refused: Self.decode([String: Int64].self, try row.string("refused")) ?? [:], lastError: row.optionalString("last_error"),
                lastErrorAt: row.optionalDate("last_error_at"))
        }
        return result
    }

    /// Hourly event counts of a sensor (or all sensors of an organisation) since `since`, by type.
    public func sensorVolumes(sensors: [Sensor.ID], since: Date) async throws -> [IntakeCommit.Volume] {
        guard !sensors.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: sensors.count).joined(separator: ", ")
        let rows = try await database.query(
            "SELECT sensor, hour, type, events FROM sensor_volumes WHERE sensor IN (\(marks)) AND hour >= ? ORDER BY hour",
            sensors.map { .text($0.description) } + [.integer(Int64(since.timeIntervalSince1970) / 3600)])
        return try rows.compactMap { row in
            guard let id = Sensor.ID(try row.string("sensor")) else { return nil }
            return IntakeCommit.Volume(sensor: id, hour: try row.int("hour"), type: try row.string("type"), events: try row.int("events"))
        }
    }

    /// What the volume baselines of `hour` are made of: the counts of the same hour of day on the
    /// `days` days before it (and of `hour` itself), and each sensor's and type's total per UTC day
    /// over those days.
    public func volumeHistory(hour: Int64, days: Int) async throws -> VolumeHistory {
        let first = hour - Int64(days) * 24
        let sameHour = try await database.query(
            "SELECT sensor, hour, type, events FROM sensor_volumes WHERE hour >= ? AND hour <= ? AND hour % 24 = ?",
            .integer(first), .integer(hour), .integer(hour % 24))
        let totals = try await database.query(
            """
            SELECT sensor, type, hour / 24 * 24 AS first_hour, CAST(SUM(events) AS BIGINT) AS events FROM sensor_volumes
            WHERE hour >= ? AND hour < ? GROUP BY sensor, type, hour / 24
            """,
            .integer((hour / 24 - Int64(days)) * 24), .integer(hour / 24 * 24))
        var history = VolumeHistory()
        for row in sameHour {
            guard let id = Sensor.ID(try row.string("sensor")) else { continue }
            history.hours.append(.init(sensor: id, hour: try row.int("hour"), type: try row.string("type"), events: try row.int("events")))
        }
        for row in totals {
            guard let id = Sensor.ID(try row.string("sensor")) else { continue }
            history.days.append(.init(sensor: id, hour: try row.int("first_hour"), type: try row.string("type"), events: try row.int("events")))
        }
        return history
    }

    // MARK: detection rules

    public func saveRules(_ rules: [DetectionRule]) async throws {
        try await database.batch(
            rules.map { rule in
                SQLStatement(
                    """
                    INSERT INTO detection_rules (id, title, level, file, yaml, enabled, problems, uploaded_at, uploaded_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET title = excluded.title, level = excluded.level, file = excluded.file, yaml = excluded.yaml,
                        problems = excluded.problems, uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by
                    """,
                    [
                        .text(rule.id), .text(rule.title), SQLValue(rule.level), .text(rule.file), .text(rule.yaml), SQLValue(rule.enabled),
                        .text(Self.json(rule.problems)), SQLValue(rule.uploadedAt), SQLValue(rule.uploadedBy?.description),
                    ])
            })
    }

    public func detectionRules() async throws -> [DetectionRule] {
        try await database.query("SELECT * FROM detection_rules ORDER BY title, id").map(Self.ruleRow)
    }

    public func detectionRule(_ id: String) async throws -> DetectionRule? {
        try await database.query("SELECT * FROM detection_rules WHERE id = ?", .text(id)).first.map(Self.ruleRow)
    }

    public func setRule(_ id: String, enabled: Bool) async throws {
        try await database.execute("UPDATE detection_rules SET enabled = ?, uploaded_at = uploaded_at WHERE id = ?", SQLValue(enabled), .text(id))
        try await bumpRulesVersion()
    }

    public func deleteRule(_ id: String) async throws {
        try await database.execute("DELETE FROM detection_rules WHERE id = ?", .text(id))
        try await bumpRulesVersion()
    }

    /// A number that changes whenever the rules change, so every node can notice and recompile.
    public func rulesVersion() async throws -> Int64 {
        try await database.query("SELECT value FROM settings WHERE key = 'rules.version'").first.flatMap { Int64(try $0.string("value")) } ?? 0
    }

    public func bumpRulesVersion() async throws {
        let next = try await rulesVersion() + 1
        try await database.execute(
            "INSERT INTO settings (key, value) VALUES ('rules.version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", .text(String(next)))
    }

    static func ruleRow(_ row: SQLRow) throws -> DetectionRule {
        DetectionRule(
            id: try row.string("id"), title: try row.string("title"), level: row.optionalString("level"), file: try row.string("file"),
            yaml: try row.string("yaml"), enabled: try row.bool("enabled"), problems: decode([String].self, try row.string("problems")) ?? [],
            uploadedAt: try row.date("uploaded_at"), uploadedBy: row.optionalString("uploaded_by").flatMap(UserID.init))
    }

    // MARK: intake commits

    /// The journal position up to which everything has been committed.
    public func intakeCheckpoint(journal: String) async throws -> Int64? {
        try await database.query("SELECT position FROM intake_checkpoints WHERE journal = ?", .text(journal)).first.map { try $0.int("position") }
    }

    static let volumesJudgedKey = "volume-baselines"

    /// The last hour whose volumes were judged against their baselines.
    public func volumesJudged() async throws -> Int64? {
        try await intakeCheckpoint(journal: Self.volumesJudgedKey)
    }

    /// Writes what the pipeline made of a stretch of the journal, with the checkpoint after it,
    /// in one transaction.
    public func commitIntake(_ commit: IntakeCommit) async throws {
        var statements: [SQLStatement] = []
        for alert in commit.newAlerts { statements.append(Self.insertAlert(alert)) }
        for update in commit.alertUpdates {
            statements.append(
                SQLStatement(
                    "UPDATE alerts SET count = count + ?, last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END WHERE id = ?",
                    [.integer(update.occurrences), SQLValue(update.lastAt), SQLValue(update.lastAt), .text(update.alert.description)]))
        }
        for evidence in commit.evidence {
            statements.append(
                SQLStatement(
                    "INSERT INTO alert_evidence (alert, seq, received_at, event, fields) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [
                        .text(evidence.alert.description), SQLValue(evidence.sequence), SQLValue(evidence.receivedAt), .text(evidence.event),
                        .text(Self.json(evidence.fields)),
                    ]))
        }
        for (alert, campaign) in commit.campaignLinks {
            statements.append(SQLStatement("UPDATE alerts SET campaign = ? WHERE id = ?", [.text(campaign.description), .text(alert.description)]))
        }
        for (campaign, organisations, explanation, lastAt) in commit.campaignUpdates {
            statements.append(
                SQLStatement(
                    "UPDATE alerts SET count = ?, explanation = ?, last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END WHERE id = ?",
                    [.integer(organisations), .text(explanation), SQLValue(lastAt), SQLValue(lastAt), .text(campaign.description)]))
        }
        for volume in commit.volumes {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO sensor_volumes (sensor, hour, type, events) VALUES (?, ?, ?, ?)
                    ON CONFLICT (sensor, type, hour) DO UPDATE SET events = sensor_volumes.events + excluded.events
                    """,
                    [.text(volume.sensor.description), .integer(volume.hour), .text(volume.type), .integer(volume.events)]))
        }
        for health in commit.health {
            // Refusal counts are merged in the application: read-modify-write inside the transaction.
            statements.append(
                SQLStatement(
                    """
                    UPDATE sensor_health SET last_seen = CASE WHEN last_seen IS NULL OR last_seen < ? THEN ? ELSE last_seen END,
                        events = events + ?, bytes = bytes + ?, refused = ?,
                        last_error = COALESCE(?, last_error), last_error_at = COALESCE(?, last_error_at)
                    WHERE sensor = ?
                    """,
                    [
                        SQLValue(health.lastSeen), SQLValue(health.lastSeen), .integer(health.events), .integer(health.bytes),
                        .text(Self.json(health.refused)), SQLValue(health.lastError), SQLValue(health.lastErrorAt),
                        .text(health.sensor.description),
                    ]))
        }
        for value in commit.firstSeen {
            statements.append(
                SQLStatement(
                    "INSERT INTO first_seen (organisation, kind, subject, value, first_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [.text(value.organisation.description), .text(value.kind), .text(value.subject), .text(value.value), SQLValue(value.at)]))
        }
        statements += commit.sightings.map(Self.sightingStatement)
        if let checkpoint = commit.checkpoint {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO intake_checkpoints (journal, position, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (journal) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                    """,
                    [.text(checkpoint.journal), .integer(checkpoint.position), SQLValue(Date())]))
        }
        for input in commit.correlationInputs {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO correlation_inputs (journal, seq, mapping, rules, event, sensor, organisation, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                    [.text(input.journal), .integer(input.sequence), .text(input.mapping), .text(input.rules.joined(separator: "\n")),
                     .blob(input.event), .text(input.sensor.description), .text(input.organisation.description), SQLValue(input.receivedAt)]))
        }
        for (journal, sequence) in commit.correlationCursors {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO intake_checkpoints (journal, position, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (journal) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                    """,
                    [.text(Self.correlationCursorPrefix + journal), .integer(sequence), SQLValue(Date())]))
        }
        if let hour = commit.volumesJudged {
            // Claims the hour for the installation: if another node judged it first, the whole
            // commit fails with a conflict and nothing of it is written twice.
            statements.insert(
                SQLStatement(
                    "INSERT INTO periods_done (job, period, done_at) VALUES (?, ?, ?)", [.text(Self.volumesJudgedKey), .integer(hour), SQLValue(Date())]),
                at: 0)
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO intake_checkpoints (journal, position, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (journal) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                    """,
                    [.text(Self.volumesJudgedKey), .integer(hour), SQLValue(Date())]))
        }
        guard !statements.isEmpty else { return }
        try await database.batch(statements)
    }

    /// Inserts a new alert, or, when another node opened the same group under this id first (see
    /// `claimAlertGroup`), adds this node's occurrences to it.
    static func insertAlert(_ a: SecurityAlert) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO alerts (id, organisation, sensor, kind, rule, title, severity, group_key, host, account, first_at, last_at, count,
                fields, status, reason, triaged_by, triaged_at, case_id, campaign, explanation)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                count = CASE WHEN alerts.kind = 'campaign' THEN (CASE WHEN alerts.count > excluded.count THEN alerts.count ELSE excluded.count END)
                    ELSE alerts.count + excluded.count END,
                first_at = CASE WHEN alerts.first_at < excluded.first_at THEN alerts.first_at ELSE excluded.first_at END,
                last_at = CASE WHEN alerts.last_at > excluded.last_at THEN alerts.last_at ELSE excluded.last_at END
            """,
            [
                .text(a.id.description), .text(a.organisation.description), SQLValue(a.sensor?.description), .text(a.kind.rawValue),
                .text(a.rule), .text(a.title), .text(a.severity.rawValue), .text(a.groupKey), SQLValue(a.host), SQLValue(a.account),
                SQLValue(a.firstAt), SQLValue(a.lastAt), .integer(a.count), .text(Self.json(a.fields)), .text(a.status.rawValue),
                SQLValue(a.reason), SQLValue(a.triagedBy?.description), SQLValue(a.triagedAt), SQLValue(a.caseID?.description),
                SQLValue(a.campaign?.description), SQLValue(a.explanation),
            ])
    }

    // MARK: alerts

    /// Decides which alert a group's occurrences go to when a node finds no open alert for it:
    /// `candidate`, unless another node claimed the group for an alert whose window has not
    /// passed at `time`; then that alert. Nodes opening the same group at once thus agree on one
    /// alert (whose row the first commit inserts and the others add to).
    public func claimAlertGroup(_ groupKey: String, candidate: AlertID, time: Date, until: Date) async throws -> AlertID {
        let claimed = try await database.writeReturning(
            """
            INSERT INTO alert_groups (group_key, alert, until) VALUES (?, ?, ?)
            ON CONFLICT (group_key) DO UPDATE SET alert = excluded.alert, until = excluded.until WHERE alert_groups.until < ?
            RETURNING alert
            """,
            [.text(groupKey), .text(candidate.description), SQLValue(until), SQLValue(time)])
        if let text = claimed.first?.optionalString("alert"), let id = AlertID(text) { return id }
        guard let text = try await database.query("SELECT alert FROM alert_groups WHERE group_key = ?", .text(groupKey)).first?.optionalString("alert"),
            let id = AlertID(text)
        else { throw StoreError(.corruptRow, "the alert group claim for a group vanished") }
        return id
    }

    /// The alert of `groupKey` still open for grouping: the latest whose last occurrence is at or after `since`.
    public func openAlert(groupKey: String, since: Date) async throws -> SecurityAlert? {
        try await database.query(
            "SELECT * FROM alerts WHERE group_key = ? AND last_at >= ? ORDER BY last_at DESC LIMIT 1", .text(groupKey), SQLValue(since)
        ).first.map(Self.alertRow)
    }

    public func alert(_ id: AlertID) async throws -> SecurityAlert? {
        try await database.query("SELECT * FROM alerts WHERE id = ?", .text(id.description)).first.map(Self.alertRow)
    }

    /// Alerts newest first, filtered; `organisations` nil for every organisation.
    public func alerts(_ filter: AlertFilter) async throws -> [SecurityAlert] {
        var clauses: [String] = []
        var binds: [SQLValue] = []
        if let organisations = filter.organisations {
            guard !organisations.isEmpty else { return [] }
            clauses.append("organisation IN (\(Array(repeating: "?", count: organisations.count).joined(separator: ", ")))")
            binds += organisations.map { .text($0.description) }
        }
        if let statuses = filter.statuses, !statuses.isEmpty {
            clauses.append("status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))")
            binds += statuses.map { .text($0.rawValue) }
        }
        if let kinds = filter.kinds, !kinds.isEmpty {
            clauses.append("kind IN (\(Array(repeating: "?", count: kinds.count).joined(separator: ", ")))")
            binds += kinds.map { .text($0.rawValue) }
        }
        if let severities = filter.severities, !severities.isEmpty {
            clauses.append("severity IN (\(Array(repeating: "?", count: severities.count).joined(separator: ", ")))")
            binds += severities.map { .text($0.rawValue) }
        }
        if let sensor = filter.sensor {
            clauses.append("sensor = ?")
            binds.append(.text(sensor.description))
        }
        if let rule = filter.rule {
            clauses.append("rule = ?")
            binds.append(.text(rule))
        }
        if let campaign = filter.campaign {
            clauses.append("campaign = ?")
            binds.append(.text(campaign.description))
        }
        if let text = filter.text, !text.isEmpty {
            clauses.append("(LOWER(title) LIKE ? OR LOWER(host) LIKE ? OR LOWER(account) LIKE ?)")
            let pattern = "%" + text.lowercased().replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "") + "%"
            binds += [.text(pattern), .text(pattern), .text(pattern)]
        }
        if let since = filter.since {
            clauses.append("last_at >= ?")
            binds.append(SQLValue(since))
        }
        let filterSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        binds.append(.integer(Int64(filter.limit)))
        return try await database.query("SELECT * FROM alerts\(filterSQL) ORDER BY last_at DESC, id LIMIT ?", binds).map(Self.alertRow)
    }

    /// Occurrences per rule (the sum of the alerts' counts), for an organisation or all.
    public func alertOccurrences(organisation: OrganisationID? = nil) async throws -> [String: Int64] {
        let rows = if let organisation {
            try await database.query(
                "SELECT rule, SUM(count) AS n FROM alerts WHERE organisation = ? AND kind IN ('rule', 'indicator') GROUP BY rule",
                .text(organisation.description))
        } else {
            try await database.query("SELECT rule, SUM(count) AS n FROM alerts WHERE kind IN ('rule', 'indicator') GROUP BY rule")
        }
        var result: [String: Int64] = [:]
        for row in rows { result[try row.string("rule")] = try row.int("n") }
        return result
    }

    public func evidence(of alert: AlertID) async throws -> [AlertEvidence] {
        try await database.query("SELECT * FROM alert_evidence WHERE alert = ? ORDER BY seq", .text(alert.description)).map { row in
            AlertEvidence(
                alert: alert, sequence: Int(try row.int("seq")), receivedAt: try row.date("received_at"), event: try row.string("event"),
                fields: Self.decode([AlertField].self, try row.string("fields")) ?? [])
        }
    }

    /// Records a triage decision on the alert.
    /// Writes an alert's triage only if its status is still `expected` (what the caller read);
    /// false when someone else, through this node or another, triaged it first.
    public func triageAlert(_ alert: SecurityAlert, expecting expected: SecurityAlert.Status) async throws -> Bool {
        try await !database.writeReturning(
            "UPDATE alerts SET status = ?, reason = ?, triaged_by = ?, triaged_at = ?, case_id = ?, severity = ? WHERE id = ? AND status = ? RETURNING id",
            [.text(alert.status.rawValue), SQLValue(alert.reason), SQLValue(alert.triagedBy?.description), SQLValue(alert.triagedAt),
             SQLValue(alert.caseID?.description), .text(alert.severity.rawValue), .text(alert.id.description), .text(expected.rawValue)]
        ).isEmpty
    }

    /// Organisations with an alert of `rule` (kinds rule and indicator) whose last occurrence is at or after `since`.
    public func organisationsAlerting(rule: String, since: Date) async throws -> [(organisation: OrganisationID, alert: AlertID)] {
        try await database.query(
            "SELECT organisation, id FROM alerts WHERE rule = ? AND kind IN ('rule', 'indicator', 'correlation') AND last_at >= ? ORDER BY last_at",
            .text(rule), SQLValue(since)
        ).compactMap { row in
            guard let organisation = OrganisationID(try row.string("organisation")), let id = AlertID(try row.string("id")) else { return nil }
            return (organisation, id)
        }
    }

    /// The values seen so far for (organisation, kind, subject), and when the first of them was.
    public func firstSeen(organisation: OrganisationID, kind: String, subject: String) async throws -> (values: Set<String>, since: Date?) {
        let rows = try await database.query(
            "SELECT value, first_at FROM first_seen WHERE organisation = ? AND kind = ? AND subject = ?", .text(organisation.description),
            .text(kind), .text(subject))
        return (Set(try rows.map { try $0.string("value") }), try rows.map { try $0.date("first_at") }.min())
    }

    static func alertRow(_ row: SQLRow) throws -> SecurityAlert {
        let id = try row.string("id")
        guard let alertID = AlertID(id), let organisation = OrganisationID(try row.string("organisation")),
            let kind = SecurityAlert.Kind(rawValue: try row.string("kind")), let severity = SecurityAlert.Severity(rawValue: try row.string("severity")),
            let status = SecurityAlert.Status(rawValue: try row.string("status"))
        else { throw StoreError(.corruptRow, "alert \(id) cannot be read") }
        return SecurityAlert(
            id: alertID, organisation: organisation, sensor: row.optionalString("sensor").flatMap(Sensor.ID.init), kind: kind,
            rule: try row.string("rule"), title: try row.string("title"), severity: severity, groupKey: try row.string("group_key"),
            host: row.optionalString("host"), account: row.optionalString("account"), firstAt: try row.date("first_at"),
            lastAt: try row.date("last_at"), count: try row.int("count"), fields: decode([AlertField].self, try row.string("fields")) ?? [],
            status: status, reason: row.optionalString("reason"), triagedBy: row.optionalString("triaged_by").flatMap(UserID.init),
            triagedAt: row.optionalDate("triaged_at"), caseID: row.optionalString("case_id").flatMap(CaseID.init),
            campaign: row.optionalString("campaign").flatMap(AlertID.init), explanation: row.optionalString("explanation"))
    }
}

/// Which alerts to list.
public struct AlertFilter: Sendable {
    public var organisations: [OrganisationID]?
    public var statuses: [SecurityAlert.Status]?
    public var kinds: [SecurityAlert.Kind]?
    public var severities: [SecurityAlert.Severity]?
    public var sensor: Sensor.ID?
    public var rule: String?
    public var campaign: AlertID?
    public var text: String?
    public var since: Date?
    public var limit: Int

    public init(
        organisations: [OrganisationID]? = nil, statuses: [SecurityAlert.Status]? = nil, kinds: [SecurityAlert.Kind]? = nil,
        severities: [SecurityAlert.Severity]? = nil, sensor: Sensor.ID? = nil, rule: String? = nil, campaign: AlertID? = nil,
        text: String? = nil, since: Date? = nil, limit: Int = 200
    ) {
        self.organisations = organisations
        self.statuses = statuses
        self.kinds = kinds
        self.severities = severities
        self.sensor = sensor
        self.rule = rule
        self.campaign = campaign
        self.text = text
        self.since = since
        self.limit = limit
    }
}

/// Stored volumes around an hour being judged; see `SQLStore.volumeHistory(hour:days:)`.
public struct VolumeHistory: Sendable {
    /// The same hour of day on earlier days, and the hour itself.
    public var hours: [IntakeCommit.Volume] = []
    /// Whole earlier days, each under its first hour.
    public var days: [IntakeCommit.Volume] = []
    public init() {}
}

/// What the intake pipeline made of a stretch of the journal, written together.
public struct IntakeCommit: Sendable {
    public struct AlertUpdate: Sendable {
        public var alert: AlertID
        public var occurrences: Int64
        public var lastAt: Date
        public init(alert: AlertID, occurrences: Int64, lastAt: Date) {
            self.alert = alert
            self.occurrences = occurrences
            self.lastAt = lastAt
        }
    }

    /// Events of one type from one sensor in one hour (hours since 1970, UTC).
    public struct Volume: Sendable {
        public var sensor: Sensor.ID
        public var hour: Int64
        public var type: String
        public var events: Int64
        public init(sensor: Sensor.ID, hour: Int64, type: String, events: Int64) {
            self.sensor = sensor
            self.hour = hour
            self.type = type
            self.events = events
        }
    }

    public struct FirstSeen: Sendable, Hashable {
        public var organisation: OrganisationID
        public var kind: String
        public var subject: String
        public var value: String
        public var at: Date
        public init(organisation: OrganisationID, kind: String, subject: String, value: String, at: Date) {
            self.organisation = organisation
            self.kind = kind
            self.subject = subject
            self.value = value
            self.at = at
        }
    }

    public var newAlerts: [SecurityAlert] = []
    public var alertUpdates: [AlertUpdate] = []
    public var evidence: [AlertEvidence] = []
    public var campaignLinks: [(AlertID, AlertID)] = []
    /// Campaign alerts grown: organisations now counted, the new explanation, the latest occurrence.
    public var campaignUpdates: [(AlertID, Int64, String, Date)] = []
    public var volumes: [Volume] = []
    /// Health totals to add; `refused` is the sensor's whole refusal table after this commit.
    public var health: [SensorHealth] = []
    public var firstSeen: [FirstSeen] = []
    /// Matches of shared indicators, added to their sightings.
    public var sightings: [IntelSighting] = []
    public var checkpoint: (journal: String, position: Int64)?
    /// The last hour whose volumes were judged against their baselines, kept with the alerts it raised.
    public var volumesJudged: Int64?
    /// Events for the correlation evaluator, written with the checkpoint of the entries they came from.
    public var correlationInputs: [CorrelationInput] = []
    /// How far the correlation evaluator has read each node's inputs, written with the alerts it raised.
    public var correlationCursors: [(journal: String, sequence: Int64)] = []

    public init(
        newAlerts: [SecurityAlert] = [], alertUpdates: [AlertUpdate] = [], evidence: [AlertEvidence] = [], volumes: [Volume] = [],
        health: [SensorHealth] = [], firstSeen: [FirstSeen] = [], checkpoint: (journal: String, position: Int64)? = nil
    ) {
        self.newAlerts = newAlerts
        self.alertUpdates = alertUpdates
        self.evidence = evidence
        self.volumes = volumes
        self.health = health
        self.firstSeen = firstSeen
        self.checkpoint = checkpoint
    }
}

/// An event a Sigma correlation reads, as one node's intake matched it, waiting for the node that
/// evaluates correlations for the whole installation (whichever holds that lease).
public struct CorrelationInput: Sendable, Equatable {
    /// The node's journal, and a number that grows with the journal position (never reused).
    public var journal: String
    public var sequence: Int64
    public var mapping: String
    /// The keys (file, id or title) of the rules the event matched.
    public var rules: [String]
    public var event: [UInt8]
    public var sensor: Sensor.ID
    public var organisation: OrganisationID
    public var receivedAt: Date

    public init(
        journal: String, sequence: Int64, mapping: String, rules: [String], event: [UInt8], sensor: Sensor.ID, organisation: OrganisationID,
        receivedAt: Date
    ) {
        self.journal = journal
        self.sequence = sequence
        self.mapping = mapping
        self.rules = rules
        self.event = event
        self.sensor = sensor
        self.organisation = organisation
        self.receivedAt = receivedAt
    }
}

extension SQLStore {
    static let correlationCursorPrefix = "correlations:"

    /// The journals that have correlation inputs, each with how far the evaluator has read it.
    public func correlationJournals() async throws -> [(journal: String, cursor: Int64)] {
        let journals = try await database.query("SELECT DISTINCT journal FROM correlation_inputs").map { try $0.string("journal") }
        var cursors: [String: Int64] = [:]
        for row in try await database.query("SELECT journal, position FROM intake_checkpoints WHERE journal LIKE ?", .text(Self.correlationCursorPrefix + "%")) {
            cursors[String(try row.string("journal").dropFirst(Self.correlationCursorPrefix.count))] = try row.int("position")
        }
        return journals.sorted().map { ($0, cursors[$0] ?? -1) }
    }

    /// Inputs of `journal` after `sequence` (up to `through`, if given) received at or after `since`, in order.
    public func correlationInputs(journal: String, after sequence: Int64, through last: Int64 = .max, since: Date? = nil, limit: Int) async throws -> [CorrelationInput] {
        try await database.query(
            "SELECT * FROM correlation_inputs WHERE journal = ? AND seq > ? AND seq <= ? AND received_at >= ? ORDER BY seq LIMIT ?",
            .text(journal), .integer(sequence), .integer(last), SQLValue(since ?? Date(timeIntervalSince1970: 0)), .integer(Int64(limit))
        ).map { row in
            guard let sensor = Sensor.ID(try row.string("sensor")), let organisation = OrganisationID(try row.string("organisation")) else {
                throw StoreError(.corruptRow, "a correlation input names an unreadable sensor or organisation")
            }
            return CorrelationInput(
                journal: try row.string("journal"), sequence: try row.int("seq"), mapping: try row.string("mapping"),
                rules: try row.string("rules").split(separator: "\n").map(String.init), event: row.optionalBytes("event") ?? [],
                sensor: sensor, organisation: organisation, receivedAt: try row.date("received_at"))
        }
    }

    /// Forgets inputs received before `time` (long read, and older than any correlation's window).
    public func pruneCorrelationInputs(before time: Date) async throws {
        try await database.execute("DELETE FROM correlation_inputs WHERE received_at < ?", SQLValue(time))
    }

    /// Forgets group claims whose alert window closed before `groupsClosedBefore` (a claim that has
    /// passed is overwritten by the next anyway) and hours of periodic jobs done before
    /// `periodsDoneBefore` (each job's checkpoint already says it is past them).
    public func pruneIntakeClaims(groupsClosedBefore: Date, periodsDoneBefore: Date) async throws {
        try await database.batch([
            SQLStatement("DELETE FROM alert_groups WHERE until < ?", [SQLValue(groupsClosedBefore)]),
            SQLStatement("DELETE FROM periods_done WHERE done_at < ?", [SQLValue(periodsDoneBefore)]),
        ])
    }
}
