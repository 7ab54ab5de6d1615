import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaOversight
import QilaTraining

/// The oversight committee's national picture (`/oversight`) and its quarterly report
/// (`/oversight/report`), under the five pillars of the ITU Global Cybersecurity Index.
struct OversightPages: PageCollection {
    let kit: PageKit
    let desk: OversightDesk
    static let navigation = [
        NavigationEntry(title: "National picture", path: "/oversight", order: 5) { subject, enforcement in
            enforcement.permits(subject, .read, OversightDesk.resource)
        }
    ]

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/oversight") { request, context in try await page(request, context, report: false) }
        routes.get("/oversight/report") { request, context in try await page(request, context, report: true) }
        return routes
    }

    func page(_ request: Request, _ context: QilaRequestContext, report: Bool) async throws -> Response {
        let subject = try subject(context)
        let now = Date()
        let current = Quarter.containing(now, zone: desk.zone)
        let quarter = request.uri.queryParameters["quarter"].flatMap { Quarter(parsing: String($0)) }.flatMap { $0 <= current ? $0 : nil } ?? current
        let picture: NationalPicture
        do {
            picture = try await desk.picture(quarter, for: subject, gate: gate(context), now: now)
        } catch let error as QilaError where error.code == .forbidden {
            throw Problem(.forbidden, "the national picture is for the oversight committee and the authority")
        }
        let view = OversightView(picture, current: current, generated: now)
        return render(report ? "oversight-report" : "oversight", report ? "Quarterly report \(quarter)" : "National picture", context, view)
    }
}

/// What the national picture shows: five pillars, each a list of tables (trend by quarter) and
/// facts, every one with its source.
struct OversightView: Sendable {
    struct Table: Sendable {
        var id: String
        var title: String
        var source: String
        var columns: [String]
        var rows: [Row]
        var chart: String?
        var hasRows: Bool
    }

    struct Row: Sendable {
        var label: String
        var cells: [String]
    }

    struct Fact: Sendable {
        var label: String
        var value: String
        var source: String
    }

    struct Pillar: Sendable {
        var id: String
        var number: Int
        var title: String
        var about: String
        var facts: [Fact]
        var tables: [Table]
    }

    struct QuarterLink: Sendable {
        var label: String
        var href: String
        var current: Bool
    }

    let quarter: String
    let period: String
    let generated: String
    let minimum: Int
    let pillars: [Pillar]
    let quarters: [QuarterLink]
    let reportHref: String

    init(_ picture: NationalPicture, current: Quarter, generated: Date) {
        let columns = picture.quarters.map(\.description)
        let zone = DisplayZone.current
        quarter = picture.quarter.description
        period = "\(Self.day(picture.quarter.start(in: TimeZone(identifier: "Asia/Karachi")!))) to \(Self.day(picture.quarter.end(in: TimeZone(identifier: "Asia/Karachi")!).addingTimeInterval(-1)))"
        self.generated = zone.format(generated)
        minimum = picture.minimumGroup
        reportHref = "/oversight/report?quarter=\(picture.quarter)"
        quarters = current.window(6).reversed().map { QuarterLink(label: $0.description, href: "/oversight?quarter=\($0)", current: $0 == picture.quarter) }
        func counts(_ values: [Int?]) -> [String] { values.map { $0.map(String.init) ?? "withheld" } }
        func table(_ id: String, _ title: String, _ source: String, _ series: [NationalPicture.Series], chart: Bool = false) -> Table {
            let rows = series.map { Row(label: $0.label, cells: counts($0.values)) }
            let drawing = chart && series.contains(where: { $0.values.contains { ($0 ?? 0) > 0 } })
                ? BarChart(
                    bars: columns.enumerated().map { index, column in
                        BarChart.Bar(label: column, values: Dictionary(series.map { ($0.label, $0.values[index] ?? 0) }, uniquingKeysWith: +))
                    }, series: series.map(\.label), title: title
                ).svg()
                : nil
            return Table(id: id, title: title, source: source, columns: columns, rows: rows, chart: drawing, hasRows: !rows.isEmpty)
        }
        func hours(_ value: Double?) -> String { value.map { $0 < 48 ? String(format: "%.1f hours", $0) : String(format: "%.1f days", $0 / 24) } ?? "no cases yet" }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }

