public import Foundation
public import QilaCore

/// A guide or an alert the authority published on the public pages, in English and, where it
/// wrote one, Urdu (empty when it did not).
public struct PublicPublication: Sendable, Equatable, Identifiable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Lasting advice for citizens and small organisations.
        case guide
        /// A warning about a current threat (a TLP:CLEAR alert).
        case alert
    }

    public var id: String
    public var kind: Kind
    /// The last part of its address: `/public/guides/<slug>`.
    public var slug: String
    public var title: String
    public var titleUrdu: String
    /// Markdown.
    public var body: String
    public var bodyUrdu: String
    public var publishedAt: Date
    public var publishedBy: UserID
    public var updatedAt: Date
    public var withdrawnAt: Date?

    public init(
        id: String = UUID().uuidString.lowercased(), kind: Kind, slug: String, title: String, titleUrdu: String, body: String, bodyUrdu: String,
        publishedAt: Date, publishedBy: UserID, updatedAt: Date, withdrawnAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.slug = slug
        self.title = title
        self.titleUrdu = titleUrdu
        self.body = body
        self.bodyUrdu = bodyUrdu
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        self.updatedAt = updatedAt
        self.withdrawnAt = withdrawnAt
    }
}

/// What the portal keeps of a citizen's complaint beside the agency's case: how the citizen finds
/// it again, and how to reach them (sealed).
public struct PublicComplaintRecord: Sendable, Equatable {
    public var id: String
    public var tracking: String
    /// SHA-256 of the secret given to the citizen, hexadecimal.
    public var secretHash: String
    public var category: String
    public var caseID: CaseID
    /// The contact details, sealed under the installation's sealing key; nil when none were given.
    public var sealedContact: [UInt8]?
    /// The language the complaint was filed in (en or ur).
    public var language: String
    public var createdAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), tracking: String, secretHash: String, category: String, caseID: CaseID, sealedContact: [UInt8]?,
        language: String, createdAt: Date
    ) {
        self.id = id
        self.tracking = tracking
        self.secretHash = secretHash
        self.category = category
        self.caseID = caseID
        self.sealedContact = sealedContact
        self.language = language
        self.createdAt = createdAt
    }
}

/// A suspicious message or website reported by a member of the public, waiting for an analyst.
public struct SuspiciousReport: Sendable, Equatable, Identifiable {
    public enum Kind: String, Sendable, CaseIterable {
        case message
        case website
    }

    public enum Status: String, Sendable, CaseIterable {
        case new
        /// An analyst found it malicious; its indicators went to the intelligence collections.
        case confirmed
        /// Not malicious, or not enough to act on.
        case dismissed
    }

    public var id: String
    public var reference: String
    public var kind: Kind
    public var url: String
    public var sender: String
    public var headers: String
    public var description: String
    public var language: String
    public var createdAt: Date
    public var status: Status
    public var decidedBy: UserID?
    public var decidedAt: Date?
    public var note: String
    /// The STIX indicator shared when it was confirmed.
    public var intelObject: String?

    public init(
        id: String = UUID().uuidString.lowercased(), reference: String, kind: Kind, url: String, sender: String, headers: String, description: String,
        language: String, createdAt: Date, status: Status = .new, decidedBy: UserID? = nil, decidedAt: Date? = nil, note: String = "", intelObject: String? = nil
    ) {
        self.id = id
        self.reference = reference
        self.kind = kind
        self.url = url
        self.sender = sender
        self.headers = headers
        self.description = description
        self.language = language
        self.createdAt = createdAt
        self.status = status
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.note = note
        self.intelObject = intelObject
    }
}

extension SQLStore {
    // MARK: publications

    /// Stores a new publication; false when its slug is taken.
    public func publish(_ publication: PublicPublication) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            INSERT INTO public_publications (id, kind, slug, title, title_ur, body, body_ur, published_at, published_by, updated_at, withdrawn_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (slug) DO NOTHING RETURNING id
            """,
            [
                .text(publication.id), .text(publication.kind.rawValue), .text(publication.slug), .text(publication.title), .text(publication.titleUrdu),
                .text(publication.body), .text(publication.bodyUrdu), SQLValue(publication.publishedAt), .text(publication.publishedBy.description),
                SQLValue(publication.updatedAt),
            ])
        return !rows.isEmpty
    }

    public func updatePublication(_ publication: PublicPublication) async throws {
        try await database.execute(
            "UPDATE public_publications SET title = ?, title_ur = ?, body = ?, body_ur = ?, updated_at = ?, withdrawn_at = ? WHERE id = ?",
            .text(publication.title), .text(publication.titleUrdu), .text(publication.body), .text(publication.bodyUrdu),
            SQLValue(publication.updatedAt), SQLValue(publication.withdrawnAt), .text(publication.id))
    }

    /// Every publication, newest first; withdrawn ones only when asked for.
    public func publications(includingWithdrawn: Bool = false, limit: Int = 500) async throws -> [PublicPublication] {
        try await database.query(
            "SELECT * FROM public_publications\(includingWithdrawn ? "" : " WHERE withdrawn_at IS NULL") ORDER BY published_at DESC, id LIMIT ?",
            SQLValue(limit)
        ).map(Self.publication)
    }

    public func publication(slug: String) async throws -> PublicPublication? {
        try await database.query("SELECT * FROM public_publications WHERE slug = ?", .text(slug)).first.map(Self.publication)
    }

    public func publication(id: String) async throws -> PublicPublication? {
        try await database.query("SELECT * FROM public_publications WHERE id = ?", .text(id)).first.map(Self.publication)
    }

    static func publication(_ row: SQLRow) throws -> PublicPublication {
        guard let kind = PublicPublication.Kind(rawValue: try row.string("kind")), let author = UserID(try row.string("published_by")) else {
            throw StoreError(.corruptRow, "a publication's kind or author cannot be read")
        }
        return PublicPublication(
            id: try row.string("id"), kind: kind, slug: try row.string("slug"), title: try row.string("title"), titleUrdu: try row.string("title_ur"),
            body: try row.string("body"), bodyUrdu: try row.string("body_ur"), publishedAt: try row.date("published_at"), publishedBy: author,
            updatedAt: try row.date("updated_at"), withdrawnAt: row.optionalDate("withdrawn_at"))
    }

    // MARK: complaints

    public func addComplaint(_ complaint: PublicComplaintRecord) async throws {
        try await database.execute(
            """
            INSERT INTO public_complaints (id, tracking, secret_hash, category, case_id, sealed_contact, language, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(complaint.id), .text(complaint.tracking), .text(complaint.secretHash), .text(complaint.category), .text(complaint.caseID.description),
            complaint.sealedContact.map(SQLValue.blob) ?? .null, .text(complaint.language), SQLValue(complaint.createdAt))
    }

