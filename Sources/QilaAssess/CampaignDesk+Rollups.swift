public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Sector and national figures, the trend across cycles and each organisation against its own
/// previous cycle. Who sees what is the policy's (`assessment-statistics`): the authority and the
/// oversight committee every group, a regulator and its sector's organisations their sector.
extension CampaignDesk {
    /// The setting that holds the smallest group whose distribution is shown.
    public static let minimumGroupSetting = "assessments.minimum-group"
    public static let defaultMinimumGroup = 5

    public func minimumGroup() async throws -> Int {
        try await store.setting(Self.minimumGroupSetting).flatMap { Int($0) } ?? Self.defaultMinimumGroup
    }

    /// Sets the minimum group (2 to 100); only the authority's administrators may.
    public func setMinimumGroup(_ text: String, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws {
        try await gate.require(subject, .administer, Resource(kind: .system, reference: "setting:\(Self.minimumGroupSetting)"))
        guard let size = Int(text.trimmingCharacters(in: .whitespaces)), (2...100).contains(size) else {
            throw QilaError.invalid("must be 2 to 100 organisations (below 5 an organisation may be recognised from its sector's figures)", field: "minimumGroup")
        }
        try await store.setSetting(Self.minimumGroupSetting, String(size))
        try await audit.recordChange(
            by: subject, "assessment.minimum-group", resource: "setting:\(Self.minimumGroupSetting)", source: source, details: ["size": String(size)], now: now)
    }

    /// Which groups the subject may see figures of: the nation, and all sectors (nil) or some.
    func statisticsReach(_ subject: Subject) async throws -> (national: Bool, sectors: Set<SectorID>?) {
        let national = policy.decide(subject, .read, Resource(kind: .assessmentStatistics, reference: "assessments:national")).allowed
        if national { return (true, nil) }
        var sectors: Set<SectorID> = []
        for sector in try await store.sectors()
        where policy.decide(subject, .read, Resource(kind: .assessmentStatistics, sector: sector.id, reference: "assessments:\(sector.id)")).allowed {
            sectors.insert(sector.id)
        }
        return (false, sectors)
    }

    /// A campaign's roll-up as the subject may see it: the groups its statistics reach covers.
    /// A campaign none of whose sectors the subject reaches is not found, as for any other reader;
    /// one the subject sees but has no figures of is refused (`forbidden`) without an audit entry
    /// (the campaign page asks on every view; the CSV route records its own refusal).
    public func rollup(_ id: CampaignID, for subject: Subject, gate: any AccessGate) async throws -> Rollup {
        guard let campaign = try await store.campaign(id) else { throw QilaError(.notFound, "no such campaign") }
        let participants = try await store.participants(id)
        let reach = try await statisticsReach(subject)
        guard reach.national || !(reach.sectors ?? []).isDisjoint(with: participants.map(\.sector)) else {
            // A participant or its auditor sees the campaign but no figures; anyone else, nothing.
            _ = try await self.campaign(id, for: subject)
            throw QilaError(.forbidden, "no figures of this campaign are open to you")
        }
        let (framework, _) = try await framework(of: campaign)
        return Rollup.build(
            campaign: campaign, framework: framework, participants: participants, scores: try await store.scores(of: [id]),
            minimumGroup: try await minimumGroup(), includeNational: reach.national, sectors: reach.sectors)
    }

    /// The campaigns of the same framework up to this one, oldest first, with the medians the
    /// subject may see (the nation's, or its sectors').
    public func trend(of id: CampaignID, for subject: Subject, gate: any AccessGate) async throws -> [TrendPoint] {
        guard let anchor = try await store.campaign(id) else { throw QilaError(.notFound, "no such campaign") }
        let reach = try await statisticsReach(subject)
        let series = try await store.campaigns().filter { $0.framework == anchor.framework && $0.dueAt <= anchor.dueAt }.sorted { $0.dueAt < $1.dueAt }
        let minimum = try await minimumGroup()
        let scores = Dictionary(grouping: try await store.overallScores(of: series.map(\.id)), by: \.campaign)
        let anchorSectors = Set(try await store.participants(id).map(\.sector))
        guard reach.national || !(reach.sectors ?? []).isDisjoint(with: anchorSectors) else {
            _ = try await campaign(id, for: subject)
            throw QilaError(.forbidden, "no figures of this campaign are open to you")
        }
        var points: [TrendPoint] = []
        for campaign in series {
            let participants = try await store.participants(campaign.id)
            let sectorOf = Dictionary(uniqueKeysWithValues: participants.map { ($0.organisation, $0.sector) })
            let submitted = Set(participants.filter { $0.submittedAt != nil }.map(\.organisation))
            guard reach.national || !(reach.sectors ?? []).isDisjoint(with: sectorOf.values) else { continue }
            var national: [Double] = []
            var bySector: [SectorID: [Double]] = [:]
            for score in scores[campaign.id] ?? [] where submitted.contains(score.organisation) {
                guard let value = score.overall, let sector = sectorOf[score.organisation] else { continue }
                national.append(value)
                if reach.sectors?.contains(sector) ?? true { bySector[sector, default: []].append(value) }
            }
            points.append(
                TrendPoint(
                    campaign: campaign.id, cycle: campaign.cycle, dueAt: campaign.dueAt,
                    national: reach.national ? Distribution(national, minimum: minimum) : nil,
                    sectors: bySector.compactMapValues { Distribution($0, minimum: minimum) }))
        }
        return points
    }

    /// The organisation's own scores in the latest earlier campaign of the same framework it
    /// submitted, if any (the comparison needs no minimum group: it is its own).
    public func previousCycle(of assessment: Assessment) async throws -> (campaign: AssessmentCampaign, scores: StoredScores)? {
        let earlier = try await store.participations(of: assessment.organisation.id).filter { $0.submittedAt != nil && $0.campaign != assessment.campaign.id }
        var best: (AssessmentCampaign, StoredScores)?
        for participation in earlier {
            guard let campaign = try await store.campaign(participation.campaign), campaign.framework == assessment.campaign.framework,
                campaign.dueAt < assessment.campaign.dueAt, best.map({ campaign.dueAt > $0.0.dueAt }) ?? true
            else { continue }
            guard let scores = try await store.scores(of: [campaign.id], basis: .selfDeclared).first(where: { $0.organisation == assessment.organisation.id })
            else { continue }
            best = (campaign, scores)
        }
        return best
    }

    /// A score of the stored values by node id, for a framework version's tree.
    public static func value(_ scores: StoredScores, node: String?, in framework: Framework) -> Double? {
        guard let node else { return scores.overall }
        guard let index = framework.nodes.firstIndex(where: { $0.requirement.id == node }), index + 1 < scores.values.count else { return nil }
        return scores.values[index + 1]
    }
}
