public import QilaCore

/// What a request acts on, reduced to what the policy needs to know about it.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case sector
        case organisation
        case user
        case credentials
        case apiToken = "api-token"
        case certificate
        case auditLog = "audit-log"
        case system
        /// NetFlow/IPFIX exporters and RADIUS accounting clients of an organisation.
        case flowSource = "flow-source"
        /// How long an organisation's traffic data are kept.
        case flowRetention = "flow-retention"
        /// A court warrant for traffic data; `owner` is the provider, `person` the investigator.
        case warrant
        /// Retained traffic data under a warrant; `owner` is the provider, `person` the investigator.
        case trafficData = "traffic-data"
        /// Counts and timing of warrants and queries, without identifiers or records.
        case warrantStatistics = "warrant-statistics"
        /// An incident case and its report; `owner` is the reporting organisation, `tlp` the case's marking.
        case incident
        /// The authority's side of a case: triage, internal comments, tasks, links.
        case incidentInternal = "incident-internal"
        /// A show-cause notice for a late or missing report; `owner` is the organisation it is addressed to.
        case complianceNotice = "compliance-notice"
        /// Counts of incidents and reporting compliance across all organisations, without case content.
        case incidentStatistics = "incident-statistics"
        /// Where case notifications go: signed webhooks of an organisation or of the authority.
        case webhook
        /// A sensor registered to an organisation, and its health.
        case sensor
        /// Sending events as a sensor; `owner` is the sensor's organisation.
        case telemetry
        /// An alert found in an organisation's telemetry; `owner` is that organisation.
        case alert
        /// The Sigma rules intake runs, for every organisation.
        case detectionRule = "detection-rule"
        /// A collection of shared threat intelligence: the national one (no owner), a sector's
        /// (`sector`, no owner), an organisation's (`owner`), or one for an `audience` of
        /// organisations (a trust group of foreign peers, or one the authority defines). What each
        /// reader sees of its objects is decided per object by their TLP marking.
        case intelCollection = "intel-collection"
        /// An assessment framework of the installation (no owner): NIST CSF, a regulator's own
        /// regulations. Every member may read them; the authority adds and revises them.
        case framework
        /// An assessment campaign (no owner): national when `sector` is nil, else a sector's.
        case assessmentCampaign = "assessment-campaign"
        /// One organisation's assessment in a campaign (answers, evidence, scores); `owner` is it.
        case assessment
        /// An auditor's attestation of an organisation's answers; `owner` is the organisation audited.
        case assessmentAudit = "assessment-audit"
        /// Distributions of assessment scores (no owner): national when `sector` is nil, else a
        /// sector's. Groups smaller than the installation's minimum are never shown.
        case assessmentStatistics = "assessment-statistics"
        /// What the authority publishes on the public pages (guides, alerts, statistics) and the
        /// portal's settings, such as the agency complaints go to (no owner).
        case publicContent = "public-content"
        /// The sealed contact details of a citizen's complaint; `owner` is the agency handling it.
        case complaintContact = "complaint-contact"
        /// Suspicious messages and websites reported by the public (no owner).
        case suspiciousReport = "suspicious-report"
        /// A course or exercise: the authority's for everyone (no owner) or an organisation's own.
        case trainingCourse = "training-course"
        /// An organisation's training records: its people, enrolments, completions, phishing
        /// simulations, headcount; `owner` is the organisation.
        case trainingRecord = "training-record"
        /// Training coverage and phishing rates rolled up by sector and for the nation (no owner).
        case trainingStatistics = "training-statistics"
        /// The national catalogue of known exploited vulnerabilities and its due dates (no owner).
        case kevCatalogue = "kev-catalogue"
        /// A published advisory (no owner): `tlp` its marking, `audience` the organisations a
        /// TLP:AMBER or RED one was addressed to; CLEAR and GREEN ones have no audience.
        case advisory
        /// An advisory being written or reviewed, and its revisions before publication (no owner).
        case advisoryDraft = "advisory-draft"
        /// What an organisation runs (its inventories) and its exposure to known exploited
        /// vulnerabilities and advisories, with its statements on each; `owner` is the organisation.
        case inventory
        /// A vulnerability a researcher reported on the public pages, with sealed contact details (no owner).
        case vulnerabilityReport = "vulnerability-report"
        /// A coordinated disclosure case (no owner): `audience` its vendor organisations.
        case disclosureCase = "disclosure-case"
        /// One vendor's part in a case, its status and statement; `owner` is the vendor.
        case disclosureVendor = "disclosure-vendor"

        /// Kinds that need a second factor checked within `Policy.mfaFreshness` for `action`,
        /// whatever the subject signed in with: API tokens and certificates alone never suffice.
        public func needsSecondFactor(for action: Action) -> Bool {
            switch self {
            case .trafficData: true
            case .warrant: action != .read
            default: false
            }
        }
    }

    public var kind: Kind
    /// The tenant that owns it; nil for things of the installation (sectors, the audit log).
    public var owner: OrganisationID?
    public var sector: SectorID?
    /// The TLP marking; nil means unmarked, readable by anyone who may otherwise read it.
    public var tlp: TLP?
    /// For personal resources (own credentials, own tokens): the user they belong to.
    public var person: UserID?
    /// For resources shared with a named set of organisations: those organisations.
    public var audience: Set<OrganisationID>?
    /// An identifier for the audit log, such as `user:<id>`.
    public var reference: String

    public init(
        kind: Kind, owner: OrganisationID? = nil, sector: SectorID? = nil, tlp: TLP? = nil, person: UserID? = nil,
        audience: Set<OrganisationID>? = nil, reference: String = ""
    ) {
        self.kind = kind
        self.owner = owner
        self.sector = sector
        self.tlp = tlp
        self.person = person
        self.audience = audience
        self.reference = reference.isEmpty ? kind.rawValue : reference
    }

    public var description: String { reference }

    public static func organisation(_ organisation: Organisation) -> Resource {
        Resource(
            kind: .organisation, owner: organisation.id, sector: organisation.sector,
            reference: "organisation:\(organisation.id)")
    }

    /// A person's own password, second factor and sessions.
    public static func credentials(of subject: Subject) -> Resource {
        Resource(
            kind: .credentials, owner: subject.organisation.id, sector: subject.organisation.sector, person: subject.user.id,
            reference: "user:\(subject.user.id)/credentials")
    }

    public static func user(_ user: User, in organisation: Organisation) -> Resource {
        Resource(
            kind: .user, owner: organisation.id, sector: organisation.sector, person: user.id, reference: "user:\(user.id)")
    }
}
