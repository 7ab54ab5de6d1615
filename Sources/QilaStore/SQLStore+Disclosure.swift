public import Foundation
public import QilaCore

/// A vulnerability a researcher reported on the public pages, waiting for the authority.
public struct VulnerabilityReport: Sendable, Equatable, Identifiable {
    public enum Status: String, Sendable, CaseIterable {
        case new
        /// A coordination case was opened for it.
        case opened
        /// Not taken up (out of scope, a duplicate, not a vulnerability), with a note saying why.
        case declined
    }

    /// The researcher's name and e-mail address, sealed as JSON.
    public struct Contact: Sendable, Codable, Equatable {
        public var name: String
        public var email: String
        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    public var id: String
    /// `VR-…`: what the researcher is told to quote.
    public var reference: String
    public var vendor: String
    public var product: String
    public var version: String
    public var description: String
    /// How the researcher wants to be credited in the advisory; empty for not at all.
    public var credit: String
    /// Name and e-mail address, sealed with the installation's key.
    public var sealedContact: [UInt8]?
    public var language: String
    public var createdAt: Date
    public var status: Status
    public var caseID: String?
    public var decidedBy: UserID?
    public var decidedAt: Date?
    public var note: String

    public init(
        id: String = UUID().uuidString.lowercased(), reference: String, vendor: String, product: String, version: String, description: String, credit: String,
        sealedContact: [UInt8]?, language: String, createdAt: Date, status: Status = .new, caseID: String? = nil, decidedBy: UserID? = nil,
        decidedAt: Date? = nil, note: String = ""
    ) {
        self.id = id
        self.reference = reference
        self.vendor = vendor
        self.product = product
        self.version = version
        self.description = description
        self.credit = credit
        self.sealedContact = sealedContact
        self.language = language
        self.createdAt = createdAt
        self.status = status
        self.caseID = caseID
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.note = note
    }
}

/// A coordinated disclosure case: the vulnerability, the embargo, the advisory that will publish it.
public struct DisclosureCase: Sendable, Equatable, Identifiable {
    public enum Status: String, Sendable, CaseIterable {
        /// Being coordinated with its vendors, under embargo.
        case open
        /// Its advisory was published.
        case published
        /// Ended without an advisory (rejected, duplicate, vendors disagree), with the reason in the audit log.
        case closed
    }

    public var id: String
    /// `CVD-2026-0001`.
    public var trackingID: String
    public var title: String
    /// Markdown: what the vulnerability is, for the vendors.
    public var summary: String
    public var status: Status
    /// The instant the embargo ends; nil while none is agreed.
    public var embargoAt: Date?
    /// The IANA time zone the embargo was agreed in (`Asia/Karachi`), which pages name beside UTC.
    public var embargoZone: String?
    public var reportID: String?
    public var advisoryID: String?
    /// Who approved publishing the advisory when the embargo ends (not who sent it for review).
    public var releaseBy: String?
    public var releaseSummary: String?
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, trackingID: String, title: String, summary: String, status: Status, embargoAt: Date?, embargoZone: String?, reportID: String?,
        advisoryID: String?, releaseBy: String?, releaseSummary: String?, createdBy: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.trackingID = trackingID
        self.title = title
        self.summary = summary
        self.status = status
        self.embargoAt = embargoAt
        self.embargoZone = embargoZone
        self.reportID = reportID
        self.advisoryID = advisoryID
        self.releaseBy = releaseBy
        self.releaseSummary = releaseSummary
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One vendor in a case: where it stands and what it says, for the advisory.
public struct DisclosureVendor: Sendable, Equatable {
    /// The statuses CERT/CC's coordination practice uses, with the steps before them.
    public enum Status: String, Sendable, CaseIterable {
        case notified
        case acknowledged
        case investigating
        case affected
        /// Affected, and a fix or mitigation is ready for publication.
        case fixReady = "fix-ready"
        case notAffected = "not-affected"
        /// Did not answer.
        case unresponsive

        public var title: String {
            switch self {
            case .notified: "Notified"
            case .acknowledged: "Acknowledged"
            case .investigating: "Investigating"
            case .affected: "Affected"
            case .fixReady: "Affected, fix ready"
            case .notAffected: "Not affected"
            case .unresponsive: "Unresponsive"
            }
        }
    }

    public var caseID: String
    public var organisation: OrganisationID
    public var organisationName: String
    public var status: Status
    /// What the vendor says, quoted in the advisory.
    public var statement: String
    public var embargoAgreed: Bool
    public var addedAt: Date
    public var updatedBy: String
    public var updatedAt: Date

