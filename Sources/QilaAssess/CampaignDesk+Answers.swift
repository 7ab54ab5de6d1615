public import Foundation
public import QilaAccess
public import QilaCore
import QilaStore

/// Answering, submitting and attesting: what organisations and their auditors do in a campaign.
extension CampaignDesk {
    /// One answer as given on a page or through the API; evidence files come with their bytes,
    /// evidence already stored is kept by naming its SHA-256.
    public struct AnswerInput: Sendable {
        public var requirement: String
        /// A level or status value of the framework's scheme, or `n/a`.
        public var choice: String
        public var comment: String
        public var newEvidence: [(name: String, bytes: [UInt8])]
        public var keptEvidence: [String]

        public init(requirement: String, choice: String, comment: String = "", newEvidence: [(name: String, bytes: [UInt8])] = [], keptEvidence: [String] = []) {
            self.requirement = requirement
            self.choice = choice
            self.comment = comment
            self.newEvidence = newEvidence
            self.keptEvidence = keptEvidence
        }
    }

    /// An organisation's assessment in a campaign, as its pages and the API show it.
    public struct Assessment: Sendable {
        public var campaign: AssessmentCampaign
        public var organisation: Organisation
        public var participant: AssessmentParticipant
        public var framework: Framework
        public var profile: Profile
        public var answers: [String: AssessmentAnswer]
        public var attestations: [String: AssessmentAttestation]
        /// From the organisation's own answers.
        public var selfDeclared: Scores
        /// With each attested answer replaced by the auditor's level.
        public var audited: Scores
        /// The requirements asked, in the framework's order.
        public var asked: [Framework.Requirement]
        /// Reminders and notices sent: kind and time.
        public var alerts: [String: Date]
        /// For a directive: who in the organisation acknowledged it, and when.
        public var acknowledgement: (user: UserID, time: Date)?

        public var isSubmitted: Bool { participant.submittedAt != nil }
        /// Answers the auditor attested, of those given.
        public var attestedCount: Int { attestations.count }
        /// Whether every answer was attested, so the figures may be called audited.
        public var isFullyAudited: Bool { !answers.isEmpty && answers.keys.allSatisfy { attestations[$0] != nil } }
    }

    func organisation(_ id: OrganisationID) async throws -> Organisation {
        guard let organisation = try await store.organisation(id) else { throw QilaError(.notFound, "no such organisation") }
        return organisation
    }

    /// A campaign, one organisation asked in it and where its submission stands.
    func participation(_ id: CampaignID, _ organisationID: OrganisationID) async throws -> (AssessmentCampaign, AssessmentParticipant, Organisation) {
        guard let campaign = try await store.campaign(id), let participant = try await store.participant(id, organisationID) else {
            throw QilaError(.notFound, "no such assessment")
        }
        return (campaign, participant, try await organisation(organisationID))
    }

    /// Checks and stores evidence files; a refused file is named with the answer's field.
    func storeEvidence(_ files: [(name: String, bytes: [UInt8])], field: String) async throws -> [EvidenceFile] {
        var stored: [EvidenceFile] = []
        for file in files {
            let checked: (name: String, mediaType: String)
            do {
                checked = try attachments.check(name: file.name, bytes: file.bytes)
            } catch {
                throw QilaError.invalid(error.message, field: field)
            }
            stored.append(EvidenceFile(sha256: try await attachments.store(file.bytes), name: checked.name, mediaType: checked.mediaType, size: file.bytes.count))
        }
        return stored
    }

    /// An organisation's assessment, if the subject may read it.
    public func assessment(_ id: CampaignID, organisation organisationID: OrganisationID, for subject: Subject, gate: any AccessGate) async throws -> Assessment {
        let (campaign, participant, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .read, Self.resource(organisation, id))
        return try await assessment(campaign, organisation, participant)
    }

