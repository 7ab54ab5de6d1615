public import Foundation

public typealias CaseID = Identifier<IncidentCase>
public typealias CaseEntryID = Identifier<CaseEntry>
public typealias CaseTaskID = Identifier<CaseTask>
public typealias CaseRequestID = Identifier<CaseRequest>
public typealias CaseAttachmentID = Identifier<CaseAttachment>
public typealias ComplianceNoticeID = Identifier<ComplianceNotice>

/// An incident as reported by an organisation (itself or through its auditor) and handled by the
/// authority: one case per incident, with a report in stages under one or more regimes.
public struct IncidentCase: Sendable, Hashable, Codable, Identifiable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Being written by the reporter; the authority does not see it yet.
        case draft
        case new
        case triaged
        case inProgress = "in-progress"
        case contained
        case resolved
        case closed

        public var title: String {
            switch self {
            case .draft: "Draft"
            case .new: "New"
            case .triaged: "Triaged"
            case .inProgress: "In progress"
            case .contained: "Contained"
            case .resolved: "Resolved"
            case .closed: "Closed"
            }
        }

        /// The order of the workflow, for "forward only" checks.
        public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
        case low, medium, high, critical

        public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var id: CaseID
    /// Human reference, such as `QC-2026-0042`.
    public var number: String
    /// The organisation the incident happened to, which must report it.
    public var organisation: OrganisationID
    public var sector: SectorID
    public var title: String
    /// When the organisation became aware: every deadline counts from here.
    public var awareness: Date
    /// Regime ids, the organisation's regime first; the personal-data regime is added by the flag.
    public var regimes: [String]
    public var tlp: TLP
    /// PAP marking, as `PAP:AMBER`.
    public var pap: String
    /// RSIT classification as `class/type`, such as `malicious-code/infected-system`.
    public var classification: String?
    /// PECA 2016 sections the incident may constitute.
    public var offences: [Int]
    public var personalData: Bool
    /// Answers to the regime's significance questions.
    public var significance: [String: Bool]
    public var severity: Severity?
    public var status: Status
    public var assignee: UserID?
    public var reportedBy: UserID
    /// Opened by an auditor on the organisation's behalf.
    public var onBehalf: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// When the first stage was submitted: the case reached the authority.
    public var submittedAt: Date?
    public var mergedInto: CaseID?

    public init(
        id: CaseID = CaseID(), number: String = "", organisation: OrganisationID, sector: SectorID, title: String, awareness: Date,
        regimes: [String], tlp: TLP = .amber, pap: String = "PAP:AMBER", classification: String? = nil, offences: [Int] = [],
        personalData: Bool = false, significance: [String: Bool] = [:], severity: Severity? = nil, status: Status = .draft,
        assignee: UserID? = nil, reportedBy: UserID, onBehalf: Bool = false, createdAt: Date = Date(), updatedAt: Date? = nil,
        submittedAt: Date? = nil, mergedInto: CaseID? = nil
    ) {
        self.id = id
        self.number = number
        self.organisation = organisation
        self.sector = sector
        self.title = title
        self.awareness = awareness
        self.regimes = regimes
        self.tlp = tlp
        self.pap = pap
        self.classification = classification
        self.offences = offences
        self.personalData = personalData
        self.significance = significance
        self.severity = severity
        self.status = status
        self.assignee = assignee
        self.reportedBy = reportedBy
        self.onBehalf = onBehalf
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.submittedAt = submittedAt
        self.mergedInto = mergedInto
    }

    public var reference: String { "case:\(id)" }
    public var isOpen: Bool { status != .closed && status != .draft && mergedInto == nil }
}

/// One stage of a case's report under one regime: a draft, or what was submitted and when.
public struct CaseStage: Sendable, Hashable, Codable {
    public var caseID: CaseID
    public var regime: String
    public var stage: String
    /// Field values as typed, after checking (dates in RFC 3339).
    public var values: [String: String]
    public var submittedAt: Date?
    public var submittedBy: UserID?
    public var onBehalf: Bool
    /// For stages due on request: when and by whom the authority asked.
    public var requestedAt: Date?
    public var requestedBy: UserID?
    public var updatedAt: Date

    public init(
        caseID: CaseID, regime: String, stage: String, values: [String: String] = [:], submittedAt: Date? = nil, submittedBy: UserID? = nil,
        onBehalf: Bool = false, requestedAt: Date? = nil, requestedBy: UserID? = nil, updatedAt: Date = Date()
    ) {
        self.caseID = caseID
        self.regime = regime
        self.stage = stage
        self.values = values
        self.submittedAt = submittedAt
        self.submittedBy = submittedBy
        self.onBehalf = onBehalf
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
        self.updatedAt = updatedAt
    }

    public var isSubmitted: Bool { submittedAt != nil }
}

/// A line of a case's timeline: made automatically (stage submitted, status changed, reminder
/// sent) or written by a person (a note or a comment). Internal entries are for the authority
/// and regulators only; shared ones the reporter reads too.
public struct CaseEntry: Sendable, Hashable, Codable, Identifiable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case created, submitted, status, assigned, severity, classification, comment, note, request, answer, task
        case observable, attachment, link, merge, reminder, escalation, notice, exchange
    }

    public var id: CaseEntryID
    public var caseID: CaseID
    public var time: Date
    /// Nil for entries Qila makes itself (reminders, escalations).
    public var actor: UserID?
    public var actorOrganisation: OrganisationID?
    public var kind: Kind
    public var text: String
    public var shared: Bool

    public init(
        id: CaseEntryID = CaseEntryID(), caseID: CaseID, time: Date, actor: UserID?, actorOrganisation: OrganisationID?, kind: Kind, text: String,
        shared: Bool
    ) {
        self.id = id
        self.caseID = caseID
        self.time = time
        self.actor = actor
        self.actorOrganisation = actorOrganisation
        self.kind = kind
        self.text = text
        self.shared = shared
    }
}

