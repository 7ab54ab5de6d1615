public import Foundation
public import QilaCore

/// A report that an indicator was seen (or was a false positive, or has expired), counted per
/// organisation, kind, source and day.
public struct IntelSighting: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case seen
        case falsePositive = "false-positive"
        case expired
    }

    /// The indicator's STIX id.
    public var indicator: String
    public var organisation: OrganisationID
    public var kind: Kind
    /// `detection` (intake matched it), `page`, `api` or `taxii`.
    public var source: String
    public var count: Int
    public var firstSeen: Date
    public var lastSeen: Date
    /// Who reported it, for a report made by a person or a token.
    public var account: UserID?
    public var note: String?

    public init(
        indicator: String, organisation: OrganisationID, kind: Kind, source: String, count: Int = 1, firstSeen: Date, lastSeen: Date,
        account: UserID? = nil, note: String? = nil
    ) {
        self.indicator = indicator
        self.organisation = organisation
        self.kind = kind
        self.source = source
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.account = account
        self.note = note
    }
}

/// An analyst's score for an indicator, in place of the computed one until removed.
public struct IntelScoreOverride: Sendable, Equatable {
    public var indicator: String
    public var score: Int
    public var reason: String
    public var account: UserID
    public var time: Date

    public init(indicator: String, score: Int, reason: String, account: UserID, time: Date) {
        self.indicator = indicator
        self.score = score
        self.reason = reason
        self.account = account
        self.time = time
    }
}

/// The last version of an indicator in a collection, with what decides who it may protect.
public struct IntelIndicatorRow: Sendable {
    public var collection: IntelCollectionRecord
    public var id: String
    public var version: Int64
    public var producer: OrganisationID
    public var tlp: Int
    public var revoked: Bool
    /// The organisations an AMBER version was shared with besides its producer.
    public var recipients: [OrganisationID]
    public var name: String?
    public var columns: IntelObjectRecord.IndicatorColumns?
}

extension SQLStore {
    static let indicatorsVersionKey = "intel.indicators.version"

    /// Changes whenever something that decides the active indicators changes (an object added
    /// or deleted, a sighting, an override): each node's intake reloads when it sees a new value.
    public func intelIndicatorsVersion() async throws -> String {
        try await database.query("SELECT value FROM settings WHERE key = ?", .text(Self.indicatorsVersionKey)).first.map { try $0.string("value") } ?? ""
    }

    /// A new value, never one seen before (so two nodes changing at once cannot cancel out).
    public func bumpIntelIndicatorsVersion() async throws {
        try await database.batch([Self.bumpIndicators()])
    }

    static func bumpIndicators() -> SQLStatement {
        SQLStatement(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [.text(indicatorsVersionKey), .text(UUID().uuidString)])
    }

    // MARK: sightings

