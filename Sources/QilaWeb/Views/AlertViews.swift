import Foundation
import QilaCore
import QilaDetect
import QilaStore

/// What the alert queue is asked for: status, kind, severity, organisation, text, a sort, and
/// where a page starts.
struct AlertQuery: Sendable, Equatable {
    enum Sort: String, CaseIterable, Sendable {
        case last, first, severity, count
        var label: String {
            switch self {
            case .last: "Latest occurrence"
            case .first: "First occurrence"
            case .severity: "Severity (most severe first)"
            case .count: "Occurrences (most first)"
            }
        }
    }

    static let pageSize = 100
    /// Most alerts one list (all its pages, or its CSV) holds.
    static let maximumMatching = 5_000

    /// nil: open (new and acknowledged); "all"; or one status.
    var status: String?
    var kind: SecurityAlert.Kind?
    var severity: SecurityAlert.Severity?
    var organisation: OrganisationID?
    var rule: String?
    var text = ""
    var sort = Sort.last
    var after: String?

    init(parameters: (String) -> String?) {
        let statusText = parameters("status") ?? ""
        status = statusText == "all" || SecurityAlert.Status(rawValue: statusText) != nil ? statusText : nil
        kind = parameters("kind").flatMap(SecurityAlert.Kind.init(rawValue:))
        severity = parameters("severity").flatMap(SecurityAlert.Severity.init(rawValue:))
        organisation = parameters("organisation").flatMap(OrganisationID.init)
        rule = parameters("rule").flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
        text = parameters("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        sort = parameters("sort").flatMap(Sort.init(rawValue:)) ?? .last
        after = parameters("after").flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
    }

    func filter(readable: [OrganisationID], everyone: Bool) -> AlertFilter {
        AlertFilter(
            organisations: organisation.map { [$0] } ?? (everyone ? nil : readable),
            statuses: status == "all" ? nil : status.flatMap(SecurityAlert.Status.init(rawValue:)).map { [$0] } ?? [.new, .acknowledged],
            kinds: kind.map { [$0] }, severities: severity.map { [$0] }, rule: rule, text: text.isEmpty ? nil : text, limit: Self.maximumMatching)
    }

    func string(after cursor: String? = nil) -> String {
        var items: [(String, String)] = []
        if let status { items.append(("status", status)) }
        if let kind { items.append(("kind", kind.rawValue)) }
        if let severity { items.append(("severity", severity.rawValue)) }
        if let organisation { items.append(("organisation", organisation.description)) }
        if let rule { items.append(("rule", rule)) }
        if !text.isEmpty { items.append(("q", text)) }
        if sort != .last { items.append(("sort", sort.rawValue)) }
        if let cursor { items.append(("after", cursor)) }
        return ListPaging.query(items)
    }

    /// The alerts in this query's order, ties broken by id so that a cursor names one place.
    func ordered(_ alerts: [SecurityAlert]) -> [SecurityAlert] {
        alerts.sorted { a, b in
            switch sort {
            case .last: if a.lastAt != b.lastAt { return a.lastAt > b.lastAt }
            case .first: if a.firstAt != b.firstAt { return a.firstAt > b.firstAt }
            case .severity: if a.severity != b.severity { return a.severity > b.severity }
            case .count: if a.count != b.count { return a.count > b.count }
            }
            return a.id.description < b.id.description
        }
    }

    func page(of ordered: [SecurityAlert]) -> (rows: ArraySlice<SecurityAlert>, next: String?, start: Int) {
        ListPaging.page(of: ordered, after: after, size: Self.pageSize) { $0.id.description }
    }
}

/// The alert queue: filters, a chart by severity, one page of alerts with a box each for bulk
/// acknowledge or dismiss, paging, and the CSV of the whole filtered list.
struct AlertsView: Sendable {
    struct Row: Sendable {
        var id, title, severity, kind, organisation, subject, first, last, status: String
        var count: Int64
        var campaign: Bool
        var canTriage: Bool
    }