    func assessment(_ campaign: AssessmentCampaign, _ organisation: Organisation, _ participant: AssessmentParticipant) async throws -> Assessment {
        let (framework, profile) = try await framework(of: campaign)
        let answers = Dictionary(try await store.answers(campaign.id, organisation.id).map { ($0.requirement, $0) }) { $1 }
        let attestations = Dictionary(try await store.attestations(campaign.id, organisation.id).map { ($0.requirement, $0) }) { $1 }
        let asked = framework.answered.filter { profile.requirements.isEmpty || profile.requirements.contains($0.id) }
        return Assessment(
            campaign: campaign, organisation: organisation, participant: participant, framework: framework, profile: profile, answers: answers,
            attestations: attestations, selfDeclared: framework.score(Self.choices(answers.values.map { ($0.requirement, $0.choice) }), profile: profile),
            audited: framework.score(Self.choices(Self.auditedChoices(answers, attestations)), profile: profile), asked: asked,
            alerts: try await store.assessmentAlerts(campaign.id)[organisation.id] ?? [:],
            acknowledgement: campaign.directive == nil ? nil : try await store.acknowledgements(campaign.id)[organisation.id])
    }

    static func choices(_ pairs: [(String, String)]) -> [Answer] {
        pairs.map { Answer(requirement: $0.0, choice: $0.1 == AssessmentAnswer.notApplicable ? .notApplicable : .level($0.1)) }
    }

    static func auditedChoices(_ answers: [String: AssessmentAnswer], _ attestations: [String: AssessmentAttestation]) -> [(String, String)] {
        answers.values.map { ($0.requirement, attestations[$0.requirement]?.choice ?? $0.choice) }
    }

    /// Saves answers as a draft (each replaces the earlier answer to its requirement). Refused
    /// before the campaign opens, after it closes, once submitted, and for a requirement not
    /// asked or a level the framework lacks, naming the requirement.
    /// `keepEvidence` keeps each answer's evidence whatever `keptEvidence` says (the API's
    /// answers carry no files; files come one at a time through `addEvidence`).
    public func saveAnswers(
        _ inputs: [AnswerInput], campaign id: CampaignID, organisation organisationID: OrganisationID, by subject: Subject, gate: any AccessGate,
        source: String? = nil, keepEvidence: Bool = false, now: Date = Date()
    ) async throws -> Assessment {
        let (campaign, participant, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .update, Self.resource(organisation, id))
        try Self.requireOpen(campaign, participant, now: now)
        let (framework, profile) = try await framework(of: campaign)
        let existing = Dictionary(try await store.answers(id, organisationID).map { ($0.requirement, $0) }) { $1 }
        var answers: [AssessmentAnswer] = []
        for input in inputs {
            let field = "answers.\(input.requirement)"
            guard let requirement = framework.requirement(input.requirement), requirement.isAnswered,
                profile.requirements.isEmpty || profile.requirements.contains(requirement.id)
            else { throw QilaError.invalid("'\(input.requirement)' is not a requirement this campaign asks", field: field) }
            guard input.choice == AssessmentAnswer.notApplicable || framework.scoring.level(input.choice) != nil else {
                throw QilaError.invalid(
                    "'\(input.choice)' is not a level of \(framework.name); choose \(framework.scoring.levels.map(\.value).joined(separator: ", ")) or n/a", field: field)
            }
            let comment = input.comment.trimmingCharacters(in: .whitespacesAndNewlines)
            guard comment.count <= 4000 else { throw QilaError.invalid("the comment is longer than 4,000 characters", field: field) }
            if input.choice == AssessmentAnswer.notApplicable, comment.isEmpty {
                throw QilaError.invalid("needs a comment saying why the requirement does not apply", field: field)
            }
            var evidence = (existing[requirement.id]?.evidence ?? []).filter { keepEvidence || input.keptEvidence.contains($0.sha256) }
            evidence += try await storeEvidence(input.newEvidence, field: field)
            guard evidence.count <= 20 else { throw QilaError.invalid("has more than 20 evidence files", field: field) }
            answers.append(
                AssessmentAnswer(
                    campaign: id, organisation: organisationID, requirement: requirement.id, choice: input.choice, comment: comment, evidence: evidence,
                    answeredBy: subject.user.id, answeredAt: now))
        }
        try await store.saveAnswers(answers)
        try await audit.recordChange(
            by: subject, "assessment.answer", resource: "campaign:\(id)/\(organisationID)", source: source,
            details: ["requirements": answers.map(\.requirement).joined(separator: ",")], now: now)
        return try await assessment(campaign, organisation, participant)
    }

