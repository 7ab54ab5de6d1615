public import Foundation
public import QilaCore

/// An organisation's assessment as OSCAL 1.1 assessment results, and its gaps as a plan of action
/// and milestones (POA&M), written from the OSCAL models' published reference. Control ids are the
/// tokens of the framework's OSCAL catalog (`OSCALCatalog.export`), so the three documents join.
public enum OSCALResults {
    /// The metadata and properties every OSCAL model shares, as the catalog writes them.
    public typealias Metadata = OSCALCatalogDocument.Metadata
    public typealias Property = OSCALCatalogDocument.Property

    // MARK: assessment results

    public struct AssessmentResultsDocument: Codable, Sendable, Equatable {
        public var assessmentResults: AssessmentResults

        enum CodingKeys: String, CodingKey { case assessmentResults = "assessment-results" }
    }

    public struct AssessmentResults: Codable, Sendable, Equatable {
        public var uuid: String
        public var metadata: Metadata
        public var importAp: ImportAp
        public var results: [Result]

        enum CodingKeys: String, CodingKey {
            case uuid, metadata, results
            case importAp = "import-ap"
        }
    }

    public struct ImportAp: Codable, Sendable, Equatable {
        public var href: String
        public var remarks: String?
    }

    public struct Result: Codable, Sendable, Equatable {
        public var uuid: String
        public var title: String
        public var description: String
        public var start: String
        public var end: String?
        public var props: [Property]?
        public var reviewedControls: ReviewedControls
        public var observations: [Observation]?
        public var findings: [Finding]?

        enum CodingKeys: String, CodingKey {
            case uuid, title, description, start, end, props, observations, findings
            case reviewedControls = "reviewed-controls"
        }
    }

    public struct ReviewedControls: Codable, Sendable, Equatable {
        public var controlSelections: [ControlSelection]

        enum CodingKeys: String, CodingKey { case controlSelections = "control-selections" }
    }

    public struct ControlSelection: Codable, Sendable, Equatable {
        public var includeControls: [ControlReference]

        enum CodingKeys: String, CodingKey { case includeControls = "include-controls" }
    }

    public struct ControlReference: Codable, Sendable, Equatable {
        public var controlId: String

        enum CodingKeys: String, CodingKey { case controlId = "control-id" }
    }

    public struct Observation: Codable, Sendable, Equatable {
        public var uuid: String
        public var title: String?
        public var description: String
        public var props: [Property]?
        public var methods: [String]
        public var types: [String]?
        public var relevantEvidence: [Evidence]?
        public var collected: String
        public var remarks: String?

        enum CodingKeys: String, CodingKey {
            case uuid, title, description, props, methods, types, collected, remarks
            case relevantEvidence = "relevant-evidence"
        }
    }

    public struct Evidence: Codable, Sendable, Equatable {
        public var href: String?
        public var description: String
    }

    public struct Finding: Codable, Sendable, Equatable {
        public var uuid: String
        public var title: String
        public var description: String
        public var props: [Property]?
        public var target: Target
        public var relatedObservations: [ObservationReference]?

        enum CodingKeys: String, CodingKey {
            case uuid, title, description, props, target
            case relatedObservations = "related-observations"
        }
    }

    public struct Target: Codable, Sendable, Equatable {
        public var type: String
        public var targetId: String
        public var status: Status

        enum CodingKeys: String, CodingKey {
            case type, status
            case targetId = "target-id"
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        /// `satisfied` or `not-satisfied`.
        public var state: String
        public var remarks: String?
    }

    public struct ObservationReference: Codable, Sendable, Equatable {
        public var observationUuid: String

        enum CodingKeys: String, CodingKey { case observationUuid = "observation-uuid" }
    }

    // MARK: plan of action and milestones

    public struct PlanDocument: Codable, Sendable, Equatable {
        public var plan: Plan

        enum CodingKeys: String, CodingKey { case plan = "plan-of-action-and-milestones" }
    }

    public struct Plan: Codable, Sendable, Equatable {
        public var uuid: String
        public var metadata: Metadata
        public var systemId: SystemId?
        public var risks: [Risk]?
        public var poamItems: [Item]

        enum CodingKeys: String, CodingKey {
            case uuid, metadata, risks
            case systemId = "system-id"
            case poamItems = "poam-items"
        }
    }

    public struct SystemId: Codable, Sendable, Equatable {
        public var identifierType: String?
        public var id: String

        enum CodingKeys: String, CodingKey {
            case id
            case identifierType = "identifier-type"
        }
    }

    public struct Risk: Codable, Sendable, Equatable {
        public var uuid: String
        public var title: String
        public var description: String
        public var statement: String
        public var props: [Property]?
        public var status: String
        public var deadline: String?
        public var remediations: [Remediation]?
    }