    let alerts: [Row]
    let hasAlerts: Bool
    let canTriageAny: Bool
    let chart: String
    let statuses, kinds, severities, organisations, sorts: [Choice]
    let showOrganisations: Bool
    let q: String
    let rangeText: String
    let truncated: Bool
    let nextHref: String?
    let firstHref: String?
    let csvHref: String
    let backHref: String
    let message: String?
    let bulkError: String?
    let reason: String

    static let bulkFormName = "alert.bulk"
    static let bulkDoneName = "alert.bulk.done"

    init(
        ordered: [SecurityAlert], query: AlertQuery, names: [OrganisationID: String], readable: [Organisation], canTriage: (SecurityAlert) -> Bool,
        chart: String, kept: FormState?, zone: DisplayZone
    ) {
        let page = query.page(of: ordered)
        alerts = page.rows.map { alert in
            Row(
                id: alert.id.description, title: alert.title, severity: alert.severity.rawValue, kind: alert.kind.rawValue,
                organisation: names[alert.organisation] ?? "?", subject: alert.host ?? alert.account ?? "-", first: zone.format(alert.firstAt),
                last: zone.format(alert.lastAt), status: alert.status.rawValue, count: alert.count, campaign: alert.campaign != nil,
                canTriage: alert.status != .promoted && canTriage(alert))
        }
        hasAlerts = !alerts.isEmpty
        canTriageAny = alerts.contains(where: \.canTriage)
        self.chart = chart
        statuses =
            [Choice(value: "", title: "open (new, acknowledged)", selected: query.status == nil), Choice(value: "all", title: "any", selected: query.status == "all")]
            + SecurityAlert.Status.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: query.status == $0.rawValue) }
        kinds = SecurityAlert.Kind.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: query.kind == $0) }
        severities = SecurityAlert.Severity.allCases.reversed().map { Choice(value: $0.rawValue, title: $0.rawValue, selected: query.severity == $0) }
        organisations = readable.map { Choice(value: $0.id.description, title: $0.name, selected: $0.id == query.organisation) }
        showOrganisations = readable.count > 1
        sorts = AlertQuery.Sort.allCases.map { Choice(value: $0.rawValue, title: $0.label, selected: query.sort == $0) }
        q = query.text
        truncated = ordered.count >= AlertQuery.maximumMatching
        rangeText =
            page.rows.isEmpty
            ? "No alert matches."
            : "Alerts \(page.start + 1)–\(page.start + page.rows.count) of \(ordered.count)\(truncated ? "+" : "") matching. Times in \(zone.name)."
        nextHref = page.next.map { "/alerts?" + query.string(after: $0) }
        firstHref = query.after == nil ? nil : "/alerts" + (query.string().isEmpty ? "" : "?" + query.string())
        csvHref = "/alerts.csv" + (query.string().isEmpty ? "" : "?" + query.string())
        let here = query.string(after: query.after)
        backHref = "/alerts" + (here.isEmpty ? "" : "?" + here)
        let done = kept?.form == Self.bulkDoneName ? kept : nil
        message = done.map { $0.value("message") }
        let refused = kept?.form == Self.bulkFormName ? kept : nil
        bulkError = refused.flatMap { $0.errors.values.first }
        reason = refused?.value("reason") ?? ""
    }
}

/// One alert: its facts, matched fields, the organisations of a campaign, triage, and the
/// evidence with each event's own time beside the time it arrived.
struct AlertView: Sendable {
    struct Field: Sendable {
        var name, value: String
    }

    struct Member: Sendable {
        var id, organisation, last: String
        var count: Int64
    }

    struct Evidence: Sendable {
        var sequence: Int
        var received: String
        var happened: String?
        var event: String
    }

    let id, title, severity, kind, rule, organisation, sensor, host, account, first, last, status: String
    let ruleHref: String?
    let count: Int64
    let reason: String?
    let explanation: String?
    let caseID: String?
    let campaignLink: String?
    let fields: [Field]
    let members: [Member]
    let hasMembers: Bool
    let evidence: [Evidence]
    let hasEvidence: Bool
    let eventSpan: String?
    let canTriage: Bool
    let canPromote: Bool
    let triageError: String?
    let triageReason: String
    let zoneName: String

    static let triageFormName = "alert.triage"
}
