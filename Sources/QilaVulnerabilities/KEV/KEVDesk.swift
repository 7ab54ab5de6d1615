public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// The national catalogue of known exploited vulnerabilities: CISA's catalogue imported from the
/// file an operator downloads, the authority's own entries beside it, removals kept with their
/// date and reason (which CISA's JSON cannot say), due dates per sector or criticality class, and
/// the TLP:CLEAR entries published in CISA's form. Every change is audited.
public struct KEVDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog

    public init(store: SQLStore, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    static let catalogue = Resource(kind: .kevCatalogue, reference: "kev-catalogue")
    /// The published catalogue's title.
    public static let defaultTitle = "National Catalogue of Known Exploited Vulnerabilities"

    /// What an import changed.
    public struct ImportSummary: Sendable, Equatable {
        public var catalogVersion: String
        public var added = 0
        public var updated = 0
        public var unchanged = 0
        /// CISA's entries of an earlier import that this catalogue no longer lists: recorded as
        /// removed, with the version that dropped them.
        public var dropped: [String] = []
        /// Entries removed here that CISA still lists: left removed (the authority's decision stands).
        public var keptRemoved: [String] = []
    }

    /// Imports CISA's catalogue (the whole file or nothing). Entries CISA lists replace what an
    /// earlier import stored; the authority's own entries for the same CVE become CISA's; CISA's
    /// entries that an earlier import stored and this one no longer lists are recorded as removed.
    public func importCISA(_ data: Data, file: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> ImportSummary {
        try await gate.require(subject, .update, Self.catalogue)
        let catalogue: KEVCatalogue
        do {
            catalogue = try KEVCatalogue.read(data, file: file)
        } catch {
            throw QilaError(.invalidInput, error.place.isEmpty ? error.message : "\(error.place) \(error.message)", at: file)
        }
        let known = Dictionary(uniqueKeysWithValues: try await store.kevEntries().map { ($0.cveID, $0) })
        var summary = ImportSummary(catalogVersion: catalogue.catalogVersion)
        var changed: [KEVRecord] = []
        var lifted = Set<String>()
        for entry in catalogue.vulnerabilities {
            var record = Self.record(entry, source: .cisa, tlp: .clear, version: catalogue.catalogVersion, by: subject.user.id.description, at: now)
            if let existing = known[entry.cveID] {
                if let removal = existing.removal {
                    if removal.byImport {
                        // CISA lists it again: the removal an earlier import recorded is lifted.
                        summary.updated += 1
                        changed.append(record)
                        lifted.insert(entry.cveID)
                        continue
                    }
                    record.removal = removal
                    summary.keptRemoved.append(entry.cveID)
                }
                if Self.sameContent(existing, record) {
                    summary.unchanged += 1
                    continue
                }
                summary.updated += 1
            } else {
                summary.added += 1
            }
            changed.append(record)
        }
        let listed = Set(catalogue.vulnerabilities.map(\.cveID))
        let today = CivilDay(now).description
        for record in known.values where record.source == .cisa && record.removal == nil && !listed.contains(record.cveID) {
            var dropped = record
            dropped.removal = KEVRecord.Removal(
                date: today, reason: "not in CISA's catalogue \(catalogue.catalogVersion)", by: subject.user.id.description, byImport: true)
            dropped.updatedAt = now
            changed.append(dropped)
            summary.dropped.append(record.cveID)
        }
        summary.dropped.sort()
        try await store.saveKEVEntries(changed, withRemoval: Set(summary.dropped).union(lifted))
        try await audit.recordChange(
            by: subject, "kev.import", resource: "kev-catalogue", source: nil,
            details: [
                "catalogVersion": catalogue.catalogVersion, "added": String(summary.added), "updated": String(summary.updated),
                "unchanged": String(summary.unchanged), "dropped": String(summary.dropped.count), "relisted": String(lifted.count),
            ], now: now)
        return summary
    }

    static func record(_ entry: KEVCatalogue.Entry, source: KEVRecord.Source, tlp: TLP, version: String, by user: String, at time: Date) -> KEVRecord {
        KEVRecord(
            cveID: entry.cveID, source: source, vendorProject: entry.vendorProject, product: entry.product, vulnerabilityName: entry.vulnerabilityName,
            dateAdded: entry.dateAdded, shortDescription: entry.shortDescription, requiredAction: entry.requiredAction, dueDate: entry.dueDate,
            knownRansomwareCampaignUse: entry.knownRansomwareCampaignUse, notes: entry.notes, cwes: entry.cwes, tlp: tlp, catalogVersion: version,
            updatedAt: time, updatedBy: user)
    }

    static func entry(_ record: KEVRecord) -> KEVCatalogue.Entry {
        KEVCatalogue.Entry(
            cveID: record.cveID, vendorProject: record.vendorProject, product: record.product, vulnerabilityName: record.vulnerabilityName,
            dateAdded: record.dateAdded, shortDescription: record.shortDescription, requiredAction: record.requiredAction, dueDate: record.dueDate,
            knownRansomwareCampaignUse: record.knownRansomwareCampaignUse, notes: record.notes, cwes: record.cwes)
    }

    static func sameContent(_ a: KEVRecord, _ b: KEVRecord) -> Bool {
        a.source == b.source && entry(a) == entry(b) && a.tlp == b.tlp
    }

    // MARK: the authority's own entries

    /// What the form for the authority's own entry sends.
    public struct EntryInput: Sendable {
        public var cveID = ""
        public var vendorProject = ""
        public var product = ""
        public var vulnerabilityName = ""
        public var dateAdded = ""
        public var shortDescription = ""
        public var requiredAction = ""
        public var dueDate = ""
        public var knownRansomwareCampaignUse = "Unknown"
        public var notes = ""
        public var cwes = ""
        public var tlp = TLP.clear.rawValue
        public init() {}
    }

    /// Adds or revises one of the authority's own entries (an entry imported from CISA is CISA's
    /// to revise: refused).
    public func saveOwn(_ input: EntryInput, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> KEVRecord {
        try await gate.require(subject, .update, Self.catalogue)
        let cve = input.cveID.trimmingCharacters(in: .whitespaces).uppercased()
        guard KEVCatalogue.isCVE(cve) else { throw QilaError.invalid("must be a CVE identifier, such as CVE-2024-3400", field: "cveID") }
        let existing = try await store.kevEntry(cve)
        if let existing, existing.source == .cisa {
            throw QilaError.invalid("is CISA's entry, revised by importing CISA's catalogue; remove it instead if it does not apply", field: "cveID")
        }
        func line(_ text: String, _ field: String, limit: Int = 200) throws -> String {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw QilaError.invalid("is required", field: field) }
            guard value.count <= limit else { throw QilaError.invalid("is longer than \(limit) characters", field: field) }
            return value
        }
        let vendor = try line(input.vendorProject, "vendorProject")
        let product = try line(input.product, "product")
        let name = try line(input.vulnerabilityName, "vulnerabilityName")
        let added = input.dateAdded.trimmingCharacters(in: .whitespaces).isEmpty ? CivilDay(now).description : input.dateAdded.trimmingCharacters(in: .whitespaces)
        guard let addedDay = CivilDay(added) else { throw QilaError.invalid("must be a date written YYYY-MM-DD", field: "dateAdded") }
        guard addedDay <= CivilDay(now) else { throw QilaError.invalid("cannot be in the future", field: "dateAdded") }
        let description = try line(input.shortDescription, "shortDescription", limit: 2_000)
        let action = try line(input.requiredAction, "requiredAction", limit: 1_000)
        let due = input.dueDate.trimmingCharacters(in: .whitespaces)
        guard let dueDay = CivilDay(due) else { throw QilaError.invalid("must be a date written YYYY-MM-DD", field: "dueDate") }
        guard dueDay >= addedDay else { throw QilaError.invalid("cannot be before the date added", field: "dueDate") }
        guard ["Known", "Unknown"].contains(input.knownRansomwareCampaignUse) else {
            throw QilaError.invalid("must be Known or Unknown", field: "knownRansomwareCampaignUse")
        }
        let notes = input.notes.trimmingCharacters(in: .whitespacesAndNewlines)
        guard notes.count <= 2_000 else { throw QilaError.invalid("is longer than 2000 characters", field: "notes") }
        var cwes: [String] = []
        for part in input.cwes.split(whereSeparator: { $0 == "," || $0 == " " || $0.isNewline }) {
            let cwe = part.uppercased()
            guard cwe.hasPrefix("CWE-"), cwe.count > 4, cwe.dropFirst(4).allSatisfy(\.isASCIIDigit) else {
                throw QilaError.invalid("'\(part)' is not a CWE identifier (CWE-79)", field: "cwes")
            }
            cwes.append(cwe)
        }
        guard let tlp = TLP(rawValue: input.tlp), tlp != .red else { throw QilaError.invalid("must be TLP:CLEAR, GREEN, AMBER or AMBER+STRICT", field: "tlp") }
        let record = KEVRecord(
            cveID: cve, source: .authority, vendorProject: vendor, product: product, vulnerabilityName: name, dateAdded: added,
            shortDescription: description, requiredAction: action, dueDate: due, knownRansomwareCampaignUse: input.knownRansomwareCampaignUse, notes: notes,
            cwes: cwes, tlp: tlp, catalogVersion: "", updatedAt: now, updatedBy: subject.user.id.description, removal: existing?.removal)
        try await store.saveKEVEntries([record])
        try await audit.recordChange(
            by: subject, existing == nil ? "kev.entry.add" : "kev.entry.revise", resource: "kev:\(cve)", source: nil, details: ["tlp": tlp.rawValue], now: now)
        return record
    }

    /// Records that an entry no longer belongs in the catalogue, on a date and for a reason.
    public func remove(_ cveText: String, on dayText: String, reason reasonText: String, by subject: Subject, gate: any AccessGate, now: Date = Date())
        async throws
    {
        try await gate.require(subject, .update, Self.catalogue)
        let cve = cveText.trimmingCharacters(in: .whitespaces).uppercased()
        guard let record = try await store.kevEntry(cve) else { throw QilaError.invalid("is not in the catalogue", field: "cveID") }
        guard record.removal == nil else { throw QilaError.invalid("was removed on \(record.removal!.date)", field: "cveID") }
        let day = dayText.trimmingCharacters(in: .whitespaces).isEmpty ? CivilDay(now).description : dayText.trimmingCharacters(in: .whitespaces)
        guard let removed = CivilDay(day) else { throw QilaError.invalid("must be a date written YYYY-MM-DD", field: "removedOn") }
        guard removed <= CivilDay(now) else { throw QilaError.invalid("cannot be in the future", field: "removedOn") }
        guard let added = CivilDay(record.dateAdded), removed >= added else { throw QilaError.invalid("cannot be before the entry was added", field: "removedOn") }
        let reason = reasonText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard reason.count >= 3, reason.count <= 1_000 else { throw QilaError.invalid("needs saying, in at most 1000 characters", field: "reason") }
        guard try await store.removeKEVEntry(cve, KEVRecord.Removal(date: day, reason: reason, by: subject.user.id.description), at: now) else {
            throw QilaError(.conflict, "\(cve) was removed meanwhile")
        }
        try await audit.recordChange(by: subject, "kev.entry.remove", resource: "kev:\(cve)", source: nil, details: ["removedOn": day], now: now)
    }

    // MARK: due dates

    /// Sets the days after an entry's addition within which a sector's or a criticality class's
    /// organisations must act (every entry when `cve` is empty), or a fixed date for one entry.
    public func setDeadline(
        cve cveText: String, scope scopeText: String, value valueText: String, days daysText: String, dueDate dueText: String, by subject: Subject,
        gate: any AccessGate, now: Date = Date()
    ) async throws -> KEVDeadline {
        try await gate.require(subject, .update, Self.catalogue)
        let cve = cveText.trimmingCharacters(in: .whitespaces).uppercased()
        if !cve.isEmpty {
            guard try await store.kevEntry(cve) != nil else { throw QilaError.invalid("is not in the catalogue", field: "cveID") }
        }
        guard let scope = KEVDeadline.Scope(rawValue: scopeText) else { throw QilaError.invalid("must be a sector or a criticality class", field: "scope") }
        let value = valueText.trimmingCharacters(in: .whitespaces)
        switch scope {
        case .sector:
            guard try await store.sectors().contains(where: { $0.id.description == value }) else { throw QilaError.invalid("names no sector", field: "value") }
        case .criticality:
            guard Organisation.Criticality(rawValue: value) != nil else {
                throw QilaError.invalid("must be one of \(Organisation.Criticality.allCases.map(\.rawValue).joined(separator: ", "))", field: "value")
            }
        }
        let daysValue = daysText.trimmingCharacters(in: .whitespaces)
        let dueValue = dueText.trimmingCharacters(in: .whitespaces)
        var days: Int?
        var due: String?
        switch (daysValue.isEmpty, dueValue.isEmpty) {
        case (false, true):
            guard let number = Int(daysValue), (0...3_650).contains(number) else { throw QilaError.invalid("must be a number of days from 0 to 3650", field: "days") }
            days = number
        case (true, false):
            guard !cve.isEmpty else { throw QilaError.invalid("is for one entry; for every entry give days", field: "dueDate") }
            guard CivilDay(dueValue) != nil else { throw QilaError.invalid("must be a date written YYYY-MM-DD", field: "dueDate") }
            due = dueValue
        default:
            throw QilaError.invalid("give days after the entry's addition, or (for one entry) a date, not both", field: "days")
        }
        let deadline = KEVDeadline(cveID: cve, scope: scope, scopeValue: value, days: days, dueDate: due, setBy: subject.user.id.description, setAt: now)
        try await store.setKEVDeadline(deadline)
        try await audit.recordChange(
            by: subject, "kev.deadline.set", resource: cve.isEmpty ? "kev-catalogue" : "kev:\(cve)", source: nil,
            details: ["scope": scope.rawValue, "value": value, "days": days.map(String.init) ?? "", "dueDate": due ?? ""], now: now)
        return deadline
    }

    /// The date by which `organisation` must act on `record`: a rule for the entry and the
    /// organisation's sector, then for the entry and its criticality class, then for every entry
    /// and its sector, then for every entry and its class; otherwise the entry's own due date.
    /// Of rules at the same level the earliest date wins.
    public static func dueDate(of record: KEVRecord, for organisation: Organisation, rules: [KEVDeadline]) -> CivilDay? {
        guard let added = CivilDay(record.dateAdded) else { return CivilDay(record.dueDate) }
        func applies(_ rule: KEVDeadline) -> Bool {
            switch rule.scope {
            case .sector: rule.scopeValue == organisation.sector.description
            case .criticality: rule.scopeValue == organisation.criticality?.rawValue
            }
        }
        let levels: [(String, KEVDeadline.Scope)] = [(record.cveID, .sector), (record.cveID, .criticality), ("", .sector), ("", .criticality)]
        for (cve, scope) in levels {
            let dates = rules.filter { $0.cveID == cve && $0.scope == scope && applies($0) }.compactMap { rule -> CivilDay? in
                if let due = rule.dueDate { return CivilDay(due) }
                return rule.days.map { added.adding(days: $0) }
            }
            if let earliest = dates.min() { return earliest }
        }
        return CivilDay(record.dueDate)
    }

    // MARK: reading and publishing

    public func entries(for subject: Subject, gate: any AccessGate) async throws -> [KEVRecord] {
        try await gate.require(subject, .read, Self.catalogue)
        return try await store.kevEntries()
    }

    public func deadlines(for subject: Subject, gate: any AccessGate) async throws -> [KEVDeadline] {
        try await gate.require(subject, .read, Self.catalogue)
        return try await store.kevDeadlines()
    }

    /// The published catalogue: entries marked TLP:CLEAR and not removed, in CISA's form, newest
    /// addition last as CISA orders them. Its version is the day of the latest change and how many
    /// entries there are; it was released at the latest change.
    public func published(title: String) async throws -> KEVCatalogue {
        let records = try await store.kevEntries().filter { $0.tlp == .clear && $0.removal == nil }
        let latest = try await store.kevEntries().map(\.updatedAt).max() ?? Date(timeIntervalSince1970: 0)
        let released = latest.formatted(.iso8601)
        return KEVCatalogue(
            title: title, catalogVersion: "\(CivilDay(latest).description.replacingOccurrences(of: "-", with: ".")).\(records.count)", dateReleased: released,
            vulnerabilities: records.map(Self.entry))
    }

    /// Every TLP:CLEAR entry as one JSON object a line, removed ones too with `removed` (date and
    /// reason): what CISA's catalogue cannot say.
    public func publishedStream() async throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var out = Data()
        for record in try await store.kevEntries() where record.tlp == .clear {
            out += try encoder.encode(StreamLine(entry: Self.entry(record), removed: record.removal.map { .init(date: $0.date, reason: $0.reason) }))
            out.append(0x0A)
        }
        return out
    }

    struct StreamLine: Encodable {
        var entry: KEVCatalogue.Entry
        var removed: Removed?

        struct Removed: Encodable {
            var date: String
            var reason: String
        }

        enum CodingKeys: String, CodingKey { case removed }

        func encode(to encoder: any Encoder) throws {
            try entry.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(removed, forKey: .removed)
        }
    }
}
