public import Foundation
public import QilaCore

/// An entry of the national catalogue of known exploited vulnerabilities: CISA's fields as CISA
/// names them, where it came from (`cisa` or `authority`), its marking, and its removal if any.
public struct KEVRecord: Sendable, Equatable {
    public enum Source: String, Sendable, CaseIterable {
        /// Imported from CISA's catalogue.
        case cisa
        /// Added by the authority.
        case authority
    }

    public var cveID: String
    public var source: Source
    public var vendorProject: String
    public var product: String
    public var vulnerabilityName: String
    /// `YYYY-MM-DD`, as in CISA's catalogue.
    public var dateAdded: String
    public var shortDescription: String
    public var requiredAction: String
    /// The due date the entry came with (CISA's, for US federal agencies) or the authority's own.
    public var dueDate: String
    /// `Known` or `Unknown`.
    public var knownRansomwareCampaignUse: String
    public var notes: String
    public var cwes: [String]
    public var tlp: TLP
    /// The catalogue version it was last imported from (empty for the authority's own entries).
    public var catalogVersion: String
    public var updatedAt: Date
    public var updatedBy: String
    public var removal: Removal?

    public struct Removal: Sendable, Equatable {
        /// `YYYY-MM-DD`.
        public var date: String
        public var reason: String
        public var by: String
        /// Recorded by an import because CISA's catalogue no longer listed the entry (lifted if a
        /// later catalogue lists it again), rather than decided by the authority.
        public var byImport: Bool

        public init(date: String, reason: String, by: String, byImport: Bool = false) {
            self.date = date
            self.reason = reason
            self.by = by
            self.byImport = byImport
        }
    }

    public init(
        cveID: String, source: Source, vendorProject: String, product: String, vulnerabilityName: String, dateAdded: String, shortDescription: String,
        requiredAction: String, dueDate: String, knownRansomwareCampaignUse: String, notes: String, cwes: [String], tlp: TLP, catalogVersion: String,
        updatedAt: Date, updatedBy: String, removal: Removal? = nil
    ) {
        self.cveID = cveID
        self.source = source
        self.vendorProject = vendorProject
        self.product = product
        self.vulnerabilityName = vulnerabilityName
        self.dateAdded = dateAdded
        self.shortDescription = shortDescription
        self.requiredAction = requiredAction
        self.dueDate = dueDate
        self.knownRansomwareCampaignUse = knownRansomwareCampaignUse
        self.notes = notes
        self.cwes = cwes
        self.tlp = tlp
        self.catalogVersion = catalogVersion
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
        self.removal = removal
    }
}

/// A due-date rule: days after an entry's addition (or a fixed date, for one entry) for the
/// organisations of a sector or of a criticality class.
public struct KEVDeadline: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable {
        case sector
        case criticality
    }

    /// Empty for every entry of the catalogue.
    public var cveID: String
    public var scope: Scope
    /// The sector's id or the criticality class's name.
    public var scopeValue: String
    public var days: Int?
    /// `YYYY-MM-DD`, for one entry.
    public var dueDate: String?
    public var setBy: String
    public var setAt: Date

    public init(cveID: String, scope: Scope, scopeValue: String, days: Int?, dueDate: String?, setBy: String, setAt: Date) {
        self.cveID = cveID
        self.scope = scope
        self.scopeValue = scopeValue
        self.days = days
        self.dueDate = dueDate
        self.setBy = setBy
        self.setAt = setAt
    }
}

extension SQLStore {
    /// Writes the entries in one transaction: new ones added, known ones replaced; an entry's
    /// removal is written only for those named in `withRemoval` (new entries always).
    public func saveKEVEntries(_ entries: [KEVRecord], withRemoval reinstate: Set<String> = []) async throws {
        guard !entries.isEmpty else { return }
        let statements = entries.map { entry in
            SQLStatement(
                """
                INSERT INTO kev_entries (cve, source, vendor_project, product, vulnerability_name, date_added, short_description, required_action,
                    due_date, ransomware, notes, cwes, tlp, catalog_version, updated_at, updated_by, removed_on, removal_reason, removed_by,
                    removed_by_import)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (cve) DO UPDATE SET source = excluded.source, vendor_project = excluded.vendor_project, product = excluded.product,
                    vulnerability_name = excluded.vulnerability_name, date_added = excluded.date_added, short_description = excluded.short_description,
                    required_action = excluded.required_action, due_date = excluded.due_date, ransomware = excluded.ransomware, notes = excluded.notes,
                    cwes = excluded.cwes, tlp = excluded.tlp, catalog_version = excluded.catalog_version, updated_at = excluded.updated_at,
                    updated_by = excluded.updated_by,
                    removed_on = CASE WHEN ? = 1 THEN excluded.removed_on ELSE kev_entries.removed_on END,
                    removal_reason = CASE WHEN ? = 1 THEN excluded.removal_reason ELSE kev_entries.removal_reason END,
                    removed_by = CASE WHEN ? = 1 THEN excluded.removed_by ELSE kev_entries.removed_by END,
                    removed_by_import = CASE WHEN ? = 1 THEN excluded.removed_by_import ELSE kev_entries.removed_by_import END
                """,
                [
                    .text(entry.cveID), .text(entry.source.rawValue), .text(entry.vendorProject), .text(entry.product), .text(entry.vulnerabilityName),
                    .text(entry.dateAdded), .text(entry.shortDescription), .text(entry.requiredAction), .text(entry.dueDate),
                    .text(entry.knownRansomwareCampaignUse), .text(entry.notes), .text(entry.cwes.joined(separator: ",")), .text(entry.tlp.rawValue),
                    .text(entry.catalogVersion), SQLValue(entry.updatedAt), .text(entry.updatedBy), SQLValue(entry.removal?.date),
                    SQLValue(entry.removal?.reason), SQLValue(entry.removal?.by), entry.removal.map { SQLValue($0.byImport) } ?? .null,
                    SQLValue(reinstate.contains(entry.cveID)), SQLValue(reinstate.contains(entry.cveID)), SQLValue(reinstate.contains(entry.cveID)),
                    SQLValue(reinstate.contains(entry.cveID)),
                ])
        }
        // Thousands of entries: written in transactions of 500 statements would lose atomicity;
        // one batch keeps an import all or nothing.
        try await database.batch(statements)
    }

