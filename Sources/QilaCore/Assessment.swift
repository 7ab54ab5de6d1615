public import Foundation

public typealias CampaignID = Identifier<AssessmentCampaign>

/// An assessment campaign: the authority or a sector regulator asks a set of organisations to
/// assess themselves against a framework (or a profile of it) by a due date. One campaign is one
/// cycle; campaigns of the same framework form the trend across cycles.
public struct AssessmentCampaign: Sendable, Hashable, Codable, Identifiable {
    /// What the authority issues besides an assessment: a directive, whose requirements are its
    /// own (not a framework's) and which addressees acknowledge before they report compliance.
    public struct Directive: Sendable, Hashable, Codable {
        public struct Requirement: Sendable, Hashable, Codable {
            public var id: String
            public var text: String

            public init(id: String, text: String) {
                self.id = id
                self.text = text
            }
        }

        /// The authority's reference, as `NCA-D-2026-03`.
        public var reference: String
        /// What is directed and why (Markdown, shown as text).
        public var body: String
        public var tlp: TLP
        public var requirements: [Requirement]

        public init(reference: String, body: String, tlp: TLP, requirements: [Requirement]) {
            self.reference = reference
            self.body = body
            self.tlp = tlp
            self.requirements = requirements
        }
    }

    public var id: CampaignID
    /// Set for a directive; nil for an assessment campaign.
    public var directive: Directive?
    public var title: String
    /// The framework's id and the version answered (fixed at launch, so later revisions of the
    /// framework do not change what was asked).
    public var framework: String
    public var frameworkVersion: String
    /// The requirements asked (leaves); empty means every requirement of the framework.
    public var requirements: [String]
    /// The level (a scheme value) expected per requirement; full marks where none is named.
    public var targets: [String: String]
    /// The cycle's label, as `2026` or `2026-H2`.
    public var cycle: String
    /// The sector of a regulator's campaign; nil for the authority's national campaigns.
    public var sector: SectorID?
    public var opensAt: Date
    public var dueAt: Date
    /// Days before the due date at which organisations that have not submitted are reminded.
    public var reminderDays: Int
    /// Days after the due date at which a missing submission is escalated to a show-cause notice.
    public var graceDays: Int
    public var createdBy: UserID
    public var createdByOrganisation: OrganisationID
    public var createdAt: Date
    public var closedAt: Date?

    public init(
        id: CampaignID = CampaignID(), title: String, framework: String, frameworkVersion: String, requirements: [String] = [],
        targets: [String: String] = [:], cycle: String, sector: SectorID?, opensAt: Date, dueAt: Date, reminderDays: Int = 7, graceDays: Int = 7,
        createdBy: UserID, createdByOrganisation: OrganisationID, createdAt: Date, closedAt: Date? = nil, directive: Directive? = nil
    ) {
        self.id = id
        self.directive = directive
        self.title = title
        self.framework = framework
        self.frameworkVersion = frameworkVersion
        self.requirements = requirements
        self.targets = targets
        self.cycle = cycle
        self.sector = sector
        self.opensAt = opensAt
        self.dueAt = dueAt
        self.reminderDays = reminderDays
        self.graceDays = graceDays
        self.createdBy = createdBy
        self.createdByOrganisation = createdByOrganisation
        self.createdAt = createdAt
        self.closedAt = closedAt
    }
}

/// One organisation asked in a campaign, and where its submission stands.
public struct AssessmentParticipant: Sendable, Hashable, Codable {
    public var campaign: CampaignID
    public var organisation: OrganisationID
    /// The organisation's sector when the campaign was launched (roll-ups group by it).
    public var sector: SectorID
    public var submittedAt: Date?
    public var submittedBy: UserID?
    /// Who in the organisation answers (named by its administrator); visible to that person.
    public var assignee: UserID?

    public init(
        campaign: CampaignID, organisation: OrganisationID, sector: SectorID, submittedAt: Date? = nil, submittedBy: UserID? = nil, assignee: UserID? = nil
    ) {
        self.campaign = campaign
        self.organisation = organisation
        self.sector = sector
        self.submittedAt = submittedAt
        self.submittedBy = submittedBy
        self.assignee = assignee
    }
}

/// A file given as evidence for an answer or an attestation; its content is kept once under its
/// SHA-256 with the other attachments.
public struct EvidenceFile: Sendable, Hashable, Codable {
    public var sha256: String
    public var name: String
    public var mediaType: String
    public var size: Int

    public init(sha256: String, name: String, mediaType: String, size: Int) {
        self.sha256 = sha256
        self.name = name
        self.mediaType = mediaType
        self.size = size
    }
}

/// An organisation's answer to one requirement of a campaign: a level or status of the
/// framework's scheme, or `n/a` where the requirement does not apply.
public struct AssessmentAnswer: Sendable, Hashable, Codable {
    public static let notApplicable = "n/a"

    public var campaign: CampaignID
    public var organisation: OrganisationID
    public var requirement: String
    public var choice: String
    public var comment: String
    public var evidence: [EvidenceFile]
    public var answeredBy: UserID
    public var answeredAt: Date

    public init(
        campaign: CampaignID, organisation: OrganisationID, requirement: String, choice: String, comment: String = "", evidence: [EvidenceFile] = [],
        answeredBy: UserID, answeredAt: Date
    ) {
        self.campaign = campaign
        self.organisation = organisation
        self.requirement = requirement
        self.choice = choice
        self.comment = comment
        self.evidence = evidence
        self.answeredBy = answeredBy
        self.answeredAt = answeredAt
    }
}

/// An auditor's word on one submitted answer: agreed, or disputed with the auditor's own level.
public struct AssessmentAttestation: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case agree, disagree
    }

    public var campaign: CampaignID
    public var organisation: OrganisationID
    public var requirement: String
    public var verdict: Verdict
    /// The auditor's own level when disagreeing; the answer's when agreeing.
    public var choice: String
    public var comment: String
    public var evidence: [EvidenceFile]
    public var auditor: UserID
    public var auditorOrganisation: OrganisationID
    public var attestedAt: Date

    public init(
        campaign: CampaignID, organisation: OrganisationID, requirement: String, verdict: Verdict, choice: String, comment: String = "",
        evidence: [EvidenceFile] = [], auditor: UserID, auditorOrganisation: OrganisationID, attestedAt: Date
    ) {
        self.campaign = campaign
        self.organisation = organisation
        self.requirement = requirement
        self.verdict = verdict
        self.choice = choice
        self.comment = comment
        self.evidence = evidence
        self.auditor = auditor
        self.auditorOrganisation = auditorOrganisation
        self.attestedAt = attestedAt
    }
}