/// A piece of response work on a case, for the authority's team.
public struct CaseTask: Sendable, Hashable, Codable, Identifiable {
    public var id: CaseTaskID
    public var caseID: CaseID
    public var title: String
    public var assignee: UserID?
    public var due: Date?
    public var createdAt: Date
    public var createdBy: UserID
    public var doneAt: Date?
    public var doneBy: UserID?

    public init(
        id: CaseTaskID = CaseTaskID(), caseID: CaseID, title: String, assignee: UserID?, due: Date?, createdAt: Date, createdBy: UserID,
        doneAt: Date? = nil, doneBy: UserID? = nil
    ) {
        self.id = id
        self.caseID = caseID
        self.title = title
        self.assignee = assignee
        self.due = due
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.doneAt = doneAt
        self.doneBy = doneBy
    }
}

/// A request for information from the authority to the reporter, and its answer.
public struct CaseRequest: Sendable, Hashable, Codable, Identifiable {
    public var id: CaseRequestID
    public var caseID: CaseID
    public var question: String
    public var askedBy: UserID
    public var askedAt: Date
    public var due: Date?
    public var answer: String?
    public var answeredBy: UserID?
    public var answeredAt: Date?

    public init(
        id: CaseRequestID = CaseRequestID(), caseID: CaseID, question: String, askedBy: UserID, askedAt: Date, due: Date?, answer: String? = nil,
        answeredBy: UserID? = nil, answeredAt: Date? = nil
    ) {
        self.id = id
        self.caseID = caseID
        self.question = question
        self.askedBy = askedBy
        self.askedAt = askedAt
        self.due = due
        self.answer = answer
        self.answeredBy = answeredBy
        self.answeredAt = answeredAt
    }
}

/// Something observed in an incident that others may see too: an address, a domain, a URL, a
/// file hash, an e-mail address or an account. Values are kept in a normal form (lower case
/// domains and hashes, canonical addresses) so that equal things compare equal across cases.
public struct Observable: Sendable, Hashable, Codable, Comparable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case ipv4 = "ipv4-addr"
        case ipv6 = "ipv6-addr"
        case domain = "domain-name"
        case url
        case md5
        case sha1
        case sha256
        case email = "email-addr"
        case account = "user-account"
        /// A machine's name as its logs give it (`opa-dc-01`, `web1.corp.example`).
        case host = "hostname"

        public var title: String {
            switch self {
            case .ipv4: "IPv4 address"
            case .ipv6: "IPv6 address"
            case .domain: "Domain"
            case .url: "URL"
            case .md5: "MD5"
            case .sha1: "SHA-1"
            case .sha256: "SHA-256"
            case .email: "E-mail address"
            case .account: "Account"
            case .host: "Host"
            }
        }
    }

    public var kind: Kind
    public var value: String

    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    public static func < (lhs: Observable, rhs: Observable) -> Bool {
        (lhs.kind.rawValue, lhs.value) < (rhs.kind.rawValue, rhs.value)
    }
}

/// A file attached to a case, stored once by its SHA-256.
public struct CaseAttachment: Sendable, Hashable, Codable, Identifiable {
    public var id: CaseAttachmentID
    public var caseID: CaseID
    public var sha256: String
    public var name: String
    public var mediaType: String
    public var size: Int
    public var uploadedAt: Date
    public var uploadedBy: UserID

    public init(
        id: CaseAttachmentID = CaseAttachmentID(), caseID: CaseID, sha256: String, name: String, mediaType: String, size: Int, uploadedAt: Date,
        uploadedBy: UserID
    ) {
        self.id = id
        self.caseID = caseID
        self.sha256 = sha256
        self.name = name
        self.mediaType = mediaType
        self.size = size
        self.uploadedAt = uploadedAt
        self.uploadedBy = uploadedBy
    }
}

/// A formal notice from the authority to an organisation that reported late or not at all,
/// asking it to show cause why a penalty should not follow. The text is the document as issued.
public struct ComplianceNotice: Sendable, Hashable, Codable, Identifiable {
    public var id: ComplianceNoticeID
    /// Such as `SCN-2026-0007`.
    public var number: String
    public var organisation: OrganisationID
    /// The incident case whose reports were late or missing; nil for a notice about an
    /// assessment campaign.
    public var caseID: CaseID?
    /// The assessment campaign whose submission was missing; nil for a notice about a case.
    public var campaign: CampaignID?
    /// What it concerns: `regime/stage` of a case, or `assessment` for a campaign.
    public var stages: [String]
    public var issuedAt: Date
    public var issuedBy: UserID
    /// The days the organisation has to reply.
    public var replyDays: Int
    public var text: String

    public init(
        id: ComplianceNoticeID = ComplianceNoticeID(), number: String = "", organisation: OrganisationID, caseID: CaseID? = nil, campaign: CampaignID? = nil,
        stages: [String], issuedAt: Date, issuedBy: UserID, replyDays: Int, text: String
    ) {
        self.id = id
        self.number = number
        self.organisation = organisation
        self.caseID = caseID
        self.campaign = campaign
        self.stages = stages
        self.issuedAt = issuedAt
        self.issuedBy = issuedBy
        self.replyDays = replyDays
        self.text = text
    }
}
