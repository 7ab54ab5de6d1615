public import Foundation
public import QilaCore

/// Rows behind incident reporting and case management. A change to a case and the timeline
/// entries that record it are written in one transaction, so the timeline never misses a change
/// and never shows one that did not happen.
extension SQLStore {
    // MARK: cases

    /// Stores a new case, numbering it `<prefix>-<year>-<n>` with the next free number of the year.
    public func createCase(_ incident: IncidentCase, prefix: String = "QC", entries: [CaseEntry]) async throws -> IncidentCase {
        var incident = incident
        incident.number = try await insertNumbered(prefix: prefix, table: "cases", at: incident.createdAt) { number in
            incident.number = number
            return [Self.insertCase(incident)] + entries.map(Self.insertEntry)
        }
        return incident
    }

    /// Inserts a row numbered `<prefix>-<year>-<nnnn>` in `table`, taking the next number of the
    /// year; when another node took it first (the unique key conflicts), tries the next one.
    func insertNumbered(prefix: String, table: String, at time: Date, _ statements: (String) -> [SQLStatement]) async throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: time)
        let taken = try await database.query("SELECT COUNT(*) AS n FROM \(table) WHERE number LIKE ?", .text("\(prefix)-\(year)-%")).first?.int("n") ?? 0
        for attempt in 0..<8 {
            let number = String(format: "%@-%d-%04d", prefix, year, Int(taken) + 1 + attempt)
            do {
                try await database.batch(statements(number))
                return number
            } catch let error as StoreError where error.code == .conflict {
                continue
            }
        }
        throw StoreError(.conflict, "no free \(prefix) number for \(year)")
    }

    static func insertCase(_ c: IncidentCase) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO cases (id, number, organisation, sector, title, awareness, regimes, tlp, pap, classification, offences,
                personal_data, significance, severity, status, assignee, reported_by, on_behalf, created_at, updated_at, submitted_at, merged_into)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(c.id.description), .text(c.number), .text(c.organisation.description), .text(c.sector.rawValue), .text(c.title),
                SQLValue(c.awareness), .text(c.regimes.joined(separator: ",")), .text(c.tlp.rawValue), .text(c.pap), SQLValue(c.classification),
                .text(c.offences.map(String.init).joined(separator: ",")), SQLValue(c.personalData), .text(Self.json(c.significance)),
                SQLValue(c.severity?.rawValue), .text(c.status.rawValue), SQLValue(c.assignee?.description), .text(c.reportedBy.description),
                SQLValue(c.onBehalf), SQLValue(c.createdAt), SQLValue(c.updatedAt), SQLValue(c.submittedAt), SQLValue(c.mergedInto?.description),
            ])
    }

    /// Writes the case's changeable fields and appends `entries`, together.
    public func updateCase(_ c: IncidentCase, entries: [CaseEntry], also: [SQLStatement] = []) async throws {
        let update = SQLStatement(
            """
            UPDATE cases SET title = ?, awareness = ?, regimes = ?, tlp = ?, pap = ?, classification = ?, offences = ?, personal_data = ?,
                significance = ?, severity = ?, status = ?, assignee = ?, updated_at = ?, submitted_at = ?, merged_into = ?
            WHERE id = ?
            """,
            [
                .text(c.title), SQLValue(c.awareness), .text(c.regimes.joined(separator: ",")), .text(c.tlp.rawValue), .text(c.pap),
                SQLValue(c.classification), .text(c.offences.map(String.init).joined(separator: ",")), SQLValue(c.personalData),
                .text(Self.json(c.significance)), SQLValue(c.severity?.rawValue), .text(c.status.rawValue), SQLValue(c.assignee?.description),
                SQLValue(c.updatedAt), SQLValue(c.submittedAt), SQLValue(c.mergedInto?.description), .text(c.id.description),
            ])
        try await database.batch([update] + also + entries.map(Self.insertEntry))
    }

    public func incident(_ id: CaseID) async throws -> IncidentCase? {
        try await database.query("SELECT * FROM cases WHERE id = ?", .text(id.description)).first.map(Self.incidentRow)
    }

    public func incident(number: String) async throws -> IncidentCase? {
        try await database.query("SELECT * FROM cases WHERE number = ?", .text(number)).first.map(Self.incidentRow)
    }

    /// Cases, newest first; of one organisation, or one sector, or all.
    public func incidents(organisation: OrganisationID? = nil, sector: SectorID? = nil, includeDrafts: Bool = true) async throws -> [IncidentCase] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let organisation { conditions.append("organisation = ?"); binds.append(.text(organisation.description)) }
        if let sector { conditions.append("sector = ?"); binds.append(.text(sector.rawValue)) }
        if !includeDrafts { conditions.append("status <> 'draft'") }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query("SELECT * FROM cases\(filter) ORDER BY created_at DESC", binds).map(Self.incidentRow)
    }

    static func incidentRow(_ row: SQLRow) throws -> IncidentCase {
        let id = try row.string("id")
        guard let caseID = CaseID(id), let organisation = OrganisationID(try row.string("organisation")),
            let tlp = TLP(rawValue: try row.string("tlp")), let status = IncidentCase.Status(rawValue: try row.string("status")),
            let reporter = UserID(try row.string("reported_by"))
        else { throw StoreError(.corruptRow, "case \(id) cannot be read") }
        return IncidentCase(
            id: caseID, number: try row.string("number"), organisation: organisation, sector: SectorID(rawValue: try row.string("sector")),
            title: try row.string("title"), awareness: try row.date("awareness"), regimes: split(try row.string("regimes")), tlp: tlp,
            pap: try row.string("pap"), classification: row.optionalString("classification"),
            offences: split(try row.string("offences")).compactMap { Int($0) }, personalData: try row.bool("personal_data"),
            significance: Self.decode([String: Bool].self, try row.string("significance")) ?? [:],
            severity: row.optionalString("severity").flatMap(IncidentCase.Severity.init(rawValue:)), status: status,
            assignee: row.optionalString("assignee").flatMap(UserID.init), reportedBy: reporter, onBehalf: try row.bool("on_behalf"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), submittedAt: row.optionalDate("submitted_at"),
            mergedInto: row.optionalString("merged_into").flatMap(CaseID.init))
    }

    // MARK: stages

    public func stages(of id: CaseID) async throws -> [CaseStage] {
        try await database.query("SELECT * FROM case_stages WHERE case_id = ?", .text(id.description)).map(Self.stageRow)
    }

    /// Every stage row of every case, for compliance across organisations.
    public func allStages() async throws -> [CaseStage] {
        try await database.query("SELECT * FROM case_stages").map(Self.stageRow)
    }

    /// Saves a draft of a stage, unless the stage was already submitted (then returns false).
    public func saveStageDraft(_ stage: CaseStage) async throws -> Bool {
        let key: [SQLValue] = [.text(stage.caseID.description), .text(stage.regime), .text(stage.stage)]
        let updated = try await database.writeReturning(
            "UPDATE case_stages SET field_values = ?, updated_at = ? WHERE case_id = ? AND regime = ? AND stage = ? AND submitted_at IS NULL RETURNING case_id",
            [.text(Self.json(stage.values)), SQLValue(stage.updatedAt)] + key)
        if !updated.isEmpty { return true }
        let inserted = try await database.writeReturning(
            """
            INSERT INTO case_stages (case_id, regime, stage, field_values, on_behalf, updated_at) VALUES (?, ?, ?, ?, 0, ?)
            ON CONFLICT DO NOTHING RETURNING case_id
            """, key + [.text(Self.json(stage.values)), SQLValue(stage.updatedAt)])
        return !inserted.isEmpty
    }

    /// Records a stage as submitted, with the case's change and timeline entries, in one
    /// transaction. Returns false, changing nothing, when the stage was already submitted (also
    /// when two submissions race: the second one's insert conflicts and its transaction rolls back).
    public func submitStage(_ stage: CaseStage, updating c: IncidentCase, entries: [CaseEntry]) async throws -> Bool {
        let key: [SQLValue] = [.text(stage.caseID.description), .text(stage.regime), .text(stage.stage)]
        let write = [
            SQLStatement("DELETE FROM case_stages WHERE case_id = ? AND regime = ? AND stage = ? AND submitted_at IS NULL", key),
            SQLStatement(
                """
                INSERT INTO case_stages (case_id, regime, stage, field_values, submitted_at, submitted_by, on_behalf, requested_at,
                    requested_by, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                key + [
                    .text(Self.json(stage.values)), SQLValue(stage.submittedAt), SQLValue(stage.submittedBy?.description), SQLValue(stage.onBehalf),
                    SQLValue(stage.requestedAt), SQLValue(stage.requestedBy?.description), SQLValue(stage.updatedAt),
                ]),
        ]
        do {
            try await updateCase(c, entries: entries, also: write)
            return true
        } catch let error as StoreError where error.code == .conflict {
            return false
        }
    }

    /// Records that the authority asked for an on-request stage.
    public func requestStage(_ id: CaseID, regime: String, stage: String, by user: UserID, at time: Date, entries: [CaseEntry]) async throws {
        let key: [SQLValue] = [.text(id.description), .text(regime), .text(stage)]
        try await database.batch(
            [
                SQLStatement(
                    "UPDATE case_stages SET requested_at = ?, requested_by = ? WHERE case_id = ? AND regime = ? AND stage = ? AND requested_at IS NULL",
                    [SQLValue(time), .text(user.description)] + key),
                SQLStatement(
                    """
                    INSERT INTO case_stages (case_id, regime, stage, field_values, on_behalf, requested_at, requested_by, updated_at)
                    VALUES (?, ?, ?, '{}', 0, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, key + [SQLValue(time), .text(user.description), SQLValue(time)]),
            ] + entries.map(Self.insertEntry))
    }

    static func stageRow(_ row: SQLRow) throws -> CaseStage {
        guard let id = CaseID(try row.string("case_id")) else { throw StoreError(.corruptRow, "a case stage names no case") }
        return CaseStage(
            caseID: id, regime: try row.string("regime"), stage: try row.string("stage"),
            values: Self.decode([String: String].self, try row.string("field_values")) ?? [:], submittedAt: row.optionalDate("submitted_at"),
            submittedBy: row.optionalString("submitted_by").flatMap(UserID.init), onBehalf: try row.bool("on_behalf"),
            requestedAt: row.optionalDate("requested_at"), requestedBy: row.optionalString("requested_by").flatMap(UserID.init),
            updatedAt: try row.date("updated_at"))
    }

    // MARK: timeline

    static func insertEntry(_ e: CaseEntry) -> SQLStatement {
        SQLStatement(
            "INSERT INTO case_entries (id, case_id, time, actor, actor_organisation, kind, text, shared) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(e.id.description), .text(e.caseID.description), SQLValue(e.time), SQLValue(e.actor?.description),
                SQLValue(e.actorOrganisation?.description), .text(e.kind.rawValue), .text(e.text), SQLValue(e.shared),
            ])
    }

    public func addEntries(_ entries: [CaseEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await database.batch(entries.map(Self.insertEntry))
    }

    /// The timeline, oldest first; only shared entries unless `includeInternal`.
    public func entries(of id: CaseID, includeInternal: Bool) async throws -> [CaseEntry] {
        let rows = try await database.query(
            "SELECT * FROM case_entries WHERE case_id = ?\(includeInternal ? "" : " AND shared = 1") ORDER BY time, id", .text(id.description))
        return try rows.map { row in
            guard let entryID = CaseEntryID(try row.string("id")), let kind = CaseEntry.Kind(rawValue: try row.string("kind")) else {
                throw StoreError(.corruptRow, "a timeline entry of case \(id) cannot be read")
            }
            return CaseEntry(
                id: entryID, caseID: id, time: try row.date("time"), actor: row.optionalString("actor").flatMap(UserID.init),
                actorOrganisation: row.optionalString("actor_organisation").flatMap(OrganisationID.init), kind: kind, text: try row.string("text"),
                shared: try row.bool("shared"))
        }
    }

    // MARK: tasks and requests for information

    public func addTask(_ task: CaseTask, entries: [CaseEntry]) async throws {
        try await database.batch(
            [
                SQLStatement(
                    "INSERT INTO case_tasks (id, case_id, title, assignee, due, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(task.id.description), .text(task.caseID.description), .text(task.title), SQLValue(task.assignee?.description),
                        SQLValue(task.due), SQLValue(task.createdAt), .text(task.createdBy.description),
                    ])
            ] + entries.map(Self.insertEntry))
    }

    /// Marks a task done; false if it was already done or is not of the case.
    public func completeTask(_ id: CaseTaskID, of caseID: CaseID, by user: UserID, at time: Date, entries: [CaseEntry]) async throws -> Bool {
        let rows = try await database.query("SELECT done_at FROM case_tasks WHERE id = ? AND case_id = ?", .text(id.description), .text(caseID.description))
        guard let row = rows.first, row.optionalInt("done_at") == nil else { return false }
        try await database.batch(
            [
                SQLStatement(
                    "UPDATE case_tasks SET done_at = ?, done_by = ? WHERE id = ? AND done_at IS NULL",
                    [SQLValue(time), .text(user.description), .text(id.description)])
            ] + entries.map(Self.insertEntry))
        return true
    }

    public func tasks(of id: CaseID) async throws -> [CaseTask] {
        try await database.query("SELECT * FROM case_tasks WHERE case_id = ? ORDER BY created_at", .text(id.description)).map { row in
            guard let taskID = CaseTaskID(try row.string("id")), let creator = UserID(try row.string("created_by")) else {
                throw StoreError(.corruptRow, "a task of case \(id) cannot be read")
            }
            return CaseTask(
                id: taskID, caseID: id, title: try row.string("title"), assignee: row.optionalString("assignee").flatMap(UserID.init),
                due: row.optionalDate("due"), createdAt: try row.date("created_at"), createdBy: creator, doneAt: row.optionalDate("done_at"),
                doneBy: row.optionalString("done_by").flatMap(UserID.init))
        }
    }

    public func addRequest(_ request: CaseRequest, entries: [CaseEntry]) async throws {
        try await database.batch(
            [
                SQLStatement(
                    "INSERT INTO case_requests (id, case_id, question, asked_by, asked_at, due) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(request.id.description), .text(request.caseID.description), .text(request.question), .text(request.askedBy.description),
                        SQLValue(request.askedAt), SQLValue(request.due),
                    ])
            ] + entries.map(Self.insertEntry))
    }

    /// Records the answer to a request; false if it was already answered or is not of the case.
    public func answerRequest(_ id: CaseRequestID, of caseID: CaseID, answer: String, by user: UserID, at time: Date, entries: [CaseEntry]) async throws -> Bool {
        let rows = try await database.query("SELECT answered_at FROM case_requests WHERE id = ? AND case_id = ?", .text(id.description), .text(caseID.description))
        guard let row = rows.first, row.optionalInt("answered_at") == nil else { return false }
        try await database.batch(
            [
                SQLStatement(
                    "UPDATE case_requests SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND answered_at IS NULL",
                    [.text(answer), .text(user.description), SQLValue(time), .text(id.description)])
            ] + entries.map(Self.insertEntry))
        return true
    }

    public func requests(of id: CaseID) async throws -> [CaseRequest] {
        try await database.query("SELECT * FROM case_requests WHERE case_id = ? ORDER BY asked_at", .text(id.description)).map { row in
            guard let requestID = CaseRequestID(try row.string("id")), let asker = UserID(try row.string("asked_by")) else {
                throw StoreError(.corruptRow, "a request of case \(id) cannot be read")
            }
            return CaseRequest(
                id: requestID, caseID: id, question: try row.string("question"), askedBy: asker, askedAt: try row.date("asked_at"),
                due: row.optionalDate("due"), answer: row.optionalString("answer"), answeredBy: row.optionalString("answered_by").flatMap(UserID.init),
                answeredAt: row.optionalDate("answered_at"))
        }
    }

    // MARK: observables and correlation

    /// Adds observables to a case (those it already has are left as they are); returns those added.
    public func addObservables(_ observables: [Observable], to id: CaseID, by user: UserID?, at time: Date) async throws -> [Observable] {
        var added: [Observable] = []
        for observable in observables {
            let rows = try await database.writeReturning(
                "INSERT INTO case_observables (case_id, kind, value, added_at, added_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING value",
                [.text(id.description), .text(observable.kind.rawValue), .text(observable.value), SQLValue(time), SQLValue(user?.description)])
            if !rows.isEmpty { added.append(observable) }
        }
        return added
    }

    public func observables(of id: CaseID) async throws -> [Observable] {
        try await database.query("SELECT kind, value FROM case_observables WHERE case_id = ? ORDER BY kind, value", .text(id.description)).compactMap { row in
            Observable.Kind(rawValue: try row.string("kind")).map { Observable(kind: $0, value: (try? row.string("value")) ?? "") }
        }
    }

    /// Other cases holding any observable of case `id`, with the observables they share.
    public func casesSharingObservables(with id: CaseID) async throws -> [CaseID: [Observable]] {
        let rows = try await database.query(
            """
            SELECT o2.case_id AS other, o2.kind AS kind, o2.value AS value FROM case_observables o1
            JOIN case_observables o2 ON o1.kind = o2.kind AND o1.value = o2.value AND o2.case_id <> o1.case_id
            WHERE o1.case_id = ?
            """, .text(id.description))
        var result: [CaseID: [Observable]] = [:]
        for row in rows {
            guard let other = CaseID(try row.string("other")), let kind = Observable.Kind(rawValue: try row.string("kind")) else { continue }
            result[other, default: []].append(Observable(kind: kind, value: try row.string("value")))
        }
        return result
    }

    /// Observables reported in cases of more than one organisation, with those cases: campaigns.
    public func observablesAcrossOrganisations() async throws -> [(observable: Observable, cases: [CaseID])] {
        let rows = try await database.query(
            """
            SELECT o.kind AS kind, o.value AS value, o.case_id AS case_id FROM case_observables o
            JOIN (SELECT o2.kind AS kind, o2.value AS value FROM case_observables o2 JOIN cases c2 ON c2.id = o2.case_id
                  WHERE c2.status <> 'draft' GROUP BY o2.kind, o2.value HAVING COUNT(DISTINCT c2.organisation) > 1) s
              ON s.kind = o.kind AND s.value = o.value
            JOIN cases c ON c.id = o.case_id WHERE c.status <> 'draft'
            ORDER BY o.kind, o.value
            """)
        var grouped: [Observable: [CaseID]] = [:]
        for row in rows {
            guard let kind = Observable.Kind(rawValue: try row.string("kind")), let id = CaseID(try row.string("case_id")) else { continue }
            grouped[Observable(kind: kind, value: try row.string("value")), default: []].append(id)
        }
        return grouped.map { ($0.key, $0.value) }.sorted { $0.observable < $1.observable }
    }

    // MARK: attachments

    public func addAttachment(_ attachment: CaseAttachment, entries: [CaseEntry]) async throws {
        try await database.batch(
            [
                SQLStatement(
                    "INSERT INTO case_attachments (id, case_id, sha256, name, media_type, size, uploaded_at, uploaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(attachment.id.description), .text(attachment.caseID.description), .text(attachment.sha256), .text(attachment.name),
                        .text(attachment.mediaType), SQLValue(attachment.size), SQLValue(attachment.uploadedAt), .text(attachment.uploadedBy.description),
                    ])
            ] + entries.map(Self.insertEntry))
    }

    public func attachments(of id: CaseID) async throws -> [CaseAttachment] {
        try await database.query("SELECT * FROM case_attachments WHERE case_id = ? ORDER BY uploaded_at", .text(id.description)).map { row in
            guard let attachmentID = CaseAttachmentID(try row.string("id")), let uploader = UserID(try row.string("uploaded_by")) else {
                throw StoreError(.corruptRow, "an attachment of case \(id) cannot be read")
            }
            return CaseAttachment(
                id: attachmentID, caseID: id, sha256: try row.string("sha256"), name: try row.string("name"), mediaType: try row.string("media_type"),
                size: Int(try row.int("size")), uploadedAt: try row.date("uploaded_at"), uploadedBy: uploader)
        }
    }

    // MARK: links

    public func linkCases(_ a: CaseID, _ b: CaseID, kind: String, by user: UserID, at time: Date, entries: [CaseEntry], also: [SQLStatement] = []) async throws {
        let (first, second) = a < b ? (a, b) : (b, a)
        try await database.batch(
            [
                SQLStatement("DELETE FROM case_links WHERE case_a = ? AND case_b = ?", [.text(first.description), .text(second.description)]),
                SQLStatement(
                    "INSERT INTO case_links (case_a, case_b, kind, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                    [.text(first.description), .text(second.description), .text(kind), SQLValue(time), .text(user.description)]),
            ] + also + entries.map(Self.insertEntry))
    }

    /// Cases linked to `id`, with the kind of link (`related`, `merged`).
    public func links(of id: CaseID) async throws -> [(other: CaseID, kind: String)] {
        try await database.query("SELECT * FROM case_links WHERE case_a = ? OR case_b = ?", .text(id.description), .text(id.description)).compactMap { row in
            guard let a = CaseID(try row.string("case_a")), let b = CaseID(try row.string("case_b")) else { return nil }
            return (a == id ? b : a, try row.string("kind"))
        }
    }

    /// Statement moving a merged case's observables onto the case it was merged into.
    public static func copyObservables(from source: CaseID, to target: CaseID) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO case_observables (case_id, kind, value, added_at, added_by)
            SELECT ?, kind, value, added_at, added_by FROM case_observables WHERE case_id = ? ON CONFLICT DO NOTHING
            """, [.text(target.description), .text(source.description)])
    }

    // MARK: reminders and escalations sent

    /// Claims the sending of an alert (`reminder`, `escalation`) for a stage: true the first time only.
    public func claimAlert(_ id: CaseID, regime: String, stage: String, kind: String, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            "INSERT INTO case_alerts (case_id, regime, stage, kind, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING case_id",
            [.text(id.description), .text(regime), .text(stage), .text(kind), SQLValue(time)])).isEmpty
    }

    // MARK: show-cause notices

    public func createNotice(_ notice: ComplianceNotice, entries: [CaseEntry]) async throws -> ComplianceNotice {
        var notice = notice
        notice.number = try await insertNumbered(prefix: "SCN", table: "compliance_notices", at: notice.issuedAt) { number in
            [
                SQLStatement(
                    """
                    INSERT INTO compliance_notices (id, number, organisation, case_id, campaign_id, stages, issued_at, issued_by, reply_days, text)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(notice.id.description), .text(number), .text(notice.organisation.description), SQLValue(notice.caseID?.description),
                        SQLValue(notice.campaign?.description),
                        .text(notice.stages.joined(separator: ",")), SQLValue(notice.issuedAt), .text(notice.issuedBy.description),
                        SQLValue(notice.replyDays), .text(notice.text),
                    ])
            ] + entries.map(Self.insertEntry)
        }
        return notice
    }

    public func notices(organisation: OrganisationID? = nil, caseID: CaseID? = nil, campaign: CampaignID? = nil) async throws -> [ComplianceNotice] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let campaign { conditions.append("campaign_id = ?"); binds.append(.text(campaign.description)) }
        if let organisation { conditions.append("organisation = ?"); binds.append(.text(organisation.description)) }
        if let caseID { conditions.append("case_id = ?"); binds.append(.text(caseID.description)) }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query("SELECT * FROM compliance_notices\(filter) ORDER BY issued_at DESC", binds).map(Self.noticeRow)
    }

    public func notice(_ id: ComplianceNoticeID) async throws -> ComplianceNotice? {
        try await database.query("SELECT * FROM compliance_notices WHERE id = ?", .text(id.description)).first.map(Self.noticeRow)
    }

    static func noticeRow(_ row: SQLRow) throws -> ComplianceNotice {
        guard let id = ComplianceNoticeID(try row.string("id")), let organisation = OrganisationID(try row.string("organisation")),
            let issuer = UserID(try row.string("issued_by"))
        else { throw StoreError(.corruptRow, "a show-cause notice cannot be read") }
        let caseID = row.optionalString("case_id").flatMap(CaseID.init)
        let campaign = row.optionalString("campaign_id").flatMap(CampaignID.init)
        guard caseID != nil || campaign != nil else { throw StoreError(.corruptRow, "a show-cause notice concerns neither a case nor a campaign") }
        return ComplianceNotice(
            id: id, number: try row.string("number"), organisation: organisation, caseID: caseID, campaign: campaign, stages: split(try row.string("stages")),
            issuedAt: try row.date("issued_at"), issuedBy: issuer, replyDays: Int(try row.int("reply_days")), text: try row.string("text"))
    }

    // MARK: JSON columns

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// A receiver of signed case events: an organisation's system, or the authority's when
/// `organisation` is nil (then every event).
public struct Webhook: Sendable, Hashable {
    public var id: String
    public var organisation: OrganisationID?
    public var url: String
    public var sealedSecret: [UInt8]
    /// Event kinds it receives; empty means all.
    public var events: [String]
    public var createdAt: Date
    public var createdBy: UserID
    public var active: Bool

