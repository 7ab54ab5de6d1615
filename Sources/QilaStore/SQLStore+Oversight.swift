public import Foundation
public import QilaCore

/// The few counts the oversight committee's national picture needs that no other page reads.
extension SQLStore {
    /// Every status change of every case (`Status new → triaged`), oldest first: when cases were
    /// triaged and closed.
    public func statusChanges() async throws -> [(caseID: CaseID, time: Date, text: String)] {
        try await database.query("SELECT case_id, time, text FROM case_entries WHERE kind = 'status' ORDER BY time, id").compactMap { row in
            guard let id = CaseID(try row.string("case_id")) else { return nil }
            return (id, try row.date("time"), try row.string("text"))
        }
    }

    /// Intelligence object versions added in `[start, end)`, by collection.
    public func intelAdded(from start: Date, to end: Date) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await database.query(
            // date_added is in microseconds (TAXII's resolution), not the milliseconds of other times.
            "SELECT collection, COUNT(*) AS n FROM intel_objects WHERE date_added >= ? AND date_added < ? GROUP BY collection",
            .integer(Int64((start.timeIntervalSince1970 * 1_000_000).rounded())), .integer(Int64((end.timeIntervalSince1970 * 1_000_000).rounded())))
        {
            counts[try row.string("collection")] = Int(try row.int("n"))
        }
        return counts
    }

    /// Sightings reported in `[start, end)`: how many reports, how many times seen in all.
    public func sightingTotals(from start: Date, to end: Date) async throws -> (reports: Int, seen: Int) {
        let row = try await database.query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(count), 0) AS BIGINT) AS seen FROM intel_sightings WHERE last_seen >= ? AND last_seen < ?", SQLValue(start), SQLValue(end)
        ).first
        return (Int(try row?.int("n") ?? 0), Int(try row?.int("seen") ?? 0))
    }
}

extension SQLStore {
    /// Complaints from the public filed in `[start, end)`.
    public func complaintTotal(from start: Date, to end: Date) async throws -> Int {
        Int(try await database.query(
            "SELECT COUNT(*) AS n FROM public_complaints WHERE created_at >= ? AND created_at < ?", SQLValue(start), SQLValue(end)).first?.int("n") ?? 0)
    }

    /// Suspicious messages and websites reported in `[start, end)`, and how many were confirmed.
    public func suspiciousTotals(from start: Date, to end: Date) async throws -> (reported: Int, confirmed: Int) {
        let row = try await database.query(
            """
            SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0) AS confirmed
            FROM suspicious_reports WHERE created_at >= ? AND created_at < ?
            """, SQLValue(start), SQLValue(end)
        ).first
        return (Int(try row?.int("n") ?? 0), Int(try row?.int("confirmed") ?? 0))
    }
}
