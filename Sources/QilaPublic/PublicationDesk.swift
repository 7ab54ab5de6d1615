public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// What the authority publishes on the public pages: guides and alerts (Markdown, English with an
/// optional Urdu version), and the choice of statistics shown there. Everything published is
/// TLP:CLEAR by definition; withdrawing takes an item off the pages and keeps it for the record.
public struct PublicationDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog

    /// The settings key of the statistics the authority publishes.
    public static let statisticsKey = "public.statistics"

    public init(store: SQLStore, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    /// What the form sends.
    public struct Draft: Sendable, Equatable {
        public var kind = "guide"
        public var slug = ""
        public var title = ""
        public var titleUrdu = ""
        public var body = ""
        public var bodyUrdu = ""
        public init() {}
    }

    /// Publishes a guide or an alert. The slug is its address (lower-case letters, digits and
    /// hyphens); the Urdu title and text go together or not at all.
    public func publish(_ draft: Draft, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> PublicPublication {
        try await gate.require(subject, .create, Resource(kind: .publicContent))
        guard let kind = PublicPublication.Kind(rawValue: draft.kind) else { throw QilaError.invalid("must be a guide or an alert", field: "kind") }
        let slug = draft.slug.trimmingCharacters(in: .whitespaces)
        guard (3...80).contains(slug.count), slug.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }), !slug.hasPrefix("-") else {
            throw QilaError.invalid("must be 3 to 80 lower-case letters, digits and hyphens, such as protect-your-accounts", field: "slug")
        }
        var publication = PublicPublication(
            kind: kind, slug: slug, title: "", titleUrdu: "", body: "", bodyUrdu: "", publishedAt: now, publishedBy: subject.user.id, updatedAt: now)
        try Self.fill(&publication, from: draft)
        guard try await store.publish(publication) else { throw QilaError.invalid("is already the address of another publication", field: "slug") }
        try await audit.recordChange(by: subject, "public.publish", resource: "publication:\(slug)", source: nil, details: ["kind": kind.rawValue], now: now)
        return publication
    }

    /// Revises the text of a publication (its address and kind stay).
    public func revise(_ id: String, _ draft: Draft, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> PublicPublication {
        try await gate.require(subject, .update, Resource(kind: .publicContent))
        guard var publication = try await store.publication(id: id) else { throw QilaError(.notFound, "no such publication") }
        try Self.fill(&publication, from: draft)
        publication.updatedAt = now
        try await store.updatePublication(publication)
        try await audit.recordChange(by: subject, "public.revise", resource: "publication:\(publication.slug)", source: nil, now: now)
        return publication
    }

    /// Takes a publication off the public pages.
    public func withdraw(_ id: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await gate.require(subject, .update, Resource(kind: .publicContent))
        guard var publication = try await store.publication(id: id) else { throw QilaError(.notFound, "no such publication") }
        guard publication.withdrawnAt == nil else { return }
        publication.withdrawnAt = now
        publication.updatedAt = now
        try await store.updatePublication(publication)
        try await audit.recordChange(by: subject, "public.withdraw", resource: "publication:\(publication.slug)", source: nil, now: now)
    }

    /// Every publication, withdrawn ones too, for the authority's page.
    public func all(for subject: Subject, gate: any AccessGate) async throws -> [PublicPublication] {
        try await gate.require(subject, .read, Resource(kind: .publicContent))
        return try await store.publications(includingWithdrawn: true)
    }

    /// What anyone may read.
    public func published(limit: Int = 200) async throws -> [PublicPublication] {
        try await store.publications(limit: limit)
    }

    public func published(slug: String) async throws -> PublicPublication? {
        guard let publication = try await store.publication(slug: slug), publication.withdrawnAt == nil else { return nil }
        return publication
    }

    // MARK: statistics

    /// Figures the authority may publish, computed when the page is read.
    public enum Statistic: String, Sendable, CaseIterable {
        /// Incidents reported this year by class, from the cases (classes under the minimum group withheld).
        case incidentsByClass = "incidents-by-class"
        /// Complaints from the public this year by category.
        case complaintsByCategory = "complaints-by-category"
        /// Suspicious messages and websites reported this year, and how many were confirmed.
        case suspiciousReports = "suspicious-reports"

        public var title: String {
            switch self {
            case .incidentsByClass: "Incidents reported this year, by class"
            case .complaintsByCategory: "Complaints from the public this year, by category"
            case .suspiciousReports: "Suspicious messages and websites reported, and confirmed"
            }
        }
    }

    public func publishedStatistics() async throws -> [Statistic] {
        let text = try await store.setting(Self.statisticsKey) ?? ""
        return text.split(separator: ",").compactMap { Statistic(rawValue: String($0)) }
    }

    /// Chooses what the statistics page shows.
    public func publishStatistics(_ chosen: [String], by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await gate.require(subject, .update, Resource(kind: .publicContent))
        var statistics: [Statistic] = []
        for text in chosen {
            guard let statistic = Statistic(rawValue: text) else { throw QilaError.invalid("'\(text.prefix(40))' is not a statistic Qila publishes", field: "statistics") }
            if !statistics.contains(statistic) { statistics.append(statistic) }
        }
        try await store.setSetting(Self.statisticsKey, statistics.map(\.rawValue).joined(separator: ","))
        try await audit.recordChange(
            by: subject, "public.statistics", resource: "setting:\(Self.statisticsKey)", source: nil,
            details: ["published": statistics.map(\.rawValue).joined(separator: ",")], now: now)
    }

    /// One published table: rows of a translation key and a count, nil where the group is
    /// smaller than the minimum and withheld.
    public struct Figure: Sendable, Equatable {
        public var statistic: Statistic
        public var rows: [Row]
        public struct Row: Sendable, Equatable {
            public var key: String
            public var count: Int?
        }
    }

    /// The figures the authority publishes, counted since the start of `now`'s year (in the
    /// installation's zone, Asia/Karachi by default). Incidents exclude drafts and the public's
    /// own complaints (which have their table); any count below `minimumGroup` is withheld.
    public func figures(now: Date = Date(), zone: TimeZone = TimeZone(identifier: "Asia/Karachi")!) async throws -> (year: Int, minimum: Int, figures: [Figure]) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let year = calendar.component(.year, from: now)
        let start = calendar.date(from: DateComponents(year: year, month: 1, day: 1)) ?? now
        let minimum = Int(try await store.setting("assessments.minimum-group") ?? "") ?? 5
        func withheld(_ count: Int) -> Int? { count < minimum ? nil : count }
        var figures: [Figure] = []
        for statistic in try await publishedStatistics() {
            switch statistic {
            case .incidentsByClass:
                var counts: [String: Int] = [:]
                for incident in try await store.incidents(includeDrafts: false)
                where (incident.submittedAt ?? incident.createdAt) >= start && !incident.regimes.contains(ComplaintDesk.regime) {
                    let rsitClass = incident.classification?.split(separator: "/").first.map(String.init) ?? "unclassified"
                    counts["rsit_" + rsitClass.replacingOccurrences(of: "-", with: "_"), default: 0] += 1
                }
                figures.append(
                    Figure(statistic: statistic, rows: counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { .init(key: $0.key, count: withheld($0.value)) }))
            case .complaintsByCategory:
                let counts = try await store.complaintCounts(since: start)
                figures.append(
                    Figure(
                        statistic: statistic,
                        rows: ComplaintCategory.allCases.compactMap { category in
                            counts[category.rawValue].map { .init(key: category.textKey, count: withheld($0)) }
                        }.sorted { ($0.count ?? 0) > ($1.count ?? 0) }))
            case .suspiciousReports:
                let counts = try await store.suspiciousReportCounts(since: start)
                figures.append(
                    Figure(
                        statistic: statistic,
                        rows: [
                            .init(key: "statistics_reported", count: withheld(counts.reported)),
                            .init(key: "statistics_confirmed", count: withheld(counts.confirmed)),
                        ]))
            }
        }
        return (year, minimum, figures)
    }

    static func fill(_ publication: inout PublicPublication, from draft: Draft) throws {
        func line(_ text: String, _ field: String, required: Bool) throws -> String {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if required, trimmed.isEmpty { throw QilaError.invalid("is required", field: field) }
            guard trimmed.count <= 200 else { throw QilaError.invalid("is longer than 200 characters", field: field) }
            guard !trimmed.contains(where: \.isNewline) else { throw QilaError.invalid("must be one line", field: field) }
            return trimmed
        }
        func body(_ text: String, _ field: String, required: Bool) throws -> String {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if required, trimmed.isEmpty { throw QilaError.invalid("is required", field: field) }
            guard trimmed.count <= 50_000 else { throw QilaError.invalid("is longer than 50,000 characters", field: field) }
            return trimmed
        }
        publication.title = try line(draft.title, "title", required: true)
        publication.body = try body(draft.body, "body", required: true)
        publication.titleUrdu = try line(draft.titleUrdu, "titleUrdu", required: false)
        publication.bodyUrdu = try body(draft.bodyUrdu, "bodyUrdu", required: false)
        if publication.titleUrdu.isEmpty != publication.bodyUrdu.isEmpty {
            throw QilaError.invalid("needs both the Urdu title and the Urdu text, or neither", field: publication.titleUrdu.isEmpty ? "titleUrdu" : "bodyUrdu")
        }
    }
}