    public init(
        caseID: String, organisation: OrganisationID, organisationName: String, status: Status, statement: String, embargoAgreed: Bool, addedAt: Date,
        updatedBy: String, updatedAt: Date
    ) {
        self.caseID = caseID
        self.organisation = organisation
        self.organisationName = organisationName
        self.status = status
        self.statement = statement
        self.embargoAgreed = embargoAgreed
        self.addedAt = addedAt
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

extension SQLStore {
    // MARK: researchers' reports

    public func addVulnerabilityReport(_ report: VulnerabilityReport) async throws {
        try await database.execute(
            """
            INSERT INTO vulnerability_reports (id, reference, vendor, product, version, description, credit, sealed_contact, language, created_at, status, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(report.id), .text(report.reference), .text(report.vendor), .text(report.product), .text(report.version), .text(report.description),
            .text(report.credit), SQLValue(report.sealedContact), .text(report.language), SQLValue(report.createdAt),
            .text(report.status.rawValue), .text(report.note))
    }

    /// Records what became of a new report, once: false when it was already decided.
    public func decideVulnerabilityReport(id: String, status: VulnerabilityReport.Status, caseID: String?, by user: UserID, at time: Date, note: String)
        async throws -> Bool
    {
        let rows = try await database.writeReturning(
            "UPDATE vulnerability_reports SET status = ?, case_id = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND status = 'new' RETURNING id",
            [.text(status.rawValue), SQLValue(caseID), .text(user.description), SQLValue(time), .text(note), .text(id)])
        return !rows.isEmpty
    }

    public func vulnerabilityReports(status: VulnerabilityReport.Status?, limit: Int = 500) async throws -> [VulnerabilityReport] {
        let rows: [SQLRow]
        if let status {
            rows = try await database.query(
                "SELECT * FROM vulnerability_reports WHERE status = ? ORDER BY created_at DESC, id LIMIT ?", .text(status.rawValue), SQLValue(limit))
        } else {
            rows = try await database.query("SELECT * FROM vulnerability_reports ORDER BY created_at DESC, id LIMIT ?", SQLValue(limit))
        }
        return try rows.map(Self.vulnerabilityReport)
    }

    public func vulnerabilityReport(id: String) async throws -> VulnerabilityReport? {
        try await database.query("SELECT * FROM vulnerability_reports WHERE id = ? OR reference = ?", .text(id), .text(id)).first.map(Self.vulnerabilityReport)
    }

    static func vulnerabilityReport(_ row: SQLRow) throws -> VulnerabilityReport {
        guard let status = VulnerabilityReport.Status(rawValue: try row.string("status")) else {
            throw StoreError(.corruptRow, "a vulnerability report's status cannot be read")
        }
        return VulnerabilityReport(
            id: try row.string("id"), reference: try row.string("reference"), vendor: try row.string("vendor"), product: try row.string("product"),
            version: try row.string("version"), description: try row.string("description"), credit: try row.string("credit"),
            sealedContact: row.optionalBytes("sealed_contact"), language: try row.string("language"), createdAt: try row.date("created_at"), status: status,
            caseID: row.optionalString("case_id"), decidedBy: row.optionalString("decided_by").flatMap(UserID.init), decidedAt: row.optionalDate("decided_at"),
            note: try row.string("note"))
    }

    // MARK: cases

    /// Opens a case under the next tracking number of its year; nil when another node took that
    /// number first (the caller tries again).
    public func createDisclosureCase(id: String, prefix: String, year: Int, title: String, summary: String, embargoAt: Date?, embargoZone: String?,
        reportID: String?, by user: String, at time: Date) async throws -> DisclosureCase?
    {
        let next = try await database.query("SELECT COALESCE(MAX(sequence), 0) + 1 AS next FROM disclosure_cases WHERE year = ?", .integer(Int64(year)))
            .first?.int("next") ?? 1
        let tracking = "\(prefix)-\(year)-\(CivilDay.pad(Int(next), 4))"
        do {
            try await database.execute(
                """
                INSERT INTO disclosure_cases (id, tracking_id, year, sequence, title, summary, status, embargo_at, embargo_zone, report_id, created_by,
                    created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)
                """,
                .text(id), .text(tracking), .integer(Int64(year)), .integer(next), .text(title), .text(summary), SQLValue(embargoAt), SQLValue(embargoZone),
                SQLValue(reportID), .text(user), SQLValue(time), SQLValue(time))
        } catch {
            if try await database.query("SELECT id FROM disclosure_cases WHERE year = ? AND sequence = ?", .integer(Int64(year)), .integer(next)).isEmpty {
                throw error
            }
            return nil
        }
        return try await disclosureCase(id)
    }

    public func disclosureCase(_ id: String) async throws -> DisclosureCase? {
        try await database.query("SELECT * FROM disclosure_cases WHERE id = ? OR tracking_id = ?", .text(id), .text(id)).first.map(Self.disclosureCase)
    }

    /// The case an advisory publishes, if any.
    public func disclosureCase(advisoryID: String) async throws -> DisclosureCase? {
        try await database.query("SELECT * FROM disclosure_cases WHERE advisory_id = ?", .text(advisoryID)).first.map(Self.disclosureCase)
    }

    /// Every case, newest first, or only those with `organisation` among their vendors; with how many vendors each has.
    public func disclosureCases(vendor organisation: OrganisationID? = nil) async throws -> [(record: DisclosureCase, vendors: Int)] {
        let rows: [SQLRow]
        let counted = "(SELECT COUNT(*) FROM disclosure_vendors v WHERE v.case_id = c.id) AS vendor_count"
        if let organisation {
            rows = try await database.query(
                """
                SELECT c.*, \(counted) FROM disclosure_cases c
                WHERE c.id IN (SELECT case_id FROM disclosure_vendors WHERE organisation = ?) ORDER BY c.created_at DESC, c.id
                """, .text(organisation.description))
        } else {
            rows = try await database.query("SELECT c.*, \(counted) FROM disclosure_cases c ORDER BY c.created_at DESC, c.id")
        }
        return try rows.map { (try Self.disclosureCase($0), Int(try $0.int("vendor_count"))) }
    }

    /// Open cases whose release was approved and whose embargo has ended by `now`.
    public func disclosureCasesDueForRelease(at now: Date) async throws -> [DisclosureCase] {
        try await database.query(
            """
            SELECT * FROM disclosure_cases WHERE status = 'open' AND release_by IS NOT NULL AND advisory_id IS NOT NULL
                AND embargo_at IS NOT NULL AND embargo_at <= ? ORDER BY embargo_at, id
            """, SQLValue(now)
        ).map(Self.disclosureCase)
    }

    /// Writes the case's changeable parts if nobody changed it since `expecting` was read.
    public func updateDisclosureCase(_ record: DisclosureCase, expecting: Date) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            UPDATE disclosure_cases SET title = ?, summary = ?, status = ?, embargo_at = ?, embargo_zone = ?, advisory_id = ?, release_by = ?,
                release_summary = ?, updated_at = ?
            WHERE id = ? AND updated_at = ? RETURNING id
            """,
            [
                .text(record.title), .text(record.summary), .text(record.status.rawValue), SQLValue(record.embargoAt), SQLValue(record.embargoZone),
                SQLValue(record.advisoryID), SQLValue(record.releaseBy), SQLValue(record.releaseSummary), SQLValue(record.updatedAt), .text(record.id),
                SQLValue(expecting),
            ])
        return !rows.isEmpty
    }

    static func disclosureCase(_ row: SQLRow) throws -> DisclosureCase {
        guard let status = DisclosureCase.Status(rawValue: try row.string("status")) else { throw StoreError(.corruptRow, "a disclosure case's status cannot be read") }
        return DisclosureCase(
            id: try row.string("id"), trackingID: try row.string("tracking_id"), title: try row.string("title"), summary: try row.string("summary"),
            status: status, embargoAt: row.optionalDate("embargo_at"), embargoZone: row.optionalString("embargo_zone"), reportID: row.optionalString("report_id"),
            advisoryID: row.optionalString("advisory_id"), releaseBy: row.optionalString("release_by"), releaseSummary: row.optionalString("release_summary"),
            createdBy: try row.string("created_by"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    // MARK: vendors

    /// Adds a vendor to a case; false when it is already there.
    public func addDisclosureVendor(caseID: String, organisation: OrganisationID, by user: String, at time: Date) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            INSERT INTO disclosure_vendors (case_id, organisation, status, statement, embargo_agreed, added_at, updated_by, updated_at)
            VALUES (?, ?, 'notified', '', 0, ?, ?, ?) ON CONFLICT (case_id, organisation) DO NOTHING RETURNING case_id
            """,
            [.text(caseID), .text(organisation.description), SQLValue(time), .text(user), SQLValue(time)])
        return !rows.isEmpty
    }

    public func updateDisclosureVendor(_ vendor: DisclosureVendor) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            UPDATE disclosure_vendors SET status = ?, statement = ?, embargo_agreed = ?, updated_by = ?, updated_at = ?
            WHERE case_id = ? AND organisation = ? RETURNING case_id
            """,
            [
                .text(vendor.status.rawValue), .text(vendor.statement), .integer(vendor.embargoAgreed ? 1 : 0), .text(vendor.updatedBy),
                SQLValue(vendor.updatedAt), .text(vendor.caseID), .text(vendor.organisation.description),
            ])
        return !rows.isEmpty
    }

    /// A changed embargo needs every vendor's agreement again.
    public func clearDisclosureAgreements(caseID: String) async throws {
        try await database.execute("UPDATE disclosure_vendors SET embargo_agreed = 0 WHERE case_id = ?", .text(caseID))
    }

    /// A case's vendors with their organisations' names, in name order: one query, whatever their number.
    public func disclosureVendors(caseID: String) async throws -> [DisclosureVendor] {
        try await database.query(
            """
            SELECT v.*, o.name AS organisation_name FROM disclosure_vendors v JOIN organisations o ON o.id = v.organisation
            WHERE v.case_id = ? ORDER BY o.name, v.organisation
            """, .text(caseID)
        ).map { row in
            guard let organisation = OrganisationID(try row.string("organisation")), let status = DisclosureVendor.Status(rawValue: try row.string("status")) else {
                throw StoreError(.corruptRow, "a disclosure vendor cannot be read")
            }
            return DisclosureVendor(
                caseID: try row.string("case_id"), organisation: organisation, organisationName: try row.string("organisation_name"), status: status,
                statement: try row.string("statement"), embargoAgreed: try row.bool("embargo_agreed"), addedAt: try row.date("added_at"),
                updatedBy: try row.string("updated_by"), updatedAt: try row.date("updated_at"))
        }
    }
}
