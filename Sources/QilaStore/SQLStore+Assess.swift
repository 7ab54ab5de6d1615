public import Foundation
public import QilaCore

/// A framework the authority added, as the YAML it was given.
public struct StoredFramework: Sendable, Equatable {
    public var id: String
    public var version: String
    public var name: String
    public var body: String
    public var addedBy: UserID
    public var addedAt: Date

    public init(id: String, version: String, name: String, body: String, addedBy: UserID, addedAt: Date) {
        self.id = id
        self.version = version
        self.name = name
        self.body = body
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

extension SQLStore {
    /// Stores a framework version; false when that id and version are already stored (a
    /// version, once used, does not change).
    public func addFramework(_ framework: StoredFramework) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            INSERT INTO assessment_frameworks (id, version, name, body, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (id, version) DO NOTHING RETURNING id
            """,
            [
                .text(framework.id), .text(framework.version), .text(framework.name), .text(framework.body), .text(framework.addedBy.description),
                SQLValue(framework.addedAt),
            ])
        return !rows.isEmpty
    }

    /// Every stored version, oldest first.
    public func frameworks() async throws -> [StoredFramework] {
        try await database.query("SELECT * FROM assessment_frameworks ORDER BY added_at, id, version").map { row in
            guard let user = UserID(try row.string("added_by")) else { throw StoreError(.corruptRow, "a framework's author cannot be read") }
            return StoredFramework(
                id: try row.string("id"), version: try row.string("version"), name: try row.string("name"), body: try row.string("body"),
                addedBy: user, addedAt: try row.date("added_at"))
        }
    }
}

/// One submitted assessment's scores as kept for roll-ups: the overall score first, then a score
/// per node of the framework's tree (in `Framework.nodes` order), nil where nothing scored.
public struct StoredScores: Sendable, Equatable {
    public enum Basis: String, Sendable, CaseIterable {
        /// The organisation's own answers.
        case selfDeclared = "self-declared"
        /// The auditor's level where one attested, the organisation's elsewhere.
        case audited
    }

    public var campaign: CampaignID
    public var organisation: OrganisationID
    public var basis: Basis
    /// The stored text of the values; read into numbers only when asked (`values`), since a
    /// roll-up over many organisations mostly needs the overall score alone.
    public var encoded: String
    /// The overall score (the first value).
    public var overall: Double?
    public var answered: Int
    public var asked: Int
    /// Answers an auditor attested.
    public var attested: Int

    /// The overall score, then one per node of the framework's tree.
    public var values: [Double?] { Self.decode(encoded) }

    public init(campaign: CampaignID, organisation: OrganisationID, basis: Basis, values: [Double?], answered: Int, asked: Int, attested: Int) {
        self.init(campaign: campaign, organisation: organisation, basis: basis, encoded: Self.encode(values), answered: answered, asked: asked, attested: attested)
    }

    init(campaign: CampaignID, organisation: OrganisationID, basis: Basis, encoded: String, answered: Int, asked: Int, attested: Int) {
        self.campaign = campaign
        self.organisation = organisation
        self.basis = basis
        self.encoded = encoded
        self.overall = encoded.split(separator: " ", maxSplits: 1).first.flatMap { Int($0) }.map { Double($0) / 10_000 }
        self.answered = answered
        self.asked = asked
        self.attested = attested
    }

    /// Four decimals, space-separated, `-` for none: short to store, quick to read back.
    static func encode(_ values: [Double?]) -> String {
        values.map { $0.map { String(Int(($0 * 10_000).rounded())) } ?? "-" }.joined(separator: " ")
    }

    static func decode(_ text: String) -> [Double?] {
        text.split(separator: " ").map { Int($0).map { Double($0) / 10_000 } }
    }
}

extension SQLStore {
    // MARK: campaigns

    /// Stores a campaign and its participants in one transaction.
    public func createCampaign(_ campaign: AssessmentCampaign, participants: [AssessmentParticipant]) async throws {
        var statements = [
            SQLStatement(
                """
                INSERT INTO assessment_campaigns (id, title, framework, framework_version, requirements, targets, cycle, sector, opens_at, due_at,
                    reminder_days, grace_days, created_by, created_by_organisation, created_at, closed_at, directive)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(campaign.id.description), .text(campaign.title), .text(campaign.framework), .text(campaign.frameworkVersion),
                    .text(Self.json(campaign.requirements)), .text(Self.json(campaign.targets)), .text(campaign.cycle), SQLValue(campaign.sector?.rawValue),
                    SQLValue(campaign.opensAt), SQLValue(campaign.dueAt), SQLValue(campaign.reminderDays), SQLValue(campaign.graceDays),
                    .text(campaign.createdBy.description), .text(campaign.createdByOrganisation.description), SQLValue(campaign.createdAt),
                    SQLValue(campaign.closedAt), SQLValue(campaign.directive.map { Self.json($0) }),
                ])
        ]
        statements += participants.map { participant in
            SQLStatement(
                "INSERT INTO assessment_participants (campaign_id, organisation, sector, submitted_at, submitted_by, assignee) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(participant.campaign.description), .text(participant.organisation.description), .text(participant.sector.rawValue),
                    SQLValue(participant.submittedAt), SQLValue(participant.submittedBy?.description), SQLValue(participant.assignee?.description),
                ])
        }
        try await database.batch(statements)
    }

    public func campaign(_ id: CampaignID) async throws -> AssessmentCampaign? {
        try await database.query("SELECT * FROM assessment_campaigns WHERE id = ?", .text(id.description)).first.map(Self.campaignRow)
    }

    /// Every campaign, the latest due first.
    public func campaigns() async throws -> [AssessmentCampaign] {
        try await database.query("SELECT * FROM assessment_campaigns ORDER BY due_at DESC, created_at DESC").map(Self.campaignRow)
    }

    public func closeCampaign(_ id: CampaignID, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            "UPDATE assessment_campaigns SET closed_at = ? WHERE id = ? AND closed_at IS NULL RETURNING id", [SQLValue(time), .text(id.description)])).isEmpty
    }

    static func campaignRow(_ row: SQLRow) throws -> AssessmentCampaign {
        guard let id = CampaignID(try row.string("id")), let creator = UserID(try row.string("created_by")),
            let creatorOrganisation = OrganisationID(try row.string("created_by_organisation"))
        else { throw StoreError(.corruptRow, "an assessment campaign cannot be read") }
        return AssessmentCampaign(
            id: id, title: try row.string("title"), framework: try row.string("framework"), frameworkVersion: try row.string("framework_version"),
            requirements: decode([String].self, try row.string("requirements")) ?? [], targets: decode([String: String].self, try row.string("targets")) ?? [:],
            cycle: try row.string("cycle"), sector: row.optionalString("sector").map(SectorID.init(rawValue:)), opensAt: try row.date("opens_at"),
            dueAt: try row.date("due_at"), reminderDays: Int(try row.int("reminder_days")), graceDays: Int(try row.int("grace_days")), createdBy: creator,
            createdByOrganisation: creatorOrganisation, createdAt: try row.date("created_at"), closedAt: row.optionalDate("closed_at"),
            directive: row.optionalString("directive").flatMap { decode(AssessmentCampaign.Directive.self, $0) })
    }

    // MARK: participants

    public func participants(_ campaign: CampaignID) async throws -> [AssessmentParticipant] {
        try await database.query("SELECT * FROM assessment_participants WHERE campaign_id = ? ORDER BY organisation", .text(campaign.description))
            .map(Self.participantRow)
    }

    /// The campaigns an organisation was asked in, with its standing in each.
    public func participations(of organisation: OrganisationID) async throws -> [AssessmentParticipant] {
        try await database.query("SELECT * FROM assessment_participants WHERE organisation = ?", .text(organisation.description)).map(Self.participantRow)
    }

    public func participant(_ campaign: CampaignID, _ organisation: OrganisationID) async throws -> AssessmentParticipant? {
        try await database.query(
            "SELECT * FROM assessment_participants WHERE campaign_id = ? AND organisation = ?", .text(campaign.description), .text(organisation.description)
        ).first.map(Self.participantRow)
    }

    /// Marks the submission, stores its scores; false when it was already submitted.
    public func submit(_ campaign: CampaignID, _ organisation: OrganisationID, by user: UserID, at time: Date, scores: [StoredScores]) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            UPDATE assessment_participants SET submitted_at = ?, submitted_by = ? WHERE campaign_id = ? AND organisation = ? AND submitted_at IS NULL
            RETURNING organisation
            """, [SQLValue(time), .text(user.description), .text(campaign.description), .text(organisation.description)])
        guard !rows.isEmpty else { return false }
        try await database.batch(scores.map(Self.saveScores))
        return true
    }

    /// Sends a submission back to the organisation (a regulator reopening it): its answers stay, its scores go.
    public func reopen(_ campaign: CampaignID, _ organisation: OrganisationID) async throws {
        try await database.batch([
            SQLStatement(
                "UPDATE assessment_participants SET submitted_at = NULL, submitted_by = NULL WHERE campaign_id = ? AND organisation = ?",
                [.text(campaign.description), .text(organisation.description)]),
            SQLStatement("DELETE FROM assessment_scores WHERE campaign_id = ? AND organisation = ?", [.text(campaign.description), .text(organisation.description)]),
        ])
    }

    public func assign(_ campaign: CampaignID, _ organisation: OrganisationID, to user: UserID?) async throws {
        try await database.execute(
            "UPDATE assessment_participants SET assignee = ? WHERE campaign_id = ? AND organisation = ?", SQLValue(user?.description),
            .text(campaign.description), .text(organisation.description))
    }

    static func participantRow(_ row: SQLRow) throws -> AssessmentParticipant {
        guard let campaign = CampaignID(try row.string("campaign_id")), let organisation = OrganisationID(try row.string("organisation")) else {
            throw StoreError(.corruptRow, "a campaign's participant cannot be read")
        }
        return AssessmentParticipant(
            campaign: campaign, organisation: organisation, sector: SectorID(rawValue: try row.string("sector")), submittedAt: row.optionalDate("submitted_at"),
            submittedBy: row.optionalString("submitted_by").flatMap(UserID.init), assignee: row.optionalString("assignee").flatMap(UserID.init))
    }

    // MARK: answers

    /// Saves answers (a draft until submitted): each replaces the organisation's earlier answer to
    /// that requirement. Refused by the caller once submitted.
    public func saveAnswers(_ answers: [AssessmentAnswer]) async throws {
        try await database.batch(
            answers.map { answer in
                SQLStatement(
                    """
                    INSERT INTO assessment_answers (campaign_id, organisation, requirement, choice, comment, evidence, answered_by, answered_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (campaign_id, organisation, requirement) DO UPDATE SET choice = excluded.choice, comment = excluded.comment,
                        evidence = excluded.evidence, answered_by = excluded.answered_by, answered_at = excluded.answered_at
                    """,
                    [
                        .text(answer.campaign.description), .text(answer.organisation.description), .text(answer.requirement), .text(answer.choice),
                        .text(answer.comment), .text(Self.json(answer.evidence)), .text(answer.answeredBy.description), SQLValue(answer.answeredAt),
                    ])
            })
    }

    public func answers(_ campaign: CampaignID, _ organisation: OrganisationID) async throws -> [AssessmentAnswer] {
        try await database.query(
            "SELECT * FROM assessment_answers WHERE campaign_id = ? AND organisation = ?", .text(campaign.description), .text(organisation.description)
        ).map { row in
            guard let user = UserID(try row.string("answered_by")) else { throw StoreError(.corruptRow, "an answer's author cannot be read") }
            return AssessmentAnswer(
                campaign: campaign, organisation: organisation, requirement: try row.string("requirement"), choice: try row.string("choice"),
                comment: try row.string("comment"), evidence: Self.decode([EvidenceFile].self, try row.string("evidence")) ?? [], answeredBy: user,
                answeredAt: try row.date("answered_at"))
        }
    }

    // MARK: attestations

    public func saveAttestation(_ attestation: AssessmentAttestation, scores: [StoredScores]) async throws {
        try await database.batch(
            [
                SQLStatement(
                    """
                    INSERT INTO assessment_attestations (campaign_id, organisation, requirement, verdict, choice, comment, evidence, auditor,
                        auditor_organisation, attested_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (campaign_id, organisation, requirement) DO UPDATE SET verdict = excluded.verdict, choice = excluded.choice,
                        comment = excluded.comment, evidence = excluded.evidence, auditor = excluded.auditor,
                        auditor_organisation = excluded.auditor_organisation, attested_at = excluded.attested_at
                    """,
                    [
                        .text(attestation.campaign.description), .text(attestation.organisation.description), .text(attestation.requirement),
                        .text(attestation.verdict.rawValue), .text(attestation.choice), .text(attestation.comment), .text(Self.json(attestation.evidence)),
                        .text(attestation.auditor.description), .text(attestation.auditorOrganisation.description), SQLValue(attestation.attestedAt),
                    ])
            ] + scores.map(Self.saveScores))
    }

    public func attestations(_ campaign: CampaignID, _ organisation: OrganisationID) async throws -> [AssessmentAttestation] {
        try await database.query(
            "SELECT * FROM assessment_attestations WHERE campaign_id = ? AND organisation = ?", .text(campaign.description), .text(organisation.description)
        ).map { row in
            guard let auditor = UserID(try row.string("auditor")), let auditorOrganisation = OrganisationID(try row.string("auditor_organisation")),
                let verdict = AssessmentAttestation.Verdict(rawValue: try row.string("verdict"))
            else { throw StoreError(.corruptRow, "an attestation cannot be read") }
            return AssessmentAttestation(
                campaign: campaign, organisation: organisation, requirement: try row.string("requirement"), verdict: verdict, choice: try row.string("choice"),
                comment: try row.string("comment"), evidence: Self.decode([EvidenceFile].self, try row.string("evidence")) ?? [], auditor: auditor,
                auditorOrganisation: auditorOrganisation, attestedAt: try row.date("attested_at"))
        }
    }

    // MARK: scores

    static func saveScores(_ scores: StoredScores) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO assessment_scores (campaign_id, organisation, basis, overall, answered, asked, attested, nodes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (campaign_id, organisation, basis) DO UPDATE SET overall = excluded.overall, answered = excluded.answered,
                asked = excluded.asked, attested = excluded.attested, nodes = excluded.nodes
            """,
            [
                .text(scores.campaign.description), .text(scores.organisation.description), .text(scores.basis.rawValue),
                SQLValue(scores.overall.map { Int64(($0 * 10_000).rounded()) }), SQLValue(scores.answered),
                SQLValue(scores.asked), SQLValue(scores.attested), .text(scores.encoded),
            ])
    }

    /// Each submitted organisation's overall score in the campaigns given, self-declared, without
    /// the tree (what a trend across cycles needs).
    public func overallScores(of campaigns: [CampaignID]) async throws -> [(campaign: CampaignID, organisation: OrganisationID, overall: Double?)] {
        guard !campaigns.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: campaigns.count).joined(separator: ", ")
        return try await database.query(
            "SELECT campaign_id, organisation, overall FROM assessment_scores WHERE campaign_id IN (\(marks)) AND basis = ?",
            campaigns.map { SQLValue.text($0.description) } + [.text(StoredScores.Basis.selfDeclared.rawValue)]
        ).map { row in
            guard let campaign = CampaignID(try row.string("campaign_id")), let organisation = OrganisationID(try row.string("organisation")) else {
                throw StoreError(.corruptRow, "an assessment's scores cannot be read")
            }
            return (campaign, organisation, row.optionalInt("overall").map { Double($0) / 10_000 })
        }
    }

    /// The stored scores of the campaigns given (every submitted organisation; both bases, or one).
    public func scores(of campaigns: [CampaignID], basis: StoredScores.Basis? = nil) async throws -> [StoredScores] {
        guard !campaigns.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: campaigns.count).joined(separator: ", ")
        let filter = basis == nil ? "" : " AND basis = ?"
        let binds = campaigns.map { SQLValue.text($0.description) } + (basis.map { [.text($0.rawValue)] } ?? [])
        return try await database.query("SELECT * FROM assessment_scores WHERE campaign_id IN (\(marks))\(filter)", binds).map { row in
            guard let campaign = CampaignID(try row.string("campaign_id")), let organisation = OrganisationID(try row.string("organisation")),
                let basis = StoredScores.Basis(rawValue: try row.string("basis"))
            else { throw StoreError(.corruptRow, "an assessment's scores cannot be read") }
            return StoredScores(
                campaign: campaign, organisation: organisation, basis: basis, encoded: try row.string("nodes"),
                answered: Int(try row.int("answered")), asked: Int(try row.int("asked")), attested: Int(try row.int("attested")))
        }
    }

    // MARK: directive acknowledgements

    /// Records an addressee's acknowledgement; false when it was already acknowledged.
    public func acknowledge(_ campaign: CampaignID, _ organisation: OrganisationID, by user: UserID, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            """
            INSERT INTO directive_acknowledgements (campaign_id, organisation, acknowledged_by, acknowledged_at) VALUES (?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING organisation
            """, [.text(campaign.description), .text(organisation.description), .text(user.description), SQLValue(time)])).isEmpty
    }

    /// Acknowledgements of a directive, by organisation: who and when.
    public func acknowledgements(_ campaign: CampaignID) async throws -> [OrganisationID: (user: UserID, time: Date)] {
        var result: [OrganisationID: (UserID, Date)] = [:]
        for row in try await database.query("SELECT * FROM directive_acknowledgements WHERE campaign_id = ?", .text(campaign.description)) {
            guard let organisation = OrganisationID(try row.string("organisation")), let user = UserID(try row.string("acknowledged_by")) else { continue }
            result[organisation] = (user, try row.date("acknowledged_at"))
        }
        return result
    }

    // MARK: reminders and notices sent

    /// Claims sending a `reminder` or `notice` to a participant: true the first time only.
    public func claimAssessmentAlert(_ campaign: CampaignID, _ organisation: OrganisationID, kind: String, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            "INSERT INTO assessment_alerts (campaign_id, organisation, kind, time) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING kind",
            [.text(campaign.description), .text(organisation.description), .text(kind), SQLValue(time)])).isEmpty
    }

    /// The alerts sent for a campaign, by organisation: kind and time.
    public func assessmentAlerts(_ campaign: CampaignID) async throws -> [OrganisationID: [String: Date]] {
        var result: [OrganisationID: [String: Date]] = [:]
        for row in try await database.query("SELECT * FROM assessment_alerts WHERE campaign_id = ?", .text(campaign.description)) {
            guard let organisation = OrganisationID(try row.string("organisation")) else { continue }
            result[organisation, default: [:]][try row.string("kind")] = try row.date("time")
        }
        return result
    }
}
