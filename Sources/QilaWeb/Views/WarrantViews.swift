import Foundation
import QilaCore
import QilaRetention

/// One warrant: what the court ordered, its scope, the decision and query forms for those who
/// may use them, the records a query just found, and every query with its signed package.
struct WarrantView: Sendable {
    struct Details: Sendable {
        var id, number, court, agency, provider, issued, expires, windowStart, windowEnd, status, statusSlug, investigator: String
        var discloses: Bool
        var decidedBy: String?
        var decided: String?
        var note: String?
    }

    struct Query: Sendable {
        var id, time, identifiers, sha: String
        var records: Int
        var elapsed: Int
        var canDownload: Bool
    }

    struct Record: Sendable {
        var start, source, destination, translated, subscriber, matched: String
        var `protocol`: Int
        var sourcePort, destinationPort: Int
        var octets: Int64
    }

    let warrant: Details
    let addresses: [String]
    let subscribers: [String]
    let canDecide, canRevoke, canQuery: Bool
    let queries: [Query]
    let hasQueries: Bool
    let message: String?
    let error: String?
    let results: [Record]
    let hasResults: Bool
    let more: Int?
    var zoneHint: String { DisplayZone.current.inputHint }
}

/// Counts and timing of warrants and queries, for the oversight committee: never a scope.
struct WarrantOversightView: Sendable {
    struct Status: Sendable {
        var title: String
        var count: Int
    }

    let statuses: [Status]
    let queries, records, afterExpiry, decided: Int
    let medianDecision: String
    let chart: String
}
