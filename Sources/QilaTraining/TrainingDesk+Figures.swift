public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

extension TrainingDesk {
    /// An organisation's coverage for a year: how many of its staff passed a course, of its
    /// headcount (declared, else the people training knows), and each phishing simulation's rates.
    public struct Coverage: Sendable, Equatable {
        public struct Simulation: Sendable, Equatable {
            public var id: String
            public var name: String
            public var launchedAt: Date
            public var sent, clicked, reported: Int
            public var clickRate: Double { sent == 0 ? 0 : Double(clicked) / Double(sent) }
            public var reportRate: Double { sent == 0 ? 0 : Double(reported) / Double(sent) }
        }

        public var organisation: Organisation
        public var year: Int
        public var headcount: Int
        /// Whether the headcount was declared (else it is the roster's size).
        public var declared: Bool
        public var trained: Int
        public var share: Double { headcount == 0 ? 0 : min(1, Double(trained) / Double(headcount)) }
        public var simulations: [Simulation]
        /// Enrolled and not yet passed the course, for this year.
        public var outstanding: Int
    }

    static func yearStart(_ year: Int) -> Date { calendar.date(from: DateComponents(year: year, month: 1, day: 1)) ?? Date() }

    public static func year(of date: Date) -> Int { calendar.component(.year, from: date) }

    public func coverage(of organisationID: OrganisationID, year: Int, for subject: Subject, gate: any AccessGate) async throws -> Coverage {
        guard let organisation = try await store.organisation(organisationID) else { throw QilaError(.notFound, "no such organisation") }
        try await gate.require(subject, .read, Self.records(organisation))
        return try await coverage(organisation, year: year, headcounts: try await store.headcounts(), rosters: try await store.rosterSizes())
    }

    func coverage(_ organisation: Organisation, year: Int, headcounts: [OrganisationID: Int], rosters: [OrganisationID: Int]) async throws -> Coverage {
        let start = Self.yearStart(year), end = Self.yearStart(year + 1)
        let completions = try await store.completions(organisation: organisation.id, since: start).filter { $0.completedAt < end && $0.revokedAt == nil }
        let passed = completions.filter(\.passed)
        let trained = Set(passed.map(\.email)).count
        let passedPairs = Set(passed.map { "\($0.course)|\($0.email)" })
        let outstanding = try await store.enrolments(organisation: organisation.id).filter { $0.enrolledAt < end && !passedPairs.contains("\($0.course)|\($0.email)") }.count
        let simulations = try await store.phishingCampaigns(organisation: organisation.id).filter { $0.launchedAt >= start && $0.launchedAt < end }.map {
            Coverage.Simulation(id: $0.id, name: $0.name, launchedAt: $0.launchedAt, sent: $0.sent, clicked: $0.clicked, reported: $0.reported)
        }
        let declared = headcounts[organisation.id]
        return Coverage(
            organisation: organisation, year: year, headcount: declared ?? rosters[organisation.id] ?? 0, declared: declared != nil, trained: trained,
            simulations: simulations, outstanding: outstanding)
    }

    /// A group's figures (a sector, or the nation): nil figures where fewer organisations than the
    /// installation's minimum group have records.
    public struct GroupFigures: Sendable, Equatable {
        public var sector: SectorID?
        public var name: String
        /// Organisations with a headcount or any record this year.
        public var organisations: Int
        public var coverage: Double?
        public var clickRate: Double?
        public var reportRate: Double?
        public var withheld: Bool { coverage == nil && clickRate == nil }
    }

    /// Coverage and phishing rates by sector and for the nation, for a year: sums over the
    /// group's organisations (staff trained over staff, clicks over messages sent). Groups under
    /// the minimum size are withheld, as in the assessments.
    public func figures(year: Int, for subject: Subject, gate: any AccessGate) async throws -> (minimum: Int, groups: [GroupFigures]) {
        let minimum = Int(try await store.setting(Self.minimumGroupSetting) ?? "") ?? 5
        let headcounts = try await store.headcounts(), rosters = try await store.rosterSizes()
        let sectors = try await store.sectors()
        var coverages: [Coverage] = []
        for organisation in try await store.organisations() where organisation.keepsOwnRecords {
            let coverage = try await coverage(organisation, year: year, headcounts: headcounts, rosters: rosters)
            if coverage.headcount > 0 || !coverage.simulations.isEmpty { coverages.append(coverage) }
        }
        func group(_ members: [Coverage], sector: SectorID?, name: String) -> GroupFigures {
            let withData = members.count
            guard withData >= minimum else { return GroupFigures(sector: sector, name: name, organisations: withData) }
            let staff = members.reduce(0) { $0 + $1.headcount }, trained = members.reduce(0) { $0 + min($1.trained, $1.headcount) }
            let sent = members.flatMap(\.simulations).reduce(0) { $0 + $1.sent }
            let clicked = members.flatMap(\.simulations).reduce(0) { $0 + $1.clicked }, reported = members.flatMap(\.simulations).reduce(0) { $0 + $1.reported }
            return GroupFigures(
                sector: sector, name: name, organisations: withData, coverage: staff == 0 ? nil : Double(trained) / Double(staff),
                clickRate: sent == 0 ? nil : Double(clicked) / Double(sent), reportRate: sent == 0 ? nil : Double(reported) / Double(sent))
        }
        var groups = [group(coverages, sector: nil, name: "National")]
        for sector in sectors {
            let resource = Resource(kind: .trainingStatistics, sector: sector.id)
            guard policy.decide(subject, .read, resource).allowed else { continue }
            groups.append(group(coverages.filter { $0.organisation.sector == sector.id }, sector: sector.id, name: sector.name))
        }
        if !policy.decide(subject, .read, Resource(kind: .trainingStatistics)).allowed {
            groups.removeFirst()
            guard !groups.isEmpty else {
                try await gate.require(subject, .read, Resource(kind: .trainingStatistics))
                return (minimum, [])
            }
        }
        return (minimum, groups)
    }
}
