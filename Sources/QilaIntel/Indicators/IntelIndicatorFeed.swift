public import Foundation
public import QilaCore
public import QilaDetect
public import QilaStore
import Synchronization

/// The shared indicators detection runs: every indicator's last version whose score is at or
/// above the threshold, each with the organisations whose events it raises alerts for, as its
/// TLP marking and collection allow (docs/decisions/0020):
/// - CLEAR and GREEN: the collection's community (national: everyone; a sector's: its
///   organisations; an organisation's own: that organisation; a trust group: its members);
/// - AMBER: the producer and the organisations it named; AMBER+STRICT: the producer;
/// - RED is for named people, whom alerts cannot be limited to: RED indicators stay out.
/// A match anywhere is reported back as a sighting; elsewhere it raises no alert.
public final class IntelIndicatorFeed: Sendable {
    public let store: SQLStore
    public let model: DecayModel

    /// Parsed versions kept between rebuilds: parsing a pattern costs more than scoring it.
    private let parsed = Mutex<[String: Parsed]>([:])

    struct Parsed: Sendable {
        var version: Int64
        var facts: DecayModel.Facts
        var pattern: StixPattern?
        var name: String?
        var text: String
    }

    public init(store: SQLStore, model: DecayModel = DecayModel()) {
        self.store = store
        self.model = model
    }

    /// Changes when the active set may have changed: the data changed, or enough time passed
    /// for age alone to move scores.
    public func version(now: Date = Date()) async throws -> String {
        try await store.intelIndicatorsVersion() + "|" + String(Int64(now.timeIntervalSince1970 / model.rescoreSeconds))
    }

    /// One indicator's standing: its score (explained) and, when in detection, whose events it covers.
    public struct Standing: Sendable {
        public var id: String
        public var score: DecayModel.Score
        public var reach: Indicator.Reach?
        /// Why it cannot be in detection whatever its score (a pattern Qila cannot match, RED).
        public var excluded: String?
    }

    /// Every shared indicator's standing; `indicators` the ones detection runs.
    public func standings(now: Date = Date()) async throws -> (standings: [Standing], indicators: [Indicator]) {
        try await standings(of: nil, now: now)
    }

    /// The indicators detection runs, scored without their explanations (a million reasons are
    /// a gigabyte no one reads).
    public func active(now: Date = Date()) async throws -> [Indicator] {
        try await standings(of: nil, now: now, explain: false).indicators
    }

    /// One indicator's standing (nil if it is no indicator of this installation).
    public func standing(of id: String, now: Date = Date()) async throws -> Standing? {
        try await standings(of: id, now: now).standings.first
    }

    func standings(of only: String?, now: Date, explain: Bool = true) async throws -> (standings: [Standing], indicators: [Indicator]) {
        let rows = try await store.intelIndicatorRows(id: only)
        let organisations = try await store.organisations()
        var sightings: [String: [IntelSighting]] = [:]
        for sighting in try await store.intelSightings(of: only.map { [$0] }) { sightings[sighting.indicator, default: []].append(sighting) }
        let overrides = try await store.intelScoreOverrides()

        // The same indicator may sit in several collections: its reach is the union of theirs.
        var byID: [String: (parsed: Parsed, reach: Indicator.Reach?, excluded: String?)] = [:]
        var order: [String] = []
        var cache = parsed.withLock { $0 }
        var seenKeys: Set<String> = []
        for (index, row) in rows.enumerated() {
            // Scoring a million takes seconds: a stopping server does not wait for it.
            if index % 10_000 == 0 { try Task.checkCancellation() }
            let key = "\(row.collection.id)/\(row.id)"
            seenKeys.insert(key)
            let entry: Parsed
            if let cached = cache[key], cached.version == row.version {
                entry = cached
            } else {
                entry = Self.parse(row)
                cache[key] = entry
            }
            var excluded: String?
            var reach: Indicator.Reach? = Self.reach(row, organisations: organisations)
            if entry.pattern == nil { excluded = "its pattern is not one Qila's detection matches" }
            if row.tlp == TLP.red.rank {
                excluded = "TLP:RED is for the people named, and alerts cannot be limited to them"
                reach = nil
            }
            if var existing = byID[row.id] {
                if existing.parsed.version < entry.version { existing.parsed = entry }
                existing.reach = Self.union(existing.reach, reach)
                if existing.reach != nil { existing.excluded = entry.pattern == nil ? existing.excluded : nil }
                byID[row.id] = existing
            } else {
                byID[row.id] = (entry, reach, excluded)
                order.append(row.id)
            }
        }
        if only == nil { cache = cache.filter { seenKeys.contains($0.key) } }
        parsed.withLock { $0 = cache }

        var standings: [Standing] = []
        var indicators: [Indicator] = []
        for (index, id) in order.enumerated() {
            if index % 10_000 == 0 { try Task.checkCancellation() }
            let (entry, reach, excluded) = byID[id]!
            let score = model.score(entry.facts, sightings: sightings[id] ?? [], override: overrides[id], now: now, explain: explain)
            if explain { standings.append(Standing(id: id, score: score, reach: reach, excluded: excluded)) }
            if score.active, excluded == nil, let reach, let pattern = entry.pattern {
                indicators.append(Indicator(id: id, name: entry.name, pattern: pattern, text: entry.text, reach: reach))
            }
        }
        return (standings, indicators)
    }

    static func parse(_ row: IntelIndicatorRow) -> Parsed {
        let columns = row.columns
        let pattern = columns.flatMap { try? StixPattern.parse($0.pattern) }
        func date(_ microseconds: Int64?) -> Date? { microseconds.map { Date(timeIntervalSince1970: Double($0) / 1_000_000) } }
        let facts = DecayModel.Facts(
            id: row.id, confidence: columns?.confidence, modified: date(row.version)!, validFrom: date(columns?.validFrom),
            validUntil: date(columns?.validUntil), revoked: row.revoked, kinds: pattern?.kinds ?? [])
        return Parsed(version: row.version, facts: facts, pattern: pattern, name: row.name, text: columns?.pattern ?? row.id)
    }

    /// The organisations whose events a version raises alerts for (nil: every organisation's).
    static func reach(_ row: IntelIndicatorRow, organisations: [Organisation]) -> Indicator.Reach? {
        switch row.tlp {
        case TLP.amberStrict.rank: return .shared([row.producer])
        case TLP.amber.rank: return .shared(Set(row.recipients + [row.producer]))
        case TLP.red.rank: return nil
        default: break
        }
        let collection = row.collection
        switch collection.kind {
        case .national: return .shared(nil)
        case .sector: return .shared(Set(organisations.filter { $0.sector == collection.sector }.map(\.id)))
        case .organisation: return .shared(Set(collection.organisation.map { [$0] } ?? []).union([row.producer]))
        case .group: return .shared(Set(collection.audience).union([row.producer]))
        }
    }

    static func union(_ a: Indicator.Reach?, _ b: Indicator.Reach?) -> Indicator.Reach? {
        guard let a else { return b }
        guard let b else { return a }
        switch (a, b) {
        case (.shared(let x?), .shared(let y?)): return .shared(x.union(y))
        default: return .shared(nil)
        }
    }
}

extension IntelIndicatorFeed: IndicatorSource {
    public func activeIndicators(now: Date) async throws -> [Indicator] {
        try await active(now: now)
    }
}