    public init(id: String = UUID().uuidString.lowercased(), organisation: OrganisationID?, url: String, sealedSecret: [UInt8], events: [String], createdAt: Date, createdBy: UserID, active: Bool = true) {
        self.id = id
        self.organisation = organisation
        self.url = url
        self.sealedSecret = sealedSecret
        self.events = events
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.active = active
    }
}

/// One message waiting to go out (or gone): a webhook call or an e-mail.
public struct OutboxMessage: Sendable, Hashable {
    public enum Channel: String, Sendable { case webhook, email }
    public var id: String
    public var channel: Channel
    /// The webhook id, or the e-mail address.
    public var target: String
    public var event: String
    public var subject: String
    public var payload: String
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    /// Set when the last attempt failed and no more are made.
    public var givenUpAt: Date?
    public var lastError: String?

    public init(channel: Channel, target: String, event: String, subject: String, payload: String, createdAt: Date) {
        self.id = UUID().uuidString.lowercased()
        self.channel = channel
        self.target = target
        self.event = event
        self.subject = subject
        self.payload = payload
        self.createdAt = createdAt
        self.attempts = 0
        self.nextAttemptAt = createdAt
    }
}

extension SQLStore {
    // MARK: webhooks

    public func createWebhook(_ hook: Webhook) async throws {
        try await database.execute(
            "INSERT INTO webhooks (id, organisation, url, sealed_secret, events, created_at, created_by, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            .text(hook.id), SQLValue(hook.organisation?.description), .text(hook.url), .blob(hook.sealedSecret), .text(hook.events.joined(separator: ",")),
            SQLValue(hook.createdAt), .text(hook.createdBy.description), SQLValue(hook.active))
    }

