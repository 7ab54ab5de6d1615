public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Indicator lifecycle: sightings reported by organisations (by page, API or TAXII; detection
/// reports its own matches), an analyst's score, and each indicator's standing explained.
extension IntelDesk {
    /// The collections (readable by the subject) holding a version of the indicator it may see.
    func readableCollections(holding id: String, for subject: Subject) async throws -> [IntelCollectionRecord] {
        var holding: [IntelCollectionRecord] = []
        let reader = reader(subject)
        for collection in try await collections(for: subject) where collection.canRead {
            var filter = IntelObjectFilter(collection: collection.record.id, limit: 1)
            filter.ids = [id]
            filter.versions = [.all]
            if try await !store.intelObjects(filter, reader: reader, withBodies: false).isEmpty { holding.append(collection.record) }
        }
        return holding
    }

    /// Records that the subject's organisation saw an indicator (or found it a false positive,
    /// or expired). Only an indicator the subject may see can be reported.
    public func report(
        _ kind: IntelSighting.Kind, of id: String, count: Int = 1, seenAt: Date? = nil, note: String? = nil, by subject: Subject, source: String = "page",
        now: Date = Date()
    ) async throws {
        guard id.hasPrefix("indicator--") else { throw QilaError.invalid("must name an indicator (indicator--…)", field: "indicator") }
        guard (1...1_000_000).contains(count) else { throw QilaError.invalid("must be from 1 to 1,000,000", field: "count") }
        let at = seenAt ?? now
        guard at <= now.addingTimeInterval(300) else { throw QilaError.invalid("is in the future", field: "seen") }
        let trimmed = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (trimmed?.count ?? 0) <= 2_000 else { throw QilaError.invalid("must be at most 2,000 characters", field: "note") }
        guard try await !readableCollections(holding: id, for: subject).isEmpty else { throw QilaError(.notFound, "no such indicator") }
        try await store.recordIntelSightings(
            [
                IntelSighting(
                    indicator: id, organisation: subject.organisation.id, kind: kind, source: source, count: count, firstSeen: at, lastSeen: at,
                    account: subject.user.id, note: trimmed?.isEmpty == false ? trimmed : nil)
            ], changesDetection: kind != .seen)
        try await audit.recordChange(
            by: subject, "intel.sighting", resource: id, source: nil, details: ["kind": kind.rawValue, "count": String(count), "via": source], now: now)
    }

    /// Sightings as one reader may see them: a reporting organisation is named to the authority
    /// and to itself; to anyone else, including the producer, it is "another organisation".
    public struct SightingView: Sendable, Equatable {
        public var organisation: String
        public var kind: IntelSighting.Kind
        public var source: String
        public var count: Int
        public var firstSeen: Date
        public var lastSeen: Date
        public var note: String?
    }

    public struct Sightings: Sendable, Equatable {
        public var entries: [SightingView]
        public var seen: Int
        public var falsePositives: Int
        public var expired: Int
        public var organisations: Int
        public var lastSeen: Date?
    }

    public func sightings(of id: String, for subject: Subject) async throws -> Sightings {
        guard try await !readableCollections(holding: id, for: subject).isEmpty else { throw QilaError(.notFound, "no such indicator") }
        let all = try await store.intelSightings(of: [id])
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        let authority = subject.organisation.kind == .authority
        let entries = all.sorted { $0.lastSeen > $1.lastSeen }.map { sighting in
            SightingView(
                organisation: authority || sighting.organisation == subject.organisation.id ? names[sighting.organisation] ?? "?" : "another organisation",
                kind: sighting.kind, source: sighting.source, count: sighting.count, firstSeen: sighting.firstSeen, lastSeen: sighting.lastSeen,
                note: authority || sighting.organisation == subject.organisation.id ? sighting.note : nil)
        }
        func total(_ kind: IntelSighting.Kind) -> Int { all.filter { $0.kind == kind }.reduce(0) { $0 + $1.count } }
        return Sightings(
            entries: entries, seen: total(.seen), falsePositives: total(.falsePositive), expired: total(.expired),
            organisations: Set(all.map(\.organisation)).count, lastSeen: all.filter { $0.kind == .seen }.map(\.lastSeen).max())
    }

    /// An authority analyst sets an indicator's score (0 to 100), kept until removed, with the reason.
    public func overrideScore(_ id: String, score: Int?, reason: String, by subject: Subject, now: Date = Date()) async throws {
        let holding = try await readableCollections(holding: id, for: subject)
        guard !holding.isEmpty else { throw QilaError(.notFound, "no such indicator") }
        guard subject.organisation.kind == .authority, holding.contains(where: { policy.decide(subject, .update, Self.resource($0)).allowed }) else {
            try await refuse(subject, .update, holding[0])
            throw QilaError(.forbidden, "the authority's analysts set indicator scores")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if let score {
            guard (0...100).contains(score) else { throw QilaError.invalid("must be from 0 to 100", field: "score") }
            guard !reason.isEmpty, reason.count <= 500 else { throw QilaError.invalid("needs a reason of at most 500 characters", field: "reason") }
            try await store.setIntelScoreOverride(IntelScoreOverride(indicator: id, score: score, reason: reason, account: subject.user.id, time: now))
        } else {
            try await store.removeIntelScoreOverride(indicator: id)
        }
        try await audit.recordChange(
            by: subject, score == nil ? "intel.score.clear" : "intel.score.set", resource: id, source: nil,
            details: score.map { ["score": String($0), "reason": reason] } ?? [:], now: now)
    }
}
