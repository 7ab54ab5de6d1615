import Foundation
import OpenAPIRuntime
import QilaAccess
import QilaAssess
import QilaCore

/// The assessment operations of the REST API: the same desk as the pages, so the same checks and
/// refusals, each naming its field, for organisations answering from their own GRC tools.
extension QilaAPI {
    func campaignID(_ text: String) throws -> CampaignID {
        guard let id = CampaignID(text) else { throw Problem(.notFound, "no such campaign") }
        return id
    }

    func assessmentOrganisation(_ text: String) throws -> OrganisationID {
        guard let id = OrganisationID(text) else { throw Problem(.notFound, "no such assessment") }
        return id
    }

    func campaignBody(_ campaign: AssessmentCampaign) async throws -> Components.Schemas.Campaign {
        let participants = try await store.participants(campaign.id)
        return .init(
            id: campaign.id.description, title: campaign.title, framework: campaign.framework, frameworkVersion: campaign.frameworkVersion,
            requirements: campaign.requirements, targets: .init(additionalProperties: campaign.targets), cycle: campaign.cycle, sector: campaign.sector?.rawValue,
            opensAt: campaign.opensAt, dueAt: campaign.dueAt, reminderDays: campaign.reminderDays, graceDays: campaign.graceDays, closedAt: campaign.closedAt,
            organisations: participants.count, submitted: participants.filter { $0.submittedAt != nil }.count,
            directive: campaign.directive.map { directive in
                .init(
                    reference: directive.reference, body: directive.body, tlp: .init(rawValue: directive.tlp.slug) ?? .amber,
                    requirements: directive.requirements.map { .init(id: $0.id, text: $0.text) })
            })
    }

    static func assessmentBody(_ assessment: CampaignDesk.Assessment) -> Components.Schemas.Assessment {
        .init(
            campaign: assessment.campaign.id.description, organisation: assessment.organisation.id.description, submittedAt: assessment.participant.submittedAt,
            asked: assessment.asked.count, answered: assessment.answers.count, attested: assessment.attestedCount,
            selfDeclared: assessment.selfDeclared.overall.score, audited: assessment.audited.overall.score,
            answers: assessment.asked.compactMap { requirement in
                guard let answer = assessment.answers[requirement.id] else { return nil }
                let attestation = assessment.attestations[requirement.id]
                return .init(
                    requirement: answer.requirement, choice: answer.choice, comment: answer.comment,
                    evidence: answer.evidence.map { .init(sha256: $0.sha256, name: $0.name, mediaType: $0.mediaType, size: $0.size) }, answeredAt: answer.answeredAt,
                    verdict: attestation.flatMap { .init(rawValue: $0.verdict.rawValue) }, auditedChoice: attestation?.choice, auditorComment: attestation?.comment)
            })
    }

    func listCampaigns(_ input: Operations.ListCampaigns.Input) async throws -> Operations.ListCampaigns.Output {
        let (subject, _, _) = try caller()
        var bodies: [Components.Schemas.Campaign] = []
        for campaign in try await campaigns.campaigns(for: subject) { bodies.append(try await campaignBody(campaign)) }
        return .ok(.init(body: .json(bodies)))
    }

    func launchCampaign(_ input: Operations.LaunchCampaign.Input) async throws -> Operations.LaunchCampaign.Output {
        let (subject, _, source) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let audience = try Self.audience(sector: body.audience.sector, organisations: body.audience.organisations, criticality: body.audience.criticality?.rawValue)
        let campaign = try await campaigns.launch(
            .init(
                title: body.title, framework: body.framework, requirements: body.requirements ?? [], targets: body.targets?.additionalProperties ?? [:],
                cycle: body.cycle, sector: body.sector.map(SectorID.init(rawValue:)), audience: audience, opensAt: body.opensAt ?? Date(), dueAt: body.dueAt,
                reminderDays: body.reminderDays ?? 7, graceDays: body.graceDays ?? 7),
            by: subject, gate: caseGate(), source: source)
        return .created(.init(body: .json(try await campaignBody(campaign))))
    }

    static func audience(sector: String?, organisations: [String]?, criticality: String?) throws -> CampaignDesk.Audience {
        switch (sector, organisations, criticality) {
        case (let sector?, nil, nil): return .sector(SectorID(rawValue: sector))
        case (nil, let list?, nil):
            return .organisations(try list.map { text in
                guard let id = OrganisationID(text) else { throw QilaError.invalid("'\(text)' is not an organisation id", field: "audience.organisations") }
                return id
            })
        case (nil, nil, let criticality?): return .criticality(Organisation.Criticality(rawValue: criticality) ?? .standard)
        default: throw QilaError.invalid("must give exactly one of sector, organisations or criticality", field: "audience")
        }
    }