    static func requireOpen(_ campaign: AssessmentCampaign, _ participant: AssessmentParticipant, now: Date) throws {
        if campaign.closedAt != nil { throw QilaError(.conflict, "the campaign is closed; answers can no longer change") }
        if now < campaign.opensAt { throw QilaError(.conflict, "the campaign opens \(RFC3339.format(campaign.opensAt)); answers are taken from then") }
        if participant.submittedAt != nil { throw QilaError(.conflict, "the assessment was submitted; ask the campaign's regulator to reopen it to change an answer") }
    }

    /// Submits the assessment: every asked requirement must be answered. Its scores are stored
    /// for the roll-ups; a submission after the due date is kept and shown as late.
    public func submit(
        campaign id: CampaignID, organisation organisationID: OrganisationID, by subject: Subject, gate: any AccessGate, source: String? = nil,
        now: Date = Date()
    ) async throws -> Assessment {
        var (campaign, participant, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .update, Self.resource(organisation, id))
        try Self.requireOpen(campaign, participant, now: now)
        if let directive = campaign.directive, try await store.acknowledgements(id)[organisationID] == nil {
            throw QilaError.invalid("is needed first: acknowledge \(directive.reference) before reporting compliance", field: "acknowledgement")
        }
        var current = try await assessment(campaign, organisation, participant)
        let missing = current.asked.filter { current.answers[$0.id] == nil }.map(\.id)
        guard missing.isEmpty else {
            throw QilaError.invalid(
                "are missing for \(missing.count) requirement\(missing.count == 1 ? "" : "s") (\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? "…" : "")); answer each before submitting",
                field: "answers")
        }
        guard try await store.submit(id, organisationID, by: subject.user.id, at: now, scores: Self.storedScores(current)) else {
            throw QilaError(.conflict, "the assessment was already submitted")
        }
        participant.submittedAt = now
        participant.submittedBy = subject.user.id
        current.participant = participant
        try await audit.recordChange(
            by: subject, "assessment.submit", resource: "campaign:\(id)/\(organisationID)", source: source,
            details: ["late": now > campaign.dueAt ? "yes" : "no", "answered": String(current.answers.count)], now: now)
        await notifier?.notify(
            AssessmentEvent(
                kind: .submitted, campaign: id, title: campaign.title, organisation: organisationID, sector: organisation.sector,
                summary: "\(organisation.name) submitted \(campaign.title)\(now > campaign.dueAt ? " after the due date" : "")", time: now))
        return current
    }

    /// Both bases' scores of an assessment, as kept for roll-ups.
    static func storedScores(_ assessment: Assessment) -> [StoredScores] {
        let order = assessment.framework.nodes.map(\.requirement.id)
        func values(_ scores: Scores) -> [Double?] { [scores.overall.score] + order.map { scores[$0]?.score } }
        let answered = assessment.answers.count
        let asked = assessment.asked.count
        return [
            StoredScores(
                campaign: assessment.campaign.id, organisation: assessment.organisation.id, basis: .selfDeclared, values: values(assessment.selfDeclared),
                answered: answered, asked: asked, attested: assessment.attestedCount),
            StoredScores(
                campaign: assessment.campaign.id, organisation: assessment.organisation.id, basis: .audited, values: values(assessment.audited),
                answered: answered, asked: asked, attested: assessment.attestedCount),
        ]
    }

    public struct AttestationInput: Sendable {
        public var requirement: String
        public var verdict: AssessmentAttestation.Verdict
        /// The auditor's own level when disagreeing.
        public var choice: String?
        public var comment: String
        public var newEvidence: [(name: String, bytes: [UInt8])]

