public import Foundation
public import QilaCore
public import QilaStore

/// How a set of scores is spread: the middle half and the median. Built only for a group at least
/// the installation's minimum size (docs/decisions/0024), so no figure describes fewer organisations.
public struct Distribution: Sendable, Equatable {
    public var count: Int
    public var lowerQuartile: Double
    public var median: Double
    public var upperQuartile: Double

    /// Nil when fewer than `minimum` values are given.
    public init?(_ values: [Double], minimum: Int) {
        guard values.count >= max(1, minimum) else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        lowerQuartile = Self.quantile(sorted, 0.25)
        median = Self.quantile(sorted, 0.5)
        upperQuartile = Self.quantile(sorted, 0.75)
    }

    /// The sample quantile by linear interpolation between closest ranks (R's and NumPy's default).
    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
    }
}

/// A campaign's figures for a group of organisations (a sector or the nation).
public struct GroupFigures: Sendable, Equatable {
    /// Organisations asked, those that submitted (late ones among them), and those whose every
    /// answer an auditor attested.
    public var asked = 0
    public var submitted = 0
    public var late = 0
    public var fullyAudited = 0
    /// Overall scores: from every submission's own answers, and from the fully audited ones.
    public var selfDeclared: Distribution?
    public var audited: Distribution?
    /// Per node of the framework's tree (functions, categories…): the self-declared distribution.
    public var nodes: [String: Distribution] = [:]
    /// True when the group is below the minimum size and its distributions are withheld.
    public var withheld: Bool { submitted > 0 && selfDeclared == nil }
}

/// A campaign's roll-up: the nation and each sector the reader may see.
public struct Rollup: Sendable {
    public var campaign: AssessmentCampaign
    public var framework: Framework
    public var minimumGroup: Int
    /// Nil when the reader may not see national figures.
    public var national: GroupFigures?
    public var sectors: [SectorID: GroupFigures]

    /// The nodes shown as heatmap rows: the level below the top (CSF categories, CPG goals).
    public var heatmapRows: [Framework.Requirement] {
        framework.nodes.filter { $0.depth == 1 }.map(\.requirement).filter { row in sectors.values.contains { $0.nodes[row.id] != nil } || national?.nodes[row.id] != nil }
    }

    /// Builds the figures from stored scores. `participants` are everyone asked; `scores` both
    /// bases of each submission; groups below `minimumGroup` get counts only.
    public static func build(
        campaign: AssessmentCampaign, framework: Framework, participants: [AssessmentParticipant], scores: [StoredScores], minimumGroup: Int,
        includeNational: Bool, sectors visible: Set<SectorID>?
    ) -> Rollup {
        let order = framework.nodes.map(\.requirement.id)
        var selfScores: [OrganisationID: StoredScores] = [:]
        var auditedScores: [OrganisationID: StoredScores] = [:]
        for score in scores where score.campaign == campaign.id {
            switch score.basis {
            case .selfDeclared: selfScores[score.organisation] = score
            case .audited: auditedScores[score.organisation] = score
            }
        }
        // Each submission's tree read once, though it counts in its sector and in the nation.
        let shown = Set(participants.filter { includeNational || visible?.contains($0.sector) ?? true }.map(\.organisation))
        let trees = selfScores.filter { shown.contains($0.key) }.mapValues { $0.values }
        func figures(_ members: [AssessmentParticipant]) -> GroupFigures {
            var group = GroupFigures()
            group.asked = members.count
            var overall: [Double] = []
            var overallAudited: [Double] = []
            var perNode = [[Double]](repeating: [], count: order.count)
            for member in members {
                guard member.submittedAt != nil, let own = selfScores[member.organisation] else { continue }
                group.submitted += 1
                if let submitted = member.submittedAt, submitted > campaign.dueAt { group.late += 1 }
                if let value = own.overall { overall.append(value) }
                for (index, value) in (trees[member.organisation] ?? []).dropFirst().enumerated() where index < order.count {
                    if let value { perNode[index].append(value) }
                }
                if own.answered > 0, own.attested >= own.answered, let audited = auditedScores[member.organisation] {
                    group.fullyAudited += 1
                    if let value = audited.overall { overallAudited.append(value) }
                }
            }
            group.selfDeclared = Distribution(overall, minimum: minimumGroup)
            group.audited = Distribution(overallAudited, minimum: minimumGroup)
            if group.selfDeclared != nil {
                for (index, values) in perNode.enumerated() {
                    if let distribution = Distribution(values, minimum: minimumGroup) { group.nodes[order[index]] = distribution }
                }
            }
            return group
        }
        let bySector = Dictionary(grouping: participants, by: \.sector)
        var sectors: [SectorID: GroupFigures] = [:]
        for (sector, members) in bySector where visible?.contains(sector) ?? true {
            sectors[sector] = figures(members)
        }
        return Rollup(
            campaign: campaign, framework: framework, minimumGroup: minimumGroup, national: includeNational ? figures(participants) : nil, sectors: sectors)
    }
}

/// One cycle's medians, for the trend across campaigns of the same framework.
public struct TrendPoint: Sendable, Equatable {
    public var campaign: CampaignID
    public var cycle: String
    public var dueAt: Date
    public var national: Distribution?
    public var sectors: [SectorID: Distribution]
}
