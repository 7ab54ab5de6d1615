public import Foundation
public import QilaCore

extension SQLStore {
    public func insertAuditEntries(_ entries: [(entry: AuditEntry, leafHash: [UInt8])]) async throws {
        guard !entries.isEmpty else { return }
        // One multi-row INSERT per chunk, all in one transaction: a batch is durable as a whole.
        let columns = 10
        let chunkSize = 500
        var statements: [SQLStatement] = []
        for start in stride(from: 0, to: entries.count, by: chunkSize) {
            let chunk = entries[start..<min(start + chunkSize, entries.count)]
            let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
            var binds: [SQLValue] = []
            binds.reserveCapacity(chunk.count * columns)
            for (entry, leafHash) in chunk {
                let details = try JSONSerialization.data(withJSONObject: entry.details, options: [.sortedKeys])
                binds += [
                    .integer(entry.index), SQLValue(entry.time), .text(entry.actor),
                    SQLValue(entry.actorOrganisation?.description), .text(entry.action), .text(entry.outcome.rawValue),
                    .text(entry.resource), SQLValue(entry.sourceAddress), .text(String(decoding: details, as: UTF8.self)),
                    .blob(leafHash),
                ]
            }
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO audit_entries (idx, time, actor, actor_organisation, action, outcome, resource,
                        source_address, details, leaf_hash) VALUES
                    """ + Array(repeating: row, count: chunk.count).joined(separator: ", "),
                    binds
                )
            )
        }
        try await database.batch(statements)
    }

    /// Throws unless the database answers a query (for readiness checks).
    public func ping() async throws {
        _ = try await database.query("SELECT 1 AS ok")
    }

    public func auditEntryCount() async throws -> Int64 {
        // MAX + 1 rather than COUNT: a missing row must not shift where the next entry goes.
        try await database.query("SELECT MAX(idx) AS n FROM audit_entries").first?.optionalInt("n").map { $0 + 1 } ?? 0
    }

    public func auditEntries(from index: Int64, limit: Int, actionPrefix: String?) async throws -> [AuditEntry] {
        let rows: [SQLRow]
        if let actionPrefix, !actionPrefix.isEmpty {
            rows = try await database.query(
                "SELECT * FROM audit_entries WHERE idx >= ? AND action LIKE ? ESCAPE '\\' ORDER BY idx LIMIT ?",
                .integer(index), .text(Self.likePrefix(actionPrefix)), .integer(Int64(limit))
            )
        } else {
            rows = try await database.query(
                "SELECT * FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?", .integer(index), .integer(Int64(limit))
            )
        }
        return try rows.map(Self.auditEntry)
    }

    /// The time and outcome of every entry at or after `time`, in order: for the log's chart.
    public func auditOutcomes(since time: Date) async throws -> [(time: Date, outcome: String)] {
        try await database.query("SELECT time, outcome FROM audit_entries WHERE time >= ? ORDER BY idx", SQLValue(time)).map { row in
            (Date(timeIntervalSince1970: Double(try row.int("time")) / 1000), try row.string("outcome"))
        }
    }

    public func auditLeafHashes(_ range: Range<Int64>) async throws -> [[UInt8]] {
        try await database.query(
            "SELECT leaf_hash FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            .integer(range.lowerBound), .integer(range.upperBound)
        ).map { $0.optionalBytes("leaf_hash") ?? [] }
    }

    /// Stores a head; a head for the same size signed meanwhile by another node (with the same
    /// installation keys, over the same entries) is kept instead.
    public func saveTreeHead(_ head: SignedTreeHead) async throws {
        try await database.execute(
            """
            INSERT INTO audit_tree_heads (tree_size, root_hash, time, ed25519_signature, mldsa65_signature)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """,
            .integer(head.treeSize), .text(head.rootHash), SQLValue(head.time), .text(head.ed25519Signature),
            .text(head.mldsa65Signature)
        )
    }

    public func latestTreeHead() async throws -> SignedTreeHead? {
        try await database.query("SELECT * FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1").first.map(Self.treeHead)
    }

    public func treeHeads() async throws -> [SignedTreeHead] {
        try await database.query("SELECT * FROM audit_tree_heads ORDER BY tree_size").map(Self.treeHead)
    }

    static func likePrefix(_ prefix: String) -> String {
        prefix.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    static func auditEntry(_ row: SQLRow) throws -> AuditEntry {
        let index = try row.int("idx")
        guard let outcome = AuditEntry.Outcome(rawValue: try row.string("outcome")) else {
            throw StoreError(.corruptRow, "audit entry \(index) has an outcome Qila cannot read")
        }
        let detailsText = try row.string("details")
        let details = (try? JSONSerialization.jsonObject(with: Data(detailsText.utf8))) as? [String: String]
        guard let details else {
            throw StoreError(.corruptRow, "audit entry \(index) has details that are not a JSON object of strings")
        }
        return AuditEntry(
            index: index, time: try row.date("time"), actor: try row.string("actor"),
            actorOrganisation: row.optionalString("actor_organisation").flatMap(OrganisationID.init),
            action: try row.string("action"), outcome: outcome, resource: try row.string("resource"),
            sourceAddress: row.optionalString("source_address"), details: details
        )
    }

    static func treeHead(_ row: SQLRow) throws -> SignedTreeHead {
        SignedTreeHead(
            treeSize: try row.int("tree_size"), rootHash: try row.string("root_hash"), time: try row.date("time"),
            ed25519Signature: try row.string("ed25519_signature"), mldsa65Signature: try row.string("mldsa65_signature")
        )
    }
}