        // 1. Legal measures
        let legal = picture.legal
        var legalTables = [
            Table(
                id: "reporting", title: "Report stages due, by outcome", source: "Incident cases: each regime's stage deadlines against the submissions",
                columns: columns,
                rows: [
                    Row(label: "On time", cells: legal.onTime.map(String.init)), Row(label: "Late", cells: legal.late.map(String.init)),
                    Row(label: "Still missing", cells: legal.missing.map(String.init)), Row(label: "Share on time", cells: legal.onTimeShare.map(percent)),
                    Row(label: "Show-cause notices issued", cells: legal.notices.map(String.init)),
                ],
                chart: (legal.onTime + legal.late + legal.missing).allSatisfy { $0 == 0 }
                    ? nil
                    : BarChart(
                        bars: columns.enumerated().map { index, column in
                            BarChart.Bar(label: column, values: ["on time": legal.onTime[index], "late": legal.late[index], "missing": legal.missing[index]])
                        }, series: ["on time", "late", "missing"], title: "Report stages due, by outcome"
                    ).svg(), hasRows: true)
        ]
        var legalFacts = [
            Fact(label: "Median time from awareness to the first report, this quarter", value: hours(legal.medianHoursToFirstReport), source: "Incident cases")
        ]
        if let warrants = legal.warrants {
            legalTables.append(
                Table(
                    id: "warrants", title: "Warrants for traffic data", source: "Warrant register (counts and timing only)", columns: columns,
                    rows: [Row(label: "Recorded", cells: warrants.recorded.map(String.init)), Row(label: "Queries run", cells: warrants.queries.map(String.init))],
                    chart: nil, hasRows: true))
            legalFacts += [
                Fact(label: "Warrants approved / rejected / pending (all time)", value: "\(warrants.approved) / \(warrants.rejected) / \(warrants.pending)", source: "Warrant register"),
                Fact(label: "Median time from recording to decision", value: hours(warrants.medianDecisionHours), source: "Warrant register"),
                Fact(label: "Queries run after a warrant expired", value: String(warrants.queriesAfterExpiry), source: "Warrant register (should be 0)"),
            ]
        }
        // 2. Technical measures
        let technical = picture.technical
        let technicalTables = [
            table("by-sector", "Incidents reported, by sector", "Incident cases (organisations' reports; drafts and merged cases left out)", technical.bySector, chart: true),
            table("by-class", "Incidents reported, by class (RSIT)", "Incident cases, as classified by the reporter or the authority", technical.byClass),
            Table(
                id: "complaints", title: "Complaints from the public", source: "Public portal: complaints to the designated agency", columns: columns,
                rows: [Row(label: "Complaints", cells: technical.complaints.map(String.init))], chart: nil, hasRows: true),
        ]
        var technicalFacts = [
            Fact(label: "Incidents reported this quarter", value: String(technical.total.last ?? 0), source: "Incident cases"),
            Fact(label: "Median time from the first report to triage", value: hours(technical.medianHoursToTriage), source: "Case timelines"),
            Fact(label: "Median time from the first report to resolution or closure", value: hours(technical.medianHoursToClose), source: "Case timelines"),
        ]
        let exposureSource = "Organisations' inventories matched to the KEV catalogue and advisories (now, not per quarter)"
        if let exposure = technical.exposure {
            technicalFacts += [
                Fact(label: "Organisations with an inventory", value: String(exposure.organisations), source: exposureSource),
                Fact(
                    label: "Exposures open / overdue / closed", value: "\(exposure.open) / \(exposure.overdue) / \(exposure.closed)", source: exposureSource),
                Fact(label: "Organisations with an overdue exposure", value: String(exposure.organisationsOverdue), source: exposureSource),
                Fact(
                    label: "Median days from an entry's publication to its remediation",
                    value: exposure.medianDaysToClose.map { String(format: "%.1f", $0) } ?? "—", source: exposureSource),
            ]
        } else {
            technicalFacts.append(
                Fact(label: "Exposure to known exploited vulnerabilities", value: "withheld: fewer organisations than the minimum group have an inventory", source: exposureSource))
        }
        // 3. Organisational measures
        let organisational = picture.organisational
        var organisationalTables: [Table] = []
        if !organisational.campaigns.isEmpty {
            let sectorNames = Array(Set(organisational.campaigns.flatMap { $0.sectors.map(\.name) })).sorted()
            organisationalTables.append(
                Table(
                    id: "assessments", title: "Assessment campaigns: median score (0-100)", source: "Assessment campaigns (self-declared; audited where attested)",
                    columns: ["Submitted", "National (self-declared)", "National (audited)"] + sectorNames,
                    rows: organisational.campaigns.map { campaign in
                        Row(
                            label: "\(campaign.title) (\(campaign.framework), \(campaign.cycle))",
                            cells: ["\(campaign.submitted) of \(campaign.asked)", Self.score(campaign.nationalSelfDeclared), Self.score(campaign.nationalAudited)]
                                + sectorNames.map { name in campaign.sectors.first { $0.name == name }.map { Self.score($0.median) } ?? "—" })
                    }, chart: nil, hasRows: true))
        }
        if !organisational.directives.isEmpty {
            organisationalTables.append(
                Table(
                    id: "directives", title: "Directives", source: "Directives issued by the authority and regulators",
                    columns: ["Due", "Addressees", "Acknowledged", "Compliance reported"],
                    rows: organisational.directives.map {
                        Row(label: "\($0.reference): \($0.title)", cells: [Self.day($0.due), String($0.asked), String($0.acknowledged), String($0.submitted)])
                    }, chart: nil, hasRows: true))
        }
        // 4. Capacity development
        var capacityTables: [Table] = []
        if let capacity = picture.capacity {
            capacityTables.append(
                Table(
                    id: "training", title: "Training coverage and phishing simulations, \(capacity.year)",
                    source: "Training records: completions over declared headcount; imported phishing simulations",
                    columns: ["Organisations", "Staff trained", "Clicked", "Reported"],
                    rows: capacity.groups.map { group in
                        Row(
                            label: group.name,
                            cells: [String(group.organisations)] + (group.withheld
                                ? ["withheld", "withheld", "withheld"]
                                : [percent(group.coverage), group.clickRate.map { percent($0) } ?? "no simulations", group.reportRate.map { percent($0) } ?? "no simulations"]))
                    }, chart: nil, hasRows: !capacity.groups.isEmpty))
        }
        // 5. Cooperation
        let cooperation = picture.cooperation
        let cooperationTables = [
            table("sharing", "Intelligence shared, by collection", "Intelligence collections: object versions added", cooperation.shared, chart: true),
            Table(
                id: "sightings", title: "Sightings and reports from the public", source: "Sightings of shared indicators; the public portal's reports", columns: columns,
                rows: [
                    Row(label: "Sighting reports", cells: cooperation.sightingReports.map(String.init)), Row(label: "Times seen", cells: cooperation.sightingsSeen.map(String.init)),
                    Row(label: "Suspicious messages reported", cells: cooperation.publicReports.map(String.init)),
                    Row(label: "Confirmed and shared", cells: cooperation.publicConfirmed.map(String.init)),
                ], chart: nil, hasRows: true),
        ]
        pillars = [
            Pillar(
                id: "legal", number: 1, title: "Legal measures", about: "Whether reporting obligations and warrant safeguards are met.", facts: legalFacts,
                tables: legalTables),
            Pillar(
                id: "technical", number: 2, title: "Technical measures", about: "What the national SOC and the CERT handled, and how fast.", facts: technicalFacts,
                tables: technicalTables),
            Pillar(
                id: "organisational", number: 3, title: "Organisational measures", about: "Maturity assessments and directives by sector.",
                facts: organisationalTables.isEmpty
                    ? [Fact(label: "Assessment campaigns and directives due in these quarters", value: "none", source: "Assessment campaigns")] : [],
                tables: organisationalTables),
            Pillar(
                id: "capacity", number: 4, title: "Capacity development", about: "Training and awareness in the organisations under oversight.",
                facts: picture.capacity == nil ? [Fact(label: "Training figures", value: "not open to this account", source: "Training records")] : [],
                tables: capacityTables),
            Pillar(
                id: "cooperation", number: 5, title: "Cooperation", about: "Sharing within the country and with peers abroad.",
                facts: [Fact(label: "Peers abroad exchanged with", value: String(cooperation.peers), source: "TAXII and MISP peers")], tables: cooperationTables),
        ]
    }

    static func score(_ value: Double?) -> String { value.map { String(format: "%.0f", $0 * 100) } ?? "withheld" }

    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Karachi")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