    public struct Remediation: Codable, Sendable, Equatable {
        public var uuid: String
        public var lifecycle: String
        public var title: String
        public var description: String
        public var props: [Property]?
    }

    public struct Item: Codable, Sendable, Equatable {
        public var uuid: String
        public var title: String
        public var description: String
        public var props: [Property]?
        public var relatedRisks: [RiskReference]?

        enum CodingKeys: String, CodingKey {
            case uuid, title, description, props
            case relatedRisks = "related-risks"
        }
    }

    public struct RiskReference: Codable, Sendable, Equatable {
        public var riskUuid: String

        enum CodingKeys: String, CodingKey { case riskUuid = "risk-uuid" }
    }

    static func uuid(_ name: String) -> String { UUID.nameBased("qila:" + name, in: .urlNamespace).uuidString.lowercased() }

    static func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// The assessment's findings: one per asked requirement answered, satisfied when it meets its
    /// target, each with the organisation's answer (and the auditor's word, when given) as
    /// observations. `basis` says which level the finding judges: the audited one where attested.
    public static func assessmentResults(_ assessment: CampaignDesk.Assessment, at time: Date) -> AssessmentResultsDocument {
        let campaign = assessment.campaign
        let key = "\(campaign.id)/\(assessment.organisation.id)"
        let scheme = assessment.framework.scoring
        var observations: [Observation] = []
        var findings: [Finding] = []
        for requirement in assessment.asked {
            guard let answer = assessment.answers[requirement.id] else { continue }
            let token = OSCALCatalog.token(requirement.id)
            let answered = Observation(
                uuid: uuid("\(key)/\(requirement.id)/answer"), title: "Self-assessment of \(requirement.id)",
                description: "\(assessment.organisation.name) answered \(scheme.level(answer.choice)?.name ?? "not applicable")\(answer.comment.isEmpty ? "" : ": \(answer.comment)")",
                props: [Property(name: "basis", value: "self-declared", ns: OSCALCatalog.namespace), Property(name: "level", value: answer.choice, ns: OSCALCatalog.namespace)],
                methods: ["EXAMINE"], types: ["control-objective"],
                relevantEvidence: answer.evidence.isEmpty ? nil : answer.evidence.map { Evidence(href: "#sha256-\($0.sha256)", description: "\($0.name) (\($0.mediaType), SHA-256 \($0.sha256))") },
                collected: stamp(answer.answeredAt), remarks: nil)
            observations.append(answered)
            var related = [ObservationReference(observationUuid: answered.uuid)]
            if let attestation = assessment.attestations[requirement.id] {
                let audited = Observation(
                    uuid: uuid("\(key)/\(requirement.id)/attestation"), title: "Auditor's attestation of \(requirement.id)",
                    description: attestation.verdict == .agree
                        ? "The auditor agreed\(attestation.comment.isEmpty ? "" : ": \(attestation.comment)")"
                        : "The auditor disagreed and found \(scheme.level(attestation.choice)?.name ?? "not applicable"): \(attestation.comment)",
                    props: [Property(name: "basis", value: "audited", ns: OSCALCatalog.namespace), Property(name: "level", value: attestation.choice, ns: OSCALCatalog.namespace)],
                    methods: ["EXAMINE", "INTERVIEW"], types: ["control-objective"],
                    relevantEvidence: attestation.evidence.isEmpty ? nil : attestation.evidence.map { Evidence(href: "#sha256-\($0.sha256)", description: $0.name) },
                    collected: stamp(attestation.attestedAt), remarks: nil)
                observations.append(audited)
                related.append(ObservationReference(observationUuid: audited.uuid))
            }
            let node = assessment.audited[requirement.id]
            let satisfied = answer.choice == AssessmentAnswer.notApplicable || (node?.score ?? 0) >= (node?.target ?? 1) - 1e-9
            findings.append(
                Finding(
                    uuid: uuid("\(key)/\(requirement.id)/finding"), title: "\(requirement.id)\(requirement.title.map { " \($0)" } ?? "")",
                    description: requirement.text,
                    props: [
                        Property(name: "basis", value: assessment.attestations[requirement.id] == nil ? "self-declared" : "audited", ns: OSCALCatalog.namespace)
                    ],
                    target: Target(type: "statement-id", targetId: "\(token)_smt", status: Status(state: satisfied ? "satisfied" : "not-satisfied", remarks: nil)),
                    relatedObservations: related))
        }
        let start = campaign.opensAt
        let result = Result(
            uuid: uuid("\(key)/result"), title: "\(campaign.title): \(assessment.organisation.name)",
            description: "Assessment of \(assessment.organisation.name) against \(assessment.framework.name) \(assessment.framework.version), cycle \(campaign.cycle). \(assessment.attestedCount) of \(assessment.answers.count) answers attested by an auditor.",
            start: stamp(start), end: assessment.participant.submittedAt.map(stamp),
            props: [
                Property(name: "overall-self-declared", value: assessment.selfDeclared.overall.score.map { String(format: "%.4f", $0) } ?? "none", ns: OSCALCatalog.namespace),
                Property(name: "overall-audited", value: assessment.audited.overall.score.map { String(format: "%.4f", $0) } ?? "none", ns: OSCALCatalog.namespace),
            ],
            reviewedControls: ReviewedControls(
                controlSelections: [ControlSelection(includeControls: assessment.asked.map { ControlReference(controlId: OSCALCatalog.token($0.id)) })]),
            observations: observations.isEmpty ? nil : observations, findings: findings.isEmpty ? nil : findings)
        return AssessmentResultsDocument(
            assessmentResults: AssessmentResults(
                uuid: uuid("\(key)/assessment-results"),
                metadata: Metadata(
                    title: "\(campaign.title): \(assessment.organisation.name)", lastModified: stamp(time), version: campaign.cycle,
                    oscalVersion: OSCALCatalog.oscalVersion,
                    props: [Property(name: "framework-id", value: "\(assessment.framework.id)@\(assessment.framework.version)", ns: OSCALCatalog.namespace)],
                    remarks: nil),
                // Qila keeps no separate assessment plan: the campaign is the plan, named here.
                importAp: ImportAp(href: "urn:qila:campaign:\(campaign.id)", remarks: "The assessment campaign \"\(campaign.title)\" in Qila"),
                results: [result]))
    }

