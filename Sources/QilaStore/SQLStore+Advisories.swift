public import Foundation
public import QilaCore

/// An advisory's working copy: the draft as typed, its state, and how many revisions are published.
public struct AdvisoryRecord: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Being written (or revised after publication, or returned by a reviewer).
        case draft
        /// Waiting for a second person to review and publish it.
        case review
        /// Published, with no revision being written.
        case published
    }

    public var id: String
    /// `QILA-2026-0001`: the CSAF tracking id, fixed when the advisory is begun.
    public var trackingID: String
    public var title: String
    public var tlp: TLP
    public var state: State
    /// The form as typed (an `AdvisoryInput` as JSON).
    public var draft: String
    public var createdBy: String
    public var createdAt: Date
    public var updatedBy: String
    public var updatedAt: Date
    public var submittedBy: String?
    public var submittedAt: Date?
    /// What the reviewer said when returning it.
    public var reviewNote: String?
    /// The number of published revisions (0 until the first).
    public var publishedVersion: Int
}

/// One published revision, never changed once written.
public struct AdvisoryRevision: Sendable, Equatable {
    public var advisoryID: String
    public var number: Int
    public var title: String
    public var tlp: TLP
    /// The organisations that may read it (TLP:AMBER and RED), resolved when it was published; empty otherwise.
    public var audience: [String]
    /// The checked content (an `AdvisoryContent` as JSON).
    public var content: String
    /// What changed, as the revision history says.
    public var summary: String
    /// Its place under `/.well-known/csaf/`.
    public var path: String
    /// The CSAF document's exact bytes.
    public var document: [UInt8]
    public var sha256: String
    public var sha512: String
    /// The detached OpenPGP signature, armoured.
    public var signature: String
    public var publishedBy: String
    public var reviewedBy: String
    public var publishedAt: Date

    public init(
        advisoryID: String, number: Int, title: String, tlp: TLP, audience: [String], content: String, summary: String, path: String, document: [UInt8],
        sha256: String, sha512: String, signature: String, publishedBy: String, reviewedBy: String, publishedAt: Date
    ) {
        self.advisoryID = advisoryID
        self.number = number
        self.title = title
        self.tlp = tlp
        self.audience = audience
        self.content = content
        self.summary = summary
        self.path = path
        self.document = document
        self.sha256 = sha256
        self.sha512 = sha512
        self.signature = signature
        self.publishedBy = publishedBy
        self.reviewedBy = reviewedBy
        self.publishedAt = publishedAt
    }
}

extension SQLStore {
    /// Begins an advisory with the next tracking number of the year (`PREFIX-YEAR-NNNN`); nil when
    /// another node took the same number at the same moment (the caller tries again).
    public func createAdvisory(id: String, prefix: String, year: Int, title: String, tlp: TLP, draft: String, by user: String, at time: Date) async throws
        -> AdvisoryRecord?
    {
        let next = try await database.query("SELECT COALESCE(MAX(sequence), 0) + 1 AS next FROM advisories WHERE year = ?", .integer(Int64(year)))
            .first?.int("next") ?? 1
        let tracking = "\(prefix)-\(year)-\(CivilDay.pad(Int(next), 4))"
        do {
            try await database.execute(
                """
                INSERT INTO advisories (id, tracking_id, year, sequence, title, tlp, state, draft, created_by, created_at, updated_by, updated_at,
                    published_version)
                VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, 0)
                """,
                .text(id), .text(tracking), .integer(Int64(year)), .integer(next), .text(title), .text(tlp.rawValue), .text(draft), .text(user),
                SQLValue(time), .text(user), SQLValue(time))
        } catch {
            if try await database.query("SELECT id FROM advisories WHERE year = ? AND sequence = ?", .integer(Int64(year)), .integer(next)).isEmpty {
                throw error
            }
            return nil
        }
        return try await advisory(id)
    }

    public func advisory(_ id: String) async throws -> AdvisoryRecord? {
        try await database.query("SELECT * FROM advisories WHERE id = ?", .text(id)).first.map(Self.advisoryRecord)
    }

    public func advisory(trackingID: String) async throws -> AdvisoryRecord? {
        try await database.query("SELECT * FROM advisories WHERE tracking_id = ?", .text(trackingID)).first.map(Self.advisoryRecord)
    }

    /// Every advisory, newest first.
    public func advisories() async throws -> [AdvisoryRecord] {
        try await database.query("SELECT * FROM advisories ORDER BY year DESC, sequence DESC").map(Self.advisoryRecord)
    }

    /// Saves the working copy if it is still in the state the caller read (false if another request changed it first).
    public func updateAdvisory(_ record: AdvisoryRecord, expecting state: AdvisoryRecord.State, expectingUpdate: Date) async throws -> Bool {
        !(try await database.writeReturning(
            """
            UPDATE advisories SET title = ?, tlp = ?, state = ?, draft = ?, updated_by = ?, updated_at = ?, submitted_by = ?, submitted_at = ?,
                review_note = ?, published_version = ?
            WHERE id = ? AND state = ? AND updated_at = ? RETURNING id
            """,
            [
                .text(record.title), .text(record.tlp.rawValue), .text(record.state.rawValue), .text(record.draft), .text(record.updatedBy),
                SQLValue(record.updatedAt), SQLValue(record.submittedBy), SQLValue(record.submittedAt), SQLValue(record.reviewNote),
                .integer(Int64(record.publishedVersion)), .text(record.id), .text(state.rawValue), SQLValue(expectingUpdate),
            ])).isEmpty
    }