    public func webhooks() async throws -> [Webhook] {
        try await database.query("SELECT * FROM webhooks ORDER BY created_at").map { row in
            guard let creator = UserID(try row.string("created_by")), let secret = row.optionalBytes("sealed_secret") else {
                throw StoreError(.corruptRow, "a webhook cannot be read")
            }
            return Webhook(
                id: try row.string("id"), organisation: row.optionalString("organisation").flatMap(OrganisationID.init), url: try row.string("url"),
                sealedSecret: secret, events: Self.split(try row.string("events")), createdAt: try row.date("created_at"), createdBy: creator, active: try row.bool("active"))
        }
    }

    public func deleteWebhook(_ id: String) async throws {
        try await database.execute("UPDATE webhooks SET active = 0 WHERE id = ?", .text(id))
    }

    // MARK: outbox

    public func enqueue(_ messages: [OutboxMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await database.batch(messages.map { m in
            SQLStatement(
                """
                INSERT INTO notification_outbox (id, channel, target, event, subject, payload, created_at, attempts, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                """,
                [.text(m.id), .text(m.channel.rawValue), .text(m.target), .text(m.event), .text(m.subject), .text(m.payload), SQLValue(m.createdAt), SQLValue(m.nextAttemptAt)])
        })
    }

    /// Takes up to `limit` messages that are due, leasing each for `lease` so that another node
    /// does not send it at the same time; a message whose sender died is due again after the lease.
    public func claimOutbox(now: Date, lease: TimeInterval, limit: Int = 20) async throws -> [OutboxMessage] {
        let due = try await database.query(
            "SELECT id FROM notification_outbox WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?", SQLValue(now), SQLValue(limit))
        var claimed: [OutboxMessage] = []
        for row in due {
            let id = try row.string("id")
            let rows = try await database.writeReturning(
                "UPDATE notification_outbox SET next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL AND next_attempt_at <= ? RETURNING *",
                [SQLValue(now.addingTimeInterval(lease)), .text(id), SQLValue(now)])
            if let row = rows.first { claimed.append(try Self.outboxRow(row)) }
        }
        return claimed
    }

    public func outbox(limit: Int = 100) async throws -> [OutboxMessage] {
        try await database.query("SELECT * FROM notification_outbox ORDER BY created_at DESC LIMIT ?", SQLValue(limit)).map(Self.outboxRow)
    }

    public func markDelivered(_ id: String, at time: Date) async throws {
        try await database.execute("UPDATE notification_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", SQLValue(time), .text(id))
    }

    /// Records a failed attempt: tried again at `retryAt`, or, when nil, given up (kept on record).
    public func markFailed(_ id: String, error: String, retryAt: Date?, at time: Date) async throws {
        if let retryAt {
            try await database.execute(
                "UPDATE notification_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?", .text(error), SQLValue(retryAt), .text(id))
        } else {
            try await database.execute(
                "UPDATE notification_outbox SET attempts = attempts + 1, last_error = ?, given_up_at = ? WHERE id = ?", .text(error), SQLValue(time), .text(id))
        }
    }

    static func outboxRow(_ row: SQLRow) throws -> OutboxMessage {
        guard let channel = OutboxMessage.Channel(rawValue: try row.string("channel")) else { throw StoreError(.corruptRow, "an outbox message cannot be read") }
        var message = OutboxMessage(
            channel: channel, target: try row.string("target"), event: try row.string("event"), subject: try row.string("subject"),
            payload: try row.string("payload"), createdAt: try row.date("created_at"))
        message.id = try row.string("id")
        message.attempts = Int(try row.int("attempts"))
        message.nextAttemptAt = try row.date("next_attempt_at")
        message.deliveredAt = row.optionalDate("delivered_at")
        message.givenUpAt = row.optionalDate("given_up_at")
        message.lastError = row.optionalString("last_error")
        return message
    }
}

extension SQLStore {
    /// Stores an attachment's content under its SHA-256, once.
    public func saveAttachmentContent(sha256: String, bytes: [UInt8]) async throws {
        try await database.execute(
            "INSERT INTO attachment_contents (sha256, content, size) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            .text(sha256), .blob(bytes), .integer(Int64(bytes.count)))
    }

    public func attachmentContent(sha256: String) async throws -> [UInt8]? {
        try await database.query("SELECT content FROM attachment_contents WHERE sha256 = ?", .text(sha256)).first?.optionalBytes("content")
    }
}
