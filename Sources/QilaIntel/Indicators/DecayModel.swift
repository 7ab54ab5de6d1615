public import Foundation
public import QilaCore
public import QilaDetect
public import QilaStore

/// How an indicator's score falls with age and what renews it (docs/decisions/0020). The score
/// starts at the producer's `confidence` (or `baseScore`), falls polynomially over the lifetime
/// of the most volatile kind of value in its pattern, from the last time it was renewed (its
/// version, or the latest sighting), is halved for each organisation that has reported this
/// version a false positive, and is zero once anyone reports this version expired. An analyst's score
/// replaces the computed one until removed. At or above `threshold` it is in detection.
public struct DecayModel: Sendable, Equatable {
    /// The score of an indicator whose producer gave no `confidence`.
    public var baseScore = 75
    /// The score an indicator needs to stay in detection.
    public var threshold = 30
    /// The shape of the fall: 1 is linear; above 1 the score holds longer and falls late.
    public var speed = 2.0
    /// Days an indicator lasts without renewal, by the kind of value it names.
    public var lifetimeDays: [ObservableKind: Double] = [
        .ipv4: 30, .ipv6: 30, .url: 60, .domain: 90, .email: 180, .md5: 365, .sha1: 365, .sha256: 365,
    ]
    /// The factor for each organisation that reported a false positive since the last renewal.
    public var falsePositiveFactor = 0.5
    /// How often scores are computed again, for age alone to take effect.
    public var rescoreSeconds: Double = 900

    public init() {}

    /// What the score is computed from, read from the indicator's last version.
    public struct Facts: Sendable, Equatable {
        public var id: String
        public var confidence: Int?
        public var modified: Date
        public var validFrom: Date?
        public var validUntil: Date?
        public var revoked: Bool
        public var kinds: Set<ObservableKind>

        public init(
            id: String, confidence: Int? = nil, modified: Date, validFrom: Date? = nil, validUntil: Date? = nil, revoked: Bool = false,
            kinds: Set<ObservableKind>
        ) {
            self.id = id
            self.confidence = confidence
            self.modified = modified
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.revoked = revoked
            self.kinds = kinds
        }
    }

    /// A score and the sentences that explain it, in the order it was worked out.
    public struct Score: Sendable, Equatable {
        public var value: Int
        /// The computed score, before an analyst's override.
        public var computed: Int
        public var active: Bool
        public var reasons: [String]
    }

    public func lifetime(_ kinds: Set<ObservableKind>) -> (days: Double, kind: ObservableKind?) {
        let shortest = kinds.compactMap { kind in lifetimeDays[kind].map { (kind, $0) } }.min { $0.1 < $1.1 }
        return shortest.map { ($0.1, $0.0) } ?? (90, nil)
    }

    /// `explain` false leaves the reasons out: detection, scoring a million indicators, needs only the numbers.
    public func score(_ facts: Facts, sightings: [IntelSighting], override: IntelScoreOverride?, now: Date, explain: Bool = true) -> Score {
        var reasons: [String] = []
        func say(_ reason: @autoclosure () -> String) { if explain { reasons.append(reason()) } }
        func day(_ date: Date) -> String { String(RFC3339.format(date).prefix(10)) }
        func ended(_ why: @autoclosure () -> String) -> Score {
            say(why())
            if let override { say("an analyst's score of \(override.score) does not bring it back") }
            return Score(value: 0, computed: 0, active: false, reasons: reasons)
        }
        if facts.revoked { return ended("revoked by its producer: not in detection") }
        if let until = facts.validUntil, until <= now { return ended("valid until \(RFC3339.format(until)), which has passed: not in detection") }
        if let from = facts.validFrom, from > now { return ended("valid from \(RFC3339.format(from)), not yet: not in detection") }

        let base = facts.confidence.map { min(max($0, 0), 100) } ?? baseScore
        say(facts.confidence == nil ? "starts at \(base), the installation's default (no confidence given)" : "starts at \(base), its producer's confidence")
        var renewed = max(facts.validFrom ?? facts.modified, facts.modified)
        var renewal: () -> String = { "its version of \(day(facts.modified))" }
        let seen = sightings.filter { $0.kind == .seen && $0.lastSeen <= now }
        if let latest = seen.max(by: { $0.lastSeen < $1.lastSeen }), latest.lastSeen > renewed {
            renewed = latest.lastSeen
            renewal = {
                let organisations = Set(seen.map(\.organisation)).count
                return "a sighting on \(day(latest.lastSeen)) (\(seen.reduce(0) { $0 + $1.count }) in all, by \(organisations) organisation\(organisations == 1 ? "" : "s"))"
            }
        }
        let (days, kind) = lifetime(facts.kinds)
        let age = max(0, now.timeIntervalSince(renewed)) / 86_400
        let factor = age >= days ? 0 : 1 - pow(age / days, 1 / speed)
        var value = Double(base) * factor
        say(
            "renewed by \(renewal()); \(Int(age.rounded(.down))) of \(Int(days)) days\(kind.map { " (the lifetime of \($0.rawValue))" } ?? "") have passed: × \(String(format: "%.2f", factor))"
        )
        // False positives and expiry count against the version they were reported on; sightings
        // (perhaps by the same traffic) do not undo them, a new version does.
        let falsePositives = Set(sightings.filter { $0.kind == .falsePositive && $0.lastSeen >= facts.modified && $0.lastSeen <= now }.map(\.organisation))
        if !falsePositives.isEmpty {
            let cut = pow(falsePositiveFactor, Double(falsePositives.count))
            value *= cut
            say(
                "reported a false positive by \(falsePositives.count) organisation\(falsePositives.count == 1 ? "" : "s") since this version: × \(String(format: "%.2f", cut))")
        }
        if let expired = sightings.filter({ $0.kind == .expired && $0.lastSeen >= facts.modified && $0.lastSeen <= now }).min(by: { $0.lastSeen < $1.lastSeen }) {
            value = 0
            say("reported expired on \(day(expired.lastSeen)): 0")
        }
        let computed = Int(value.rounded())
        var final = computed
        if let override {
            final = override.score
            say("computed \(computed); set to \(override.score) by an analyst on \(day(override.time)): \(override.reason)")
        }
        let active = final >= threshold
        say(active ? "\(final) is at or above the threshold \(threshold): in detection" : "\(final) is below the threshold \(threshold): not in detection")
        return Score(value: final, computed: computed, active: active, reasons: reasons)
    }
}

extension StixPattern {
    /// The kinds of value the pattern names.
    public var kinds: Set<ObservableKind> {
        switch self {
        case .equals(let kind, _), .inNetwork(let kind, _): [kind]
        case .and(let parts), .or(let parts): parts.reduce(into: []) { $0.formUnion($1.kinds) }
        }
    }
}