    /// Publishes a revision and moves the working copy on, in one transaction, if the working copy is
    /// still the one under review that the caller read; false (nothing written) if it changed meanwhile.
    public func publishAdvisoryRevision(_ revision: AdvisoryRevision, record: AdvisoryRecord, expectingUpdate: Date) async throws -> Bool {
        let unchanged = "EXISTS (SELECT 1 FROM advisories WHERE id = ? AND state = 'review' AND updated_at = ? AND published_version = ?)"
        let condition: [SQLValue] = [.text(record.id), SQLValue(expectingUpdate), .integer(Int64(revision.number - 1))]
        try await database.batch([
            SQLStatement(
                """
                INSERT INTO advisory_revisions (advisory_id, number, title, tlp, audience, content, summary, path, document, sha256, sha512, signature,
                    published_by, reviewed_by, published_at)
                SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE \(unchanged)
                """,
                [
                    .text(revision.advisoryID), .integer(Int64(revision.number)), .text(revision.title), .text(revision.tlp.rawValue),
                    .text(revision.audience.joined(separator: ",")), .text(revision.content), .text(revision.summary), .text(revision.path),
                    .blob(revision.document), .text(revision.sha256), .text(revision.sha512), .text(revision.signature), .text(revision.publishedBy),
                    .text(revision.reviewedBy), SQLValue(revision.publishedAt),
                ] + condition),
            SQLStatement(
                """
                UPDATE advisories SET state = 'published', published_version = ?, updated_by = ?, updated_at = ?, submitted_by = NULL,
                    submitted_at = NULL, review_note = NULL
                WHERE id = ? AND state = 'review' AND updated_at = ? AND published_version = ?
                """,
                [.integer(Int64(revision.number)), .text(record.updatedBy), SQLValue(record.updatedAt)] + condition),
        ])
        guard let now = try await advisory(record.id) else { return false }
        return now.state == .published && now.publishedVersion == revision.number && now.updatedAt == record.updatedAt
            && now.updatedBy == record.updatedBy
    }

    /// The revisions of one advisory, oldest first.
    public func advisoryRevisions(_ id: String) async throws -> [AdvisoryRevision] {
        try await database.query("SELECT * FROM advisory_revisions WHERE advisory_id = ? ORDER BY number", .text(id)).map(Self.advisoryRevision)
    }

    /// The latest revision of every published advisory, newest publication first.
    public func latestAdvisoryRevisions() async throws -> [AdvisoryRevision] {
        try await database.query(
            """
            SELECT r.* FROM advisory_revisions r JOIN advisories a ON a.id = r.advisory_id AND r.number = a.published_version
            ORDER BY r.published_at DESC, r.advisory_id
            """
        ).map(Self.advisoryRevision)
    }

    /// Every published revision, newest first: what `changes.csv` lists.
    public func allAdvisoryRevisions() async throws -> [AdvisoryRevision] {
        try await database.query("SELECT * FROM advisory_revisions ORDER BY published_at DESC, advisory_id, number DESC").map(Self.advisoryRevision)
    }

    /// A setting written once by whichever node comes first; every node reads the same value after.
    public func settingOnce(_ key: String, _ value: String) async throws -> String {
        try await database.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", .text(key), .text(value))
        return try await setting(key) ?? value
    }

    static func advisoryRecord(_ row: SQLRow) throws -> AdvisoryRecord {
        guard let tlp = TLP(rawValue: try row.string("tlp")), let state = AdvisoryRecord.State(rawValue: try row.string("state")) else {
            throw StoreError(.corruptRow, "an advisory's marking or state cannot be read")
        }
        return AdvisoryRecord(
            id: try row.string("id"), trackingID: try row.string("tracking_id"), title: try row.string("title"), tlp: tlp, state: state,
            draft: try row.string("draft"), createdBy: try row.string("created_by"), createdAt: try row.date("created_at"),
            updatedBy: try row.string("updated_by"), updatedAt: try row.date("updated_at"), submittedBy: row.optionalString("submitted_by"),
            submittedAt: row.optionalDate("submitted_at"), reviewNote: row.optionalString("review_note"),
            publishedVersion: Int(try row.int("published_version")))
    }

    static func advisoryRevision(_ row: SQLRow) throws -> AdvisoryRevision {
        guard let tlp = TLP(rawValue: try row.string("tlp")) else { throw StoreError(.corruptRow, "an advisory revision's marking cannot be read") }
        let audience = try row.string("audience")
        return AdvisoryRevision(
            advisoryID: try row.string("advisory_id"), number: Int(try row.int("number")), title: try row.string("title"), tlp: tlp,
            audience: audience.isEmpty ? [] : audience.split(separator: ",").map(String.init), content: try row.string("content"),
            summary: try row.string("summary"), path: try row.string("path"), document: row.optionalBytes("document") ?? [],
            sha256: try row.string("sha256"), sha512: try row.string("sha512"), signature: try row.string("signature"),
            publishedBy: try row.string("published_by"), reviewedBy: try row.string("reviewed_by"), publishedAt: try row.date("published_at"))
    }
}