        public init(
            requirement: String, verdict: AssessmentAttestation.Verdict, choice: String? = nil, comment: String = "", newEvidence: [(name: String, bytes: [UInt8])] = []
        ) {
            self.requirement = requirement
            self.verdict = verdict
            self.choice = choice
            self.comment = comment
            self.newEvidence = newEvidence
        }
    }

    /// An auditor agrees with a submitted answer, or disputes it with its own level, a reason and
    /// evidence. The audited scores are stored again at once.
    public func attest(
        _ input: AttestationInput, campaign id: CampaignID, organisation organisationID: OrganisationID, by subject: Subject, gate: any AccessGate,
        source: String? = nil, now: Date = Date()
    ) async throws -> Assessment {
        let (campaign, participant, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .create, Self.resource(organisation, id, kind: .assessmentAudit))
        guard participant.submittedAt != nil else { throw QilaError(.conflict, "the assessment has not been submitted; answers are attested once submitted") }
        guard campaign.closedAt == nil else { throw QilaError(.conflict, "the campaign is closed") }
        var current = try await assessment(campaign, organisation, participant)
        let field = "attestation.\(input.requirement)"
        guard let answer = current.answers[input.requirement] else {
            throw QilaError.invalid("'\(input.requirement)' has no answer to attest", field: field)
        }
        let comment = input.comment.trimmingCharacters(in: .whitespacesAndNewlines)
        guard comment.count <= 4000 else { throw QilaError.invalid("the comment is longer than 4,000 characters", field: field) }
        let choice: String
        switch input.verdict {
        case .agree:
            choice = answer.choice
        case .disagree:
            guard let own = input.choice, own == AssessmentAnswer.notApplicable || current.framework.scoring.level(own) != nil else {
                throw QilaError.invalid(
                    "needs the auditor's own level (\(current.framework.scoring.levels.map(\.value).joined(separator: ", ")) or n/a)", field: field)
            }
            guard own != answer.choice else { throw QilaError.invalid("gives the organisation's own level; agree instead, or choose another", field: field) }
            guard !comment.isEmpty else { throw QilaError.invalid("needs a comment saying why the auditor disagrees", field: field) }
            choice = own
        }
        let evidence = try await storeEvidence(input.newEvidence, field: field)
        let attestation = AssessmentAttestation(
            campaign: id, organisation: organisationID, requirement: answer.requirement, verdict: input.verdict, choice: choice, comment: comment,
            evidence: evidence, auditor: subject.user.id, auditorOrganisation: subject.organisation.id, attestedAt: now)
        current.attestations[answer.requirement] = attestation
        current.audited = current.framework.score(Self.choices(Self.auditedChoices(current.answers, current.attestations)), profile: current.profile)
        try await store.saveAttestation(attestation, scores: Self.storedScores(current))
        try await audit.recordChange(
            by: subject, "assessment.attest", resource: "campaign:\(id)/\(organisationID)", source: source,
            details: ["requirement": answer.requirement, "verdict": input.verdict.rawValue], now: now)
        if input.verdict == .disagree {
            await notifier?.notify(
                AssessmentEvent(
                    kind: .disputed, campaign: id, title: campaign.title, organisation: organisationID, sector: organisation.sector,
                    summary: "The auditor disputed the answer to \(answer.requirement) in \(campaign.title)", time: now))
        }
        return current
    }

    /// Names who in the organisation answers; that person sees the assessment among their own work.
    public func assign(
        campaign id: CampaignID, organisation organisationID: OrganisationID, to user: UserID?, by subject: Subject, gate: any AccessGate,
        source: String? = nil, now: Date = Date()
    ) async throws {
        let (_, _, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .update, Self.resource(organisation, id))
        if let user {
            guard let person = try await store.user(user), person.organisation == organisationID, !person.disabled else {
                throw QilaError.invalid("must be an active member of \(organisation.name)", field: "assignee")
            }
        }
        try await store.assign(id, organisationID, to: user)
        try await audit.recordChange(
            by: subject, "assessment.assign", resource: "campaign:\(id)/\(organisationID)", source: source, details: ["assignee": user?.description ?? "none"],
            now: now)
    }

