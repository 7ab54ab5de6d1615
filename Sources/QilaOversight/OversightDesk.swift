public import Foundation
public import QilaAccess
public import QilaAssess
public import QilaCases
public import QilaCore
public import QilaRetention
public import QilaStore
public import QilaTraining
public import QilaVulnerabilities

/// Builds the oversight committee's national picture from the other capabilities' records: cases
/// and their deadlines, warrants, assessment campaigns and directives, training, sharing. Reading
/// it needs the national incident statistics; each part beyond that is shown only to those its own
/// statistics are open to (warrant figures to the committee and the authority's administrators).
public struct OversightDesk: Sendable {
    let store: SQLStore
    let policy: PolicyDecisionPoint
    let cases: CaseDesk
    let campaigns: CampaignDesk
    let training: TrainingDesk
    let warrants: WarrantDesk
    let exposure: ExposureDesk?
    public let zone: TimeZone

    public init(
        store: SQLStore, policy: PolicyDecisionPoint, cases: CaseDesk, campaigns: CampaignDesk, training: TrainingDesk, warrants: WarrantDesk,
        exposure: ExposureDesk? = nil, zone: TimeZone = TimeZone(identifier: "Asia/Karachi")!
    ) {
        self.exposure = exposure
        self.store = store
        self.policy = policy
        self.cases = cases
        self.campaigns = campaigns
        self.training = training
        self.warrants = warrants
        self.zone = zone
    }

    public static let resource = Resource(kind: .incidentStatistics, reference: "national-picture")

