import QilaCore
import QilaDetect

/// What a worker made of one journal entry; the committer turns results into stored alerts,
/// volumes and health, in journal order.
struct EntryResult: Sendable {
    struct Finding: Sendable {
        var kind: SecurityAlert.Kind
        /// The rule's stored id (or the indicator's text).
        var rule: String
        var title: String
        var severity: SecurityAlert.Severity
        var host: String?
        var account: String?
        var fields: [AlertField]
        /// The events of the first occurrences in the entry (as many as alerts keep as evidence).
        var events: [[UInt8]]
        /// Occurrences this finding stands for (the same rule and host within the entry).
        var occurrences: Int64
    }

    struct Observation: Sendable, Hashable {
        var kind: String
        var subject: String
        var value: String
    }

    /// An event a correlation rule reads: the rules it matched, for the committer's correlator.
    struct Correlated: Sendable {
        var mapping: String
        var version: Int
        var rules: [Int]
        var event: [UInt8]
    }

    var sequence: Int64
    var start: Int64
    var end: Int64
    var sensor: Sensor.ID
    var organisation: OrganisationID?
    var receivedAt: Int64
    var events: Int64 = 0
    var bytes: Int64 = 0
    var refused: [String: Int64] = [:]
    var lastError: String?
    var types: [String: Int64] = [:]
    var findings: [Finding] = []
    var observations: [Observation] = []
    /// Matches of shared indicators (by STIX id), reported to their producers as sightings.
    var sightings: [String: Int64] = [:]
    var correlated: [Correlated] = []
    /// The journal bytes this result stands for, counted against the pipeline's queue until committed.
    var heldBytes = 0
}

extension SecurityAlert.Severity {
    init(_ level: SigmaRule.Level?) {
        switch level {
        case .informational?: self = .informational
        case .low?: self = .low
        case .medium?, nil: self = .medium
        case .high?: self = .high
        case .critical?: self = .critical
        }
    }
}