    public func complaint(tracking: String) async throws -> PublicComplaintRecord? {
        try await database.query("SELECT * FROM public_complaints WHERE tracking = ?", .text(tracking)).first.map(Self.complaint)
    }

    public func complaint(caseID: CaseID) async throws -> PublicComplaintRecord? {
        try await database.query("SELECT * FROM public_complaints WHERE case_id = ?", .text(caseID.description)).first.map(Self.complaint)
    }

    /// Complaints filed since `start`, by category: for published statistics.
    public func complaintCounts(since start: Date) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await database.query(
            "SELECT category, COUNT(*) AS n FROM public_complaints WHERE created_at >= ? GROUP BY category", SQLValue(start))
        {
            counts[try row.string("category")] = Int(try row.int("n"))
        }
        return counts
    }

    static func complaint(_ row: SQLRow) throws -> PublicComplaintRecord {
        guard let caseID = CaseID(try row.string("case_id")) else { throw StoreError(.corruptRow, "a complaint's case cannot be read") }
        return PublicComplaintRecord(
            id: try row.string("id"), tracking: try row.string("tracking"), secretHash: try row.string("secret_hash"), category: try row.string("category"),
            caseID: caseID, sealedContact: row.optionalBytes("sealed_contact"), language: try row.string("language"), createdAt: try row.date("created_at"))
    }

    // MARK: suspicious messages and websites

    public func addSuspiciousReport(_ report: SuspiciousReport) async throws {
        try await database.execute(
            """
            INSERT INTO suspicious_reports (id, reference, kind, url, sender, headers, description, language, created_at, status, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(report.id), .text(report.reference), .text(report.kind.rawValue), .text(report.url), .text(report.sender), .text(report.headers),
            .text(report.description), .text(report.language), SQLValue(report.createdAt), .text(report.status.rawValue), .text(report.note))
    }

    /// Records an analyst's decision, once: false when the report was already decided.
    public func decideSuspiciousReport(id: String, status: SuspiciousReport.Status, by user: UserID, at time: Date, note: String, intelObject: String?) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            UPDATE suspicious_reports SET status = ?, decided_by = ?, decided_at = ?, note = ?, intel_object = ?
            WHERE id = ? AND status = 'new' RETURNING id
            """,
            [.text(status.rawValue), .text(user.description), SQLValue(time), .text(note), SQLValue(intelObject), .text(id)])
        return !rows.isEmpty
    }

    /// Reports in a status (all when nil), newest first.
    public func suspiciousReports(status: SuspiciousReport.Status?, limit: Int = 500) async throws -> [SuspiciousReport] {
        let rows: [SQLRow]
        if let status {
            rows = try await database.query(
                "SELECT * FROM suspicious_reports WHERE status = ? ORDER BY created_at DESC, id LIMIT ?", .text(status.rawValue), SQLValue(limit))
        } else {
            rows = try await database.query("SELECT * FROM suspicious_reports ORDER BY created_at DESC, id LIMIT ?", SQLValue(limit))
        }
        return try rows.map(Self.suspiciousReport)
    }

    /// Reports received since `start`, and how many of them were confirmed.
    public func suspiciousReportCounts(since start: Date) async throws -> (reported: Int, confirmed: Int) {
        let row = try await database.query(
            """
            SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0) AS confirmed
            FROM suspicious_reports WHERE created_at >= ?
            """, SQLValue(start)
        ).first
        return (Int(try row?.int("n") ?? 0), Int(try row?.int("confirmed") ?? 0))
    }

    public func suspiciousReport(id: String) async throws -> SuspiciousReport? {
        try await database.query("SELECT * FROM suspicious_reports WHERE id = ?", .text(id)).first.map(Self.suspiciousReport)
    }

    static func suspiciousReport(_ row: SQLRow) throws -> SuspiciousReport {
        guard let kind = SuspiciousReport.Kind(rawValue: try row.string("kind")), let status = SuspiciousReport.Status(rawValue: try row.string("status")) else {
            throw StoreError(.corruptRow, "a suspicious report's kind or status cannot be read")
        }
        return SuspiciousReport(
            id: try row.string("id"), reference: try row.string("reference"), kind: kind, url: try row.string("url"), sender: try row.string("sender"),
            headers: try row.string("headers"), description: try row.string("description"), language: try row.string("language"),
            createdAt: try row.date("created_at"), status: status, decidedBy: row.optionalString("decided_by").flatMap(UserID.init),
            decidedAt: row.optionalDate("decided_at"), note: try row.string("note"), intelObject: row.optionalString("intel_object"))
    }
}