    /// The gaps as a plan of action: one risk and one item per gap, in priority order, each with
    /// the owner and date the organisation set (or the campaign's next due date).
    public static func plan(
        _ assessment: CampaignDesk.Assessment, gaps: [CampaignDesk.WeightedGap], owner: String?, due: Date?, at time: Date
    ) -> PlanDocument {
        let key = "\(assessment.campaign.id)/\(assessment.organisation.id)"
        let scheme = assessment.framework.scoring
        var risks: [Risk] = []
        var items: [Item] = []
        for (rank, gap) in gaps.enumerated() {
            guard let requirement = assessment.framework.requirement(gap.gap.requirement) else { continue }
            let achieved = scheme.levels.filter { $0.credit <= gap.gap.achieved + 1e-9 }.max { $0.credit < $1.credit }?.name ?? String(format: "%.2f", gap.gap.achieved)
            let target = scheme.levels.filter { $0.credit >= gap.gap.target - 1e-9 }.min { $0.credit < $1.credit }?.name ?? String(format: "%.2f", gap.gap.target)
            var props = [
                Property(name: "priority-rank", value: String(rank + 1), ns: OSCALCatalog.namespace),
                Property(name: "priority", value: String(format: "%.5f", gap.priority), ns: OSCALCatalog.namespace),
                Property(name: "incident-share", value: String(format: "%.3f", gap.incidentShare), ns: OSCALCatalog.namespace),
            ]
            if let owner { props.append(Property(name: "owner", value: owner, ns: OSCALCatalog.namespace)) }
            let risk = Risk(
                uuid: uuid("\(key)/\(requirement.id)/risk"), title: "\(requirement.id) below target", description: requirement.text,
                statement: "Assessed at \(achieved) against a target of \(target)\(gap.categories.isEmpty ? "" : "; CSF \(gap.categories.joined(separator: ", ")), behind \(Int((gap.incidentShare * 100).rounded())) % of the incidents reported in the sector").",
                props: props, status: "open", deadline: due.map(stamp),
                remediations: [
                    Remediation(
                        uuid: uuid("\(key)/\(requirement.id)/remediation"), lifecycle: "planned", title: "Reach \(target) on \(requirement.id)",
                        description: requirement.examples.isEmpty ? (requirement.guidance ?? requirement.text) : requirement.examples.joined(separator: " "), props: nil)
                ])
            risks.append(risk)
            items.append(
                Item(
                    uuid: uuid("\(key)/\(requirement.id)/item"), title: "\(requirement.id)\(requirement.title.map { " \($0)" } ?? "")",
                    description: "Raise \(requirement.id) from \(achieved) to \(target).", props: props, relatedRisks: [RiskReference(riskUuid: risk.uuid)]))
        }
        return PlanDocument(
            plan: Plan(
                uuid: uuid("\(key)/poam"),
                metadata: Metadata(
                    title: "Plan of action: \(assessment.organisation.name), \(assessment.campaign.title)", lastModified: stamp(time), version: assessment.campaign.cycle,
                    oscalVersion: OSCALCatalog.oscalVersion, props: nil, remarks: nil),
                systemId: SystemId(identifierType: "urn:qila:organisation", id: assessment.organisation.id.description), risks: risks.isEmpty ? nil : risks,
                poamItems: items))
    }

    /// Encodes a document as OSCAL JSON, keys sorted so that one assessment gives one text.
    public static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