    public func picture(_ quarter: Quarter, trend: Int = 4, for subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> NationalPicture {
        try await gate.require(subject, .read, Self.resource)
        let quarters = quarter.window(trend)
        let minimum = Int(try await store.setting(CampaignDesk.minimumGroupSetting) ?? "") ?? 5
        func index(_ date: Date) -> Int? { quarters.firstIndex { date >= $0.start(in: zone) && date < $0.end(in: zone) } }
        func withheld(_ count: Int) -> Int? { count > 0 && count < minimum ? nil : count }
        let legal = try await legal(quarters, index: index, now: now, subject: subject, gate: gate)
        var technical = try await technical(quarters, index: index, withheld: withheld)
        if let exposure, let national = try? await exposure.national(now: now), national.organisations >= max(1, minimum) { technical.exposure = national }
        let organisational = try await organisational(quarters, subject: subject, gate: gate)
        var capacity: NationalPicture.Capacity?
        if policy.decide(subject, .read, Resource(kind: .trainingStatistics)).allowed {
            capacity = .init(year: quarter.year, groups: try await training.figures(year: quarter.year, for: subject, gate: gate).groups)
        }
        let cooperation = try await cooperation(quarters)
        return NationalPicture(
            quarter: quarter, quarters: quarters, minimumGroup: minimum, legal: legal, technical: technical, organisational: organisational, capacity: capacity,
            cooperation: cooperation)
    }

    // MARK: legal measures

    func legal(_ quarters: [Quarter], index: (Date) -> Int?, now: Date, subject: Subject, gate: any AccessGate) async throws -> NationalPicture.Legal {
        var onTime = Array(repeating: 0, count: quarters.count), late = onTime, missing = onTime, notices = onTime
        let allStages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        var firstReportHours: [Double] = []
        for incident in try await store.incidents(includeDrafts: false) where isIncident(incident) {
            let stages = allStages[incident.id] ?? []
            for (_, clocks) in cases.clocks(of: incident, stages: stages, now: now) {
                for clock in clocks {
                    guard let due = clock.due, let slot = index(due) else { continue }
                    switch clock.state {
                    case .submittedOnTime: onTime[slot] += 1
                    case .submittedLate: late[slot] += 1
                    case .overdue: missing[slot] += 1
                    default: break
                    }
                }
            }
            if let first = stages.compactMap(\.submittedAt).min(), index(first) == quarters.count - 1 {
                firstReportHours.append(first.timeIntervalSince(incident.awareness) / 3600)
            }
        }
        for notice in try await store.notices() { if let slot = index(notice.issuedAt) { notices[slot] += 1 } }
        let shares = quarters.indices.map { slot -> Double? in
            let due = onTime[slot] + late[slot] + missing[slot]
            return due == 0 ? nil : Double(onTime[slot]) / Double(due)
        }
        var warrantFigures: NationalPicture.Warrants?
        if policy.decide(subject, .read, Resource(kind: .warrantStatistics, reference: "warrant-statistics")).allowed {
            let statistics = try await warrants.statistics(for: subject, gate: gate)
            func perQuarter(_ months: [String: Int]) -> [Int] {
                quarters.map { quarter in
                    (0..<3).reduce(0) { sum, offset in sum + (months[String(format: "%04d-%02d", quarter.year, (quarter.number - 1) * 3 + 1 + offset)] ?? 0) }
                }
            }
            warrantFigures = .init(
                recorded: perQuarter(statistics.warrantsByMonth), queries: perQuarter(statistics.queriesByMonth), approved: statistics.byStatus[.approved] ?? 0,
                rejected: statistics.byStatus[.rejected] ?? 0, pending: statistics.byStatus[.pending] ?? 0, medianDecisionHours: Self.median(statistics.decisionHours),
                queriesAfterExpiry: statistics.queriesAfterExpiry)
        }
        return .init(
            onTime: onTime, late: late, missing: missing, onTimeShare: shares, medianHoursToFirstReport: Self.median(firstReportHours), notices: notices,
            warrants: warrantFigures)
    }

    /// Whether the case is an organisation's incident (not a citizen's complaint, which the
    /// technical pillar counts apart).
    func isIncident(_ incident: IncidentCase) -> Bool {
        incident.mergedInto == nil && !incident.regimes.contains { cases.regimes.regime($0)?.publicIntake == true }
    }

    // MARK: technical measures

    func technical(_ quarters: [Quarter], index: (Date) -> Int?, withheld: (Int) -> Int?) async throws -> NationalPicture.Technical {
        let sectors = Dictionary(uniqueKeysWithValues: try await store.sectors().map { ($0.id, $0.name) })
        var bySector: [String: [Int]] = [:], byClass: [String: [Int]] = [:]
        var total = Array(repeating: 0, count: quarters.count)
        var submittedInQuarter: [CaseID: Date] = [:]
        for incident in try await store.incidents(includeDrafts: false) where isIncident(incident) {
            let when = incident.submittedAt ?? incident.createdAt
            guard let slot = index(when) else { continue }
            total[slot] += 1
            bySector[sectors[incident.sector] ?? incident.sector.rawValue, default: Array(repeating: 0, count: quarters.count)][slot] += 1
            let incidentClass = incident.classification.flatMap { RSITClassification(parsing: $0)?.incidentClass } ?? "unclassified"
            let title = RSIT.classes.first { $0.id == incidentClass }?.title ?? "Not yet classified"
            byClass[title, default: Array(repeating: 0, count: quarters.count)][slot] += 1
            if slot == quarters.count - 1 { submittedInQuarter[incident.id] = when }
        }
        var triage: [Double] = [], close: [Double] = []
        var seenTriage: Set<CaseID> = [], seenClose: Set<CaseID> = []
        for change in try await store.statusChanges() {
            guard let submitted = submittedInQuarter[change.caseID], change.time >= submitted else { continue }
            if seenTriage.insert(change.caseID).inserted { triage.append(change.time.timeIntervalSince(submitted) / 3600) }
            if change.text.contains("→ resolved") || change.text.contains("→ closed"), seenClose.insert(change.caseID).inserted {
                close.append(change.time.timeIntervalSince(submitted) / 3600)
            }
        }
        var complaints: [Int] = []
        for quarter in quarters { complaints.append(try await store.complaintTotal(from: quarter.start(in: zone), to: quarter.end(in: zone))) }
        func series(_ counts: [String: [Int]]) -> [NationalPicture.Series] {
            counts.sorted { ($0.value.reduce(0, +), $1.key) > ($1.value.reduce(0, +), $0.key) }.map { .init(label: $0.key, values: $0.value.map(withheld)) }
        }
        return .init(
            bySector: series(bySector), byClass: series(byClass), total: total, medianHoursToTriage: Self.median(triage), medianHoursToClose: Self.median(close),
            complaints: complaints)
    }

    // MARK: organisational measures

    func organisational(_ quarters: [Quarter], subject: Subject, gate: any AccessGate) async throws -> NationalPicture.Organisational {
        let start = quarters[0].start(in: zone), end = quarters[quarters.count - 1].end(in: zone)
        let sectors = Dictionary(uniqueKeysWithValues: try await store.sectors().map { ($0.id, $0.name) })
        var figures: [NationalPicture.Organisational.Campaign] = []
        var directives: [NationalPicture.Organisational.Directive] = []
        for campaign in try await store.campaigns().sorted(by: { $0.dueAt < $1.dueAt }) where campaign.dueAt >= start && campaign.dueAt < end {
            let participants = try await store.participants(campaign.id)
            if let directive = campaign.directive {
                directives.append(
                    .init(
                        reference: directive.reference, title: campaign.title, due: campaign.dueAt, asked: participants.count,
                        acknowledged: try await store.acknowledgements(campaign.id).count, submitted: participants.filter { $0.submittedAt != nil }.count))
                continue
            }
            guard let rollup = try? await campaigns.rollup(campaign.id, for: subject, gate: gate) else { continue }
            figures.append(
                .init(
                    title: campaign.title, framework: "\(rollup.framework.name) \(rollup.framework.version)", cycle: campaign.cycle, due: campaign.dueAt,
                    submitted: rollup.national?.submitted ?? participants.filter { $0.submittedAt != nil }.count,
                    asked: rollup.national?.asked ?? participants.count, nationalSelfDeclared: rollup.national?.selfDeclared?.median,
                    nationalAudited: rollup.national?.audited?.median,
                    sectors: rollup.sectors.sorted { (sectors[$0.key] ?? $0.key.rawValue) < (sectors[$1.key] ?? $1.key.rawValue) }.map {
                        (sectors[$0.key] ?? $0.key.rawValue, $0.value.selfDeclared?.median)
                    }))
        }
        return .init(campaigns: figures, directives: directives)
    }

    // MARK: cooperation

    func cooperation(_ quarters: [Quarter]) async throws -> NationalPicture.Cooperation {
        let collections = Dictionary(uniqueKeysWithValues: try await store.intelCollections().map { ($0.id, $0.kind) })
        var shared: [String: [Int]] = [:]
        var reports: [Int] = [], seen: [Int] = [], publicReports: [Int] = [], confirmed: [Int] = []
        for (slot, quarter) in quarters.enumerated() {
            let (start, end) = (quarter.start(in: zone), quarter.end(in: zone))
            for (collection, count) in try await store.intelAdded(from: start, to: end) {
                let kind = collections[collection]?.rawValue ?? "other"
                shared[kind, default: Array(repeating: 0, count: quarters.count)][slot] += count
            }
            let sightings = try await store.sightingTotals(from: start, to: end)
            reports.append(sightings.reports)
            seen.append(sightings.seen)
            let suspicious = try await store.suspiciousTotals(from: start, to: end)
            publicReports.append(suspicious.reported)
            confirmed.append(suspicious.confirmed)
        }
        let order = ["national", "sector", "organisation", "group", "other"]
        return .init(
            shared: order.compactMap { kind in shared[kind].map { NationalPicture.Series(label: kind, values: $0.map { $0 }) } }, sightingReports: reports,
            sightingsSeen: seen, publicReports: publicReports, publicConfirmed: confirmed, peers: try await store.intelPeers().count)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
