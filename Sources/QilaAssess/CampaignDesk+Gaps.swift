public import Foundation
public import QilaAccess
public import QilaCore
import QilaCases
import QilaStore
import Yams

/// Gaps that guide investment: requirements below their target, ranked by distance times share
/// of the whole, and raised where the sector's reported incidents point (docs/decisions/0024).
extension CampaignDesk {
    /// RSIT incident class → the CSF 2.0 categories that would have prevented or limited it.
    public struct IncidentMapping: Sendable, Equatable {
        public var categories: [String: [String]]

        public init(categories: [String: [String]]) { self.categories = categories }

        /// Reads the YAML form (`class: [CSF category, …]`); refused with the key at fault.
        public static func parse(_ yaml: String) throws -> IncidentMapping {
            guard let node = try Yams.compose(yaml: yaml), let mapping = node.mapping else {
                throw QilaError.invalid("must be a mapping of RSIT classes to lists of CSF categories", field: "mapping")
            }
            var categories: [String: [String]] = [:]
            for (key, value) in mapping {
                guard let name = key.string, let list = value.sequence?.compactMap(\.string), list.count == value.sequence?.count else {
                    throw QilaError.invalid("line \((key.mark?.line ?? 0)): each class needs a list of CSF categories (as [PR.AA, DE.CM])", field: "mapping")
                }
                categories[name] = list
            }
            return IncidentMapping(categories: categories)
        }

        /// The mapping shipped with Qila.
        public static func shipped() throws -> IncidentMapping {
            guard let url = Bundle.module.url(forResource: "weights/rsit-to-csf-2.0", withExtension: "yaml"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { throw QilaError(.configuration, "the shipped incident mapping is missing from the installation") }
            return try parse(text)
        }

        /// Each CSF category's share of the incidents: an incident of a class mapped to n categories
        /// gives each 1/n; the shares sum to 1 over the classified incidents (0 when there are none).
        public func shares(of classifications: [String]) -> [String: Double] {
            var weight: [String: Double] = [:]
            var counted = 0
            for classification in classifications {
                let incidentClass = String(classification.split(separator: "/").first ?? "")
                guard let targets = categories[incidentClass], !targets.isEmpty else { continue }
                counted += 1
                for category in targets { weight[category, default: 0] += 1 / Double(targets.count) }
            }
            return counted == 0 ? [:] : weight.mapValues { $0 / Double(counted) }
        }
    }

    /// The setting that holds the authority's own incident mapping (YAML), if it replaced Qila's.
    public static let incidentMappingSetting = "assessments.incident-mapping"

    public func incidentMapping() async throws -> IncidentMapping {
        if let text = try await store.setting(Self.incidentMappingSetting) { return try IncidentMapping.parse(text) }
        return try IncidentMapping.shipped()
    }

    /// A gap with what raised it.
    public struct WeightedGap: Sendable, Equatable {
        public var gap: Gap
        /// The CSF categories the requirement is (or maps to), and their share of the incidents
        /// reported and of the alerts raised in the group over the last 90 days.
        public var categories: [String]
        public var incidentShare: Double
        public var alertShare: Double
        /// `gap.weighted × (1 + 4 × incidentShare + 2 × alertShare)`: a category behind every
        /// reported incident counts five times one behind none; alerts, attempts not yet harm,
        /// half as much.
        public var priority: Double
    }

    /// How far back alerts count toward a gap's weight.
    public static let alertWindow: TimeInterval = 90 * 86_400

    /// The CSF 2.0 categories a requirement belongs to: its own for CSF, through the framework's
    /// mapping to CSF otherwise (none when it has no mapping).
    static func csfCategories(of requirement: String, in framework: Framework) -> [String] {
        if framework.id == "nist-csf-2.0" {
            return requirement.split(separator: "-").first.map { [String($0)] } ?? []
        }
        guard let mapping = framework.mappings.first(where: { $0.target == "nist-csf-2.0" }) else { return [] }
        return Array(Set(mapping.links.filter { $0.from == requirement }.compactMap { $0.to.split(separator: "-").first.map(String.init) })).sorted()
    }

    /// Ranks gaps by distance, share of the whole, and the incidents reported and alerts raised
    /// in `sector` (the whole nation when nil), most pressing first. An alert counts with the
    /// RSIT class its rule's ATT&CK tactics propose (as when it is promoted to a case);
    /// dismissed alerts do not count.
    public func weightedGaps(_ scores: Scores, framework: Framework, sector: SectorID?, now: Date = Date()) async throws -> [WeightedGap] {
        let mapping = try await incidentMapping()
        let incidents = try await store.incidents(sector: sector, includeDrafts: false).filter { $0.mergedInto == nil }
        let incidentShares = mapping.shares(of: incidents.compactMap(\.classification))
        let members = try await store.organisations().filter { sector == nil || $0.sector == sector }.map(\.id)
        let alerts =
            members.isEmpty
            ? []
            : try await store.alerts(
                AlertFilter(organisations: members, statuses: [.new, .acknowledged, .promoted], since: now.addingTimeInterval(-Self.alertWindow), limit: 50_000))
        var classOfRule: [String: String] = [:]
        for rule in try await store.detectionRules() {
            if let proposed = ProposedClassification.from(tags: ProposedClassification.tags(ofRule: rule.yaml)) { classOfRule[rule.id] = proposed }
        }
        let alertShares = mapping.shares(of: alerts.compactMap { classOfRule[$0.rule] })
        return framework.gaps(scores).map { gap in
            let categories = Self.csfCategories(of: gap.requirement, in: framework)
            let incidentShare = categories.map { incidentShares[$0] ?? 0 }.max() ?? 0
            let alertShare = categories.map { alertShares[$0] ?? 0 }.max() ?? 0
            return WeightedGap(
                gap: gap, categories: categories, incidentShare: incidentShare, alertShare: alertShare,
                priority: gap.weighted * (1 + 4 * incidentShare + 2 * alertShare))
        }
        .sorted { $0.priority > $1.priority }
    }
}

extension CampaignDesk {
    /// The gaps of a group (a sector, or the nation when `sector` is nil) as its median
    /// organisation has them: each requirement's median score against its target, ranked as an
    /// organisation's are, with the group's own reported incidents. Nil when the group is not
    /// open to the subject or is smaller than the minimum (no figure describes fewer).
    public func groupGaps(_ id: CampaignID, sector: SectorID?, for subject: Subject, gate: any AccessGate) async throws -> [WeightedGap]? {
        try await groupGaps(in: try await rollup(id, for: subject, gate: gate), sector: sector)
    }

    /// The same from a roll-up already made for the reader (the campaign page shows every group's).
    public func groupGaps(in rollup: Rollup, sector: SectorID?) async throws -> [WeightedGap]? {
        guard let figures = sector.map({ rollup.sectors[$0] }) ?? rollup.national, !figures.withheld, !figures.nodes.isEmpty else { return nil }
        let (framework, profile) = try await framework(of: rollup.campaign)
        var scores = framework.score([], profile: profile)
        for (node, distribution) in figures.nodes where scores.nodes[node] != nil {
            scores.nodes[node]?.score = distribution.median
            scores.nodes[node]?.answered = distribution.count
        }
        return try await weightedGaps(scores, framework: framework, sector: sector)
    }
}