    static func day(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// Adds sightings to the day's counts of the same indicator, organisation, kind and source.
    /// A report by a person (a false positive, an expiry) changes the active indicators at once;
    /// detection's own matches are taken up at the next rescoring instead.
    public func recordIntelSightings(_ sightings: [IntelSighting], changesDetection: Bool = true) async throws {
        guard !sightings.isEmpty else { return }
        try await database.batch(sightings.map(Self.sightingStatement) + (changesDetection ? [Self.bumpIndicators()] : []))
    }

    static func sightingStatement(_ sighting: IntelSighting) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO intel_sightings (indicator, organisation, kind, source, day, count, first_seen, last_seen, account, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (indicator, organisation, kind, source, day) DO UPDATE SET count = intel_sightings.count + excluded.count,
                first_seen = CASE WHEN excluded.first_seen < intel_sightings.first_seen THEN excluded.first_seen ELSE intel_sightings.first_seen END,
                last_seen = CASE WHEN excluded.last_seen > intel_sightings.last_seen THEN excluded.last_seen ELSE intel_sightings.last_seen END,
                account = COALESCE(excluded.account, intel_sightings.account), note = COALESCE(excluded.note, intel_sightings.note)
            """,
            [
                .text(sighting.indicator), .text(sighting.organisation.description), .text(sighting.kind.rawValue), .text(sighting.source),
                .integer(day(sighting.lastSeen)), SQLValue(sighting.count), SQLValue(sighting.firstSeen), SQLValue(sighting.lastSeen),
                SQLValue(sighting.account?.description), SQLValue(sighting.note),
            ])
    }

    /// Sightings of the given indicators (all indicators when nil), oldest first.
    public func intelSightings(of indicators: [String]? = nil) async throws -> [IntelSighting] {
        var rows: [SQLRow] = []
        if let indicators {
            for chunk in indicators.chunked(400) {
                rows += try await database.query(
                    "SELECT * FROM intel_sightings WHERE indicator IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", "))) ORDER BY first_seen",
                    chunk.map { .text($0) })
            }
        } else {
            rows = try await database.query("SELECT * FROM intel_sightings ORDER BY first_seen")
        }
        return try rows.map { row in
            guard let organisation = OrganisationID(try row.string("organisation")), let kind = IntelSighting.Kind(rawValue: try row.string("kind")) else {
                throw StoreError(.corruptRow, "a sighting names no organisation or an unknown kind")
            }
            return IntelSighting(
                indicator: try row.string("indicator"), organisation: organisation, kind: kind, source: try row.string("source"),
                count: Int(try row.int("count")), firstSeen: try row.date("first_seen"), lastSeen: try row.date("last_seen"),
                account: row.optionalString("account").flatMap(UserID.init), note: row.optionalString("note"))
        }
    }

    // MARK: overrides

    public func setIntelScoreOverride(_ override: IntelScoreOverride) async throws {
        try await database.batch([
            SQLStatement(
                """
                INSERT INTO intel_score_overrides (indicator, score, reason, account, time) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (indicator) DO UPDATE SET score = excluded.score, reason = excluded.reason, account = excluded.account, time = excluded.time
                """,
                [.text(override.indicator), SQLValue(override.score), .text(override.reason), .text(override.account.description), SQLValue(override.time)]),
            Self.bumpIndicators(),
        ])
    }

    public func removeIntelScoreOverride(indicator: String) async throws {
        try await database.batch([SQLStatement("DELETE FROM intel_score_overrides WHERE indicator = ?", [.text(indicator)]), Self.bumpIndicators()])
    }

    public func intelScoreOverrides() async throws -> [String: IntelScoreOverride] {
        var found: [String: IntelScoreOverride] = [:]
        for row in try await database.query("SELECT * FROM intel_score_overrides") {
            guard let account = UserID(try row.string("account")) else { throw StoreError(.corruptRow, "an override names no account") }
            let indicator = try row.string("indicator")
            found[indicator] = IntelScoreOverride(
                indicator: indicator, score: Int(try row.int("score")), reason: try row.string("reason"), account: account, time: try row.date("time"))
        }
        return found
    }

    // MARK: indicators for detection

    /// The last version of every indicator in every collection, with its collection and recipients.
    public func intelIndicatorRows(id only: String? = nil) async throws -> [IntelIndicatorRow] {
        let collections = Dictionary(uniqueKeysWithValues: try await intelCollections().map { ($0.id, $0) })
        var recipients: [String: [OrganisationID]] = [:]
        for row in try await database.query(
            """
            SELECT r.collection, r.id, r.version, r.organisation FROM intel_recipients r JOIN intel_objects o
                ON o.collection = r.collection AND o.id = r.id AND o.version = r.version WHERE o.type = 'indicator' AND r.organisation IS NOT NULL
                \(only == nil ? "" : "AND o.id = ?")
            """, only.map { [.text($0)] } ?? [])
        {
            guard let organisation = row.optionalString("organisation").flatMap(OrganisationID.init) else { continue }
            recipients["\(try row.string("collection"))/\(try row.string("id"))/\(try row.int("version"))", default: []].append(organisation)
        }
        // Read a page at a time (keyset on id and collection): a million rows at once are
        // gigabytes of row objects, a page of them a few megabytes.
        var result: [IntelIndicatorRow] = []
        var after: (id: String, collection: String)?
        while true {
            try Task.checkCancellation()
            var binds: [SQLValue] = only.map { [.text($0)] } ?? []
            if let after { binds += [.text(after.id), .text(after.id), .text(after.collection)] }
            let rows = try await database.query(
                """
                SELECT o.collection, o.id, o.version, o.producer, o.tlp, o.revoked, o.name, o.pattern, o.valid_from, o.valid_until, o.confidence
                FROM intel_objects o
                WHERE o.type = 'indicator' AND o.version = (SELECT MAX(m.version) FROM intel_objects m WHERE m.collection = o.collection AND m.id = o.id)
                \(only == nil ? "" : "AND o.id = ?") \(after == nil ? "" : "AND (o.id > ? OR (o.id = ? AND o.collection > ?))")
                ORDER BY o.id, o.collection LIMIT \(Self.indicatorPage)
                """, binds)
            for row in rows {
                let collectionID = try row.string("collection")
                let id = try row.string("id")
                after = (id, collectionID)
                guard let collection = collections[collectionID] else { continue }
                guard let producer = OrganisationID(try row.string("producer")) else { throw StoreError(.corruptRow, "an indicator names no producer") }
                let version = try row.int("version")
                result.append(
                    IntelIndicatorRow(
                        collection: collection, id: id, version: version, producer: producer, tlp: Int(try row.int("tlp")), revoked: try row.bool("revoked"),
                        recipients: recipients["\(collectionID)/\(id)/\(version)"] ?? [], name: row.optionalString("name"),
                        columns: row.optionalString("pattern").map {
                            IntelObjectRecord.IndicatorColumns(
                                pattern: $0, validFrom: row.optionalInt("valid_from"), validUntil: row.optionalInt("valid_until"),
                                confidence: row.optionalInt("confidence").map { Int($0) })
                        }))
            }
            guard rows.count == Self.indicatorPage else { return result }
        }
    }

    /// Indicator rows read in one query.
    static let indicatorPage = 20_000
}