    /// Sends a submitted assessment back to the organisation so it can change answers; only the
    /// campaign's runner may. Its stored scores are withdrawn until it is submitted again.
    public func reopen(
        campaign id: CampaignID, organisation organisationID: OrganisationID, by subject: Subject, gate: any AccessGate, source: String? = nil,
        now: Date = Date()
    ) async throws {
        guard let campaign = try await store.campaign(id), let participant = try await store.participant(id, organisationID) else {
            throw QilaError(.notFound, "no such assessment")
        }
        try await gate.require(subject, .update, Self.resource(campaign))
        guard participant.submittedAt != nil else { throw QilaError(.conflict, "the assessment is not submitted") }
        try await store.reopen(id, organisationID)
        try await audit.recordChange(by: subject, "assessment.reopen", resource: "campaign:\(id)/\(organisationID)", source: source, now: now)
    }
}

extension CampaignDesk {
    /// An evidence file of an assessment (given with an answer or an attestation), if the subject
    /// may read the assessment.
    public func evidence(_ sha256: String, campaign id: CampaignID, organisation organisationID: OrganisationID, for subject: Subject, gate: any AccessGate)
        async throws -> (EvidenceFile, [UInt8])
    {
        let assessment = try await assessment(id, organisation: organisationID, for: subject, gate: gate)
        let files = assessment.answers.values.flatMap(\.evidence) + assessment.attestations.values.flatMap(\.evidence)
        guard let file = files.first(where: { $0.sha256 == sha256 }) else { throw QilaError(.notFound, "no such evidence file") }
        return (file, try await attachments.read(sha256))
    }

    /// Where each organisation asked stands, for the campaign's runner and those who may read
    /// the organisations' assessments (their regulator, the authority); others get none.
    public func standings(_ campaign: AssessmentCampaign, for subject: Subject) async throws -> [Standing] {
        let alerts = try await store.assessmentAlerts(campaign.id)
        let notices = try await store.notices(campaign: campaign.id)
        let (framework, profile) = try await framework(of: campaign)
        let asked = framework.answered.filter { profile.requirements.isEmpty || profile.requirements.contains($0.id) }.count
        var result: [Standing] = []
        for participant in try await store.participants(campaign.id) {
            guard let organisation = try await store.organisation(participant.organisation),
                policy.decide(subject, .read, Self.resource(organisation, campaign.id)).allowed
            else { continue }
            let answered = try await store.answers(campaign.id, organisation.id).count
            let attested = try await store.attestations(campaign.id, organisation.id).count
            result.append(
                Standing(
                    organisation: organisation, participant: participant, asked: asked, answered: answered, attested: attested,
                    alerts: alerts[organisation.id] ?? [:], notice: notices.first { $0.organisation == organisation.id }))
        }
        return result.sorted { $0.organisation.name < $1.organisation.name }
    }

    public struct Standing: Sendable {
        public var organisation: Organisation
        public var participant: AssessmentParticipant
        public var asked: Int
        public var answered: Int
        public var attested: Int
        public var alerts: [String: Date]
        public var notice: ComplianceNotice?
    }
}

extension CampaignDesk {
    /// Adds one file to the evidence of an answer already given (the API sends files one at a
    /// time); the answer's level and comment stay as they are.
    public func addEvidence(
        _ file: (name: String, bytes: [UInt8]), requirement: String, campaign id: CampaignID, organisation organisationID: OrganisationID,
        by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()
    ) async throws -> Assessment {
        let (_, _, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .update, Self.resource(organisation, id))
        guard let answer = try await store.answers(id, organisationID).first(where: { $0.requirement == requirement }) else {
            throw QilaError.invalid("'\(requirement)' has no answer yet; answer it before adding evidence", field: "requirement")
        }
        return try await saveAnswers(
            [AnswerInput(requirement: requirement, choice: answer.choice, comment: answer.comment, newEvidence: [file], keptEvidence: answer.evidence.map(\.sha256))],
            campaign: id, organisation: organisationID, by: subject, gate: gate, source: source, now: now)
    }
}