    /// Marks an entry removed; false if it is not in the catalogue or already removed.
    public func removeKEVEntry(_ cve: String, _ removal: KEVRecord.Removal, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            """
            UPDATE kev_entries SET removed_on = ?, removal_reason = ?, removed_by = ?, removed_by_import = ?, updated_at = ?
            WHERE cve = ? AND removed_on IS NULL RETURNING cve
            """,
            [.text(removal.date), .text(removal.reason), .text(removal.by), SQLValue(removal.byImport), SQLValue(time), .text(cve)])).isEmpty
    }

    public func kevEntries() async throws -> [KEVRecord] {
        try await database.query("SELECT * FROM kev_entries ORDER BY date_added, cve").map(Self.kevRecord)
    }

    public func kevEntry(_ cve: String) async throws -> KEVRecord? {
        try await database.query("SELECT * FROM kev_entries WHERE cve = ?", .text(cve)).first.map(Self.kevRecord)
    }

    static func kevRecord(_ row: SQLRow) throws -> KEVRecord {
        guard let source = KEVRecord.Source(rawValue: try row.string("source")), let tlp = TLP(rawValue: try row.string("tlp")) else {
            throw StoreError(.corruptRow, "a catalogue entry's source or marking cannot be read")
        }
        let cwes = try row.string("cwes")
        var removal: KEVRecord.Removal?
        if let date = row.optionalString("removed_on") {
            removal = KEVRecord.Removal(
                date: date, reason: row.optionalString("removal_reason") ?? "", by: row.optionalString("removed_by") ?? "",
                byImport: (row.optionalInt("removed_by_import") ?? 0) != 0)
        }
        return KEVRecord(
            cveID: try row.string("cve"), source: source, vendorProject: try row.string("vendor_project"), product: try row.string("product"),
            vulnerabilityName: try row.string("vulnerability_name"), dateAdded: try row.string("date_added"),
            shortDescription: try row.string("short_description"), requiredAction: try row.string("required_action"), dueDate: try row.string("due_date"),
            knownRansomwareCampaignUse: try row.string("ransomware"), notes: try row.string("notes"),
            cwes: cwes.isEmpty ? [] : cwes.split(separator: ",").map(String.init), tlp: tlp, catalogVersion: try row.string("catalog_version"),
            updatedAt: try row.date("updated_at"), updatedBy: try row.string("updated_by"), removal: removal)
    }

    // MARK: due dates

    public func setKEVDeadline(_ deadline: KEVDeadline) async throws {
        try await database.execute(
            """
            INSERT INTO kev_deadlines (cve, scope, scope_value, days, due_date, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (cve, scope, scope_value) DO UPDATE SET days = excluded.days, due_date = excluded.due_date, set_by = excluded.set_by,
                set_at = excluded.set_at
            """,
            .text(deadline.cveID), .text(deadline.scope.rawValue), .text(deadline.scopeValue), SQLValue(deadline.days.map(Int64.init)),
            SQLValue(deadline.dueDate), .text(deadline.setBy), SQLValue(deadline.setAt))
    }

    public func clearKEVDeadline(cve: String, scope: KEVDeadline.Scope, value: String) async throws -> Bool {
        !(try await database.writeReturning(
            "DELETE FROM kev_deadlines WHERE cve = ? AND scope = ? AND scope_value = ? RETURNING cve", [.text(cve), .text(scope.rawValue), .text(value)]))
            .isEmpty
    }

    public func kevDeadlines() async throws -> [KEVDeadline] {
        try await database.query("SELECT * FROM kev_deadlines ORDER BY cve, scope, scope_value").map { row in
            guard let scope = KEVDeadline.Scope(rawValue: try row.string("scope")) else {
                throw StoreError(.corruptRow, "a due-date rule's scope cannot be read")
            }
            return KEVDeadline(
                cveID: try row.string("cve"), scope: scope, scopeValue: try row.string("scope_value"), days: row.optionalInt("days").map(Int.init),
                dueDate: row.optionalString("due_date"), setBy: try row.string("set_by"), setAt: try row.date("set_at"))
        }
    }
}