    func issueDirective(_ input: Operations.IssueDirective.Input) async throws -> Operations.IssueDirective.Output {
        let (subject, _, source) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        if let index = body.requirements.firstIndex(where: { $0.contains(where: \.isNewline) || $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw QilaError.invalid("requirements[\(index)] must be one non-empty line", field: "requirements")
        }
        let directive = try await campaigns.issue(
            .init(
                reference: body.reference, title: body.title, body: body.body, requirements: body.requirements.joined(separator: "\n"),
                tlp: TLP.allCases.first { $0.slug == body.tlp.rawValue } ?? .amber, sector: body.sector.map(SectorID.init(rawValue:)),
                audience: try Self.audience(sector: body.audience.sector, organisations: body.audience.organisations, criticality: body.audience.criticality?.rawValue),
                opensAt: RFC3339.format(body.opensAt ?? Date()), dueAt: RFC3339.format(body.dueAt), reminderDays: String(body.reminderDays ?? 3),
                graceDays: String(body.graceDays ?? 3)),
            by: subject, gate: caseGate(), source: source)
        return .created(.init(body: .json(try await campaignBody(directive))))
    }

    func acknowledgeDirective(_ input: Operations.AcknowledgeDirective.Input) async throws -> Operations.AcknowledgeDirective.Output {
        let (subject, _, source) = try caller()
        try await campaigns.acknowledge(
            campaign: try campaignID(input.path.campaignId), organisation: try assessmentOrganisation(input.path.organisationId), by: subject, gate: caseGate(),
            source: source)
        return .noContent(.init())
    }

    func getCampaign(_ input: Operations.GetCampaign.Input) async throws -> Operations.GetCampaign.Output {
        let (subject, _, _) = try caller()
        let campaign = try await campaigns.campaign(try campaignID(input.path.campaignId), for: subject)
        return .ok(.init(body: .json(try await campaignBody(campaign))))
    }

    func getCampaignFigures(_ input: Operations.GetCampaignFigures.Input) async throws -> Operations.GetCampaignFigures.Output {
        let (subject, _, source) = try caller()
        let id = try campaignID(input.path.campaignId)
        let rollup: Rollup
        do {
            rollup = try await campaigns.rollup(id, for: subject, gate: caseGate())
        } catch let error as QilaError where error.code == .forbidden {
            try await enforcement.require(subject, .read, Resource(kind: .assessmentStatistics, reference: "campaign:\(id)"), source: source)
            throw Problem(.forbidden, error.message)
        }
        func distribution(_ value: Distribution?) -> Components.Schemas.Distribution? {
            value.map { .init(count: $0.count, lowerQuartile: $0.lowerQuartile, median: $0.median, upperQuartile: $0.upperQuartile) }
        }
        func group(_ name: String, _ figures: GroupFigures) -> Components.Schemas.GroupFigures {
            .init(
                group: name, asked: figures.asked, submitted: figures.submitted, late: figures.late, fullyAudited: figures.fullyAudited, withheld: figures.withheld,
                selfDeclared: distribution(figures.selfDeclared), audited: distribution(figures.audited),
                nodes: .init(additionalProperties: figures.nodes.compactMapValues { distribution($0) }))
        }
        let groups = (rollup.national.map { [group("national", $0)] } ?? []) + rollup.sectors.sorted { $0.key < $1.key }.map { group($0.key.rawValue, $0.value) }
        return .ok(.init(body: .json(.init(campaign: id.description, minimumGroup: rollup.minimumGroup, groups: groups))))
    }

    func getAssessment(_ input: Operations.GetAssessment.Input) async throws -> Operations.GetAssessment.Output {
        let (subject, _, _) = try caller()
        let assessment = try await campaigns.assessment(
            try campaignID(input.path.campaignId), organisation: try assessmentOrganisation(input.path.organisationId), for: subject, gate: caseGate())
        return .ok(.init(body: .json(Self.assessmentBody(assessment))))
    }

    func saveAnswers(_ input: Operations.SaveAnswers.Input) async throws -> Operations.SaveAnswers.Output {
        let (subject, _, source) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        guard body.answers.count <= 200 else { throw QilaError.invalid("has \(body.answers.count) answers; send at most 200 a call", field: "answers") }
        let assessment = try await campaigns.saveAnswers(
            body.answers.map { .init(requirement: $0.requirement, choice: $0.choice, comment: $0.comment ?? "", keptEvidence: []) },
            campaign: try campaignID(input.path.campaignId), organisation: try assessmentOrganisation(input.path.organisationId), by: subject,
            gate: caseGate(), source: source, keepEvidence: true)
        return .ok(.init(body: .json(Self.assessmentBody(assessment))))
    }

    func addEvidence(_ input: Operations.AddEvidence.Input) async throws -> Operations.AddEvidence.Output {
        let (subject, _, source) = try caller()
        guard case .binary(let body) = input.body else { throw Problem(.unsupportedMediaType, "send the file as application/octet-stream") }
        let limit = campaigns.attachments.maximumBytes
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, "the file is larger than the \(limit) bytes accepted", location: "body")
        }
        let assessment = try await campaigns.addEvidence(
            (name: input.query.name, bytes: bytes), requirement: input.query.requirement, campaign: try campaignID(input.path.campaignId),
            organisation: try assessmentOrganisation(input.path.organisationId), by: subject, gate: caseGate(), source: source)
        return .created(.init(body: .json(Self.assessmentBody(assessment))))
    }

    func submitAssessment(_ input: Operations.SubmitAssessment.Input) async throws -> Operations.SubmitAssessment.Output {
        let (subject, _, source) = try caller()
        let assessment = try await campaigns.submit(
            campaign: try campaignID(input.path.campaignId), organisation: try assessmentOrganisation(input.path.organisationId), by: subject, gate: caseGate(),
            source: source)
        return .ok(.init(body: .json(Self.assessmentBody(assessment))))
    }

    func attestAnswer(_ input: Operations.AttestAnswer.Input) async throws -> Operations.AttestAnswer.Output {
        let (subject, _, source) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let assessment = try await campaigns.attest(
            .init(
                requirement: body.requirement, verdict: body.verdict == .agree ? .agree : .disagree, choice: body.level.flatMap { $0.isEmpty ? nil : $0 },
                comment: body.comment ?? ""),
            campaign: try campaignID(input.path.campaignId), organisation: try assessmentOrganisation(input.path.organisationId), by: subject, gate: caseGate(),
            source: source)
        return .ok(.init(body: .json(Self.assessmentBody(assessment))))
    }
}
