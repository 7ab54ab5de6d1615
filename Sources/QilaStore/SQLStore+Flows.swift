public import Foundation
public import QilaCore

/// Rows behind traffic-data retention. Warrant and query scopes (addresses and subscriber
/// identifiers) arrive sealed by the caller: this layer never sees them in the clear.
extension SQLStore {
    // MARK: flow sources

    public func createFlowSource(_ source: FlowSource) async throws {
        try await database.execute(
            """
            INSERT INTO flow_sources (id, organisation, kind, name, address, domain, sealed_secret, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(source.id.description), .text(source.organisation.description), .text(source.kind.rawValue), .text(source.name),
            .text(source.address), .integer(source.domain.map(Int64.init) ?? -1), SQLValue(source.sealedSecret),
            SQLValue(source.createdAt))
    }

    public func flowSources(of organisation: OrganisationID? = nil) async throws -> [FlowSource] {
        let rows = if let organisation {
            try await database.query("SELECT * FROM flow_sources WHERE organisation = ? ORDER BY kind, address", .text(organisation.description))
        } else {
            try await database.query("SELECT * FROM flow_sources ORDER BY kind, address")
        }
        return try rows.map(Self.flowSource)
    }

    public func flowSource(_ id: FlowSource.ID) async throws -> FlowSource? {
        try await database.query("SELECT * FROM flow_sources WHERE id = ?", .text(id.description)).first.map(Self.flowSource)
    }

    public func deleteFlowSource(_ id: FlowSource.ID) async throws {
        try await database.execute("DELETE FROM flow_sources WHERE id = ?", .text(id.description))
    }

    static func flowSource(_ row: SQLRow) throws -> FlowSource {
        let id = try row.string("id")
        guard let sourceID = FlowSource.ID(id), let organisation = OrganisationID(try row.string("organisation")),
            let kind = FlowSource.Kind(rawValue: try row.string("kind"))
        else { throw StoreError(.corruptRow, "flow source \(id) cannot be read") }
        let domain = try row.int("domain")
        return FlowSource(
            id: sourceID, organisation: organisation, kind: kind, name: try row.string("name"), address: try row.string("address"),
            domain: domain < 0 ? nil : UInt32(truncatingIfNeeded: domain), sealedSecret: row.optionalBytes("sealed_secret"),
            createdAt: try row.date("created_at"))
    }

    // MARK: retention

    /// Days of retention set for organisations; those not listed keep the default.
    public func flowRetention() async throws -> [OrganisationID: Int] {
        var result: [OrganisationID: Int] = [:]
        for row in try await database.query("SELECT organisation, days FROM flow_retention") {
            if let id = OrganisationID(try row.string("organisation")) { result[id] = Int(try row.int("days")) }
        }
        return result
    }

    public func setFlowRetention(_ days: Int, for organisation: OrganisationID) async throws {
        try await database.batch([
            SQLStatement("DELETE FROM flow_retention WHERE organisation = ?", [.text(organisation.description)]),
            SQLStatement("INSERT INTO flow_retention (organisation, days) VALUES (?, ?)", [.text(organisation.description), .integer(Int64(days))]),
        ])
    }

    // MARK: warrants

    public func createWarrant(_ warrant: Warrant, sealedScope: [UInt8]) async throws {
        try await database.execute(
            """
            INSERT INTO warrants (id, provider, court, number, issued_at, expires_at, agency, investigator, sealed_scope,
                address_count, subscriber_count, discloses_subscribers, window_start, window_end, status, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(warrant.id.description), .text(warrant.provider.description), .text(warrant.court), .text(warrant.number),
            SQLValue(warrant.issuedAt), SQLValue(warrant.expiresAt), .text(warrant.agency), .text(warrant.investigator.description),
            .blob(sealedScope), SQLValue(warrant.addresses.count), SQLValue(warrant.subscribers.count),
            SQLValue(warrant.disclosesSubscribers), SQLValue(warrant.windowStart), SQLValue(warrant.windowEnd),
            .text(warrant.status.rawValue), SQLValue(warrant.recordedAt))
    }

    /// A warrant without its scope (its addresses and subscribers are empty) and the sealed scope.
    public func warrant(_ id: WarrantID) async throws -> (warrant: Warrant, sealedScope: [UInt8], addresses: Int, subscribers: Int)? {
        try await database.query("SELECT * FROM warrants WHERE id = ?", .text(id.description)).first.map(Self.warrantRow)
    }

    /// Warrants, newest first, filtered by provider and/or investigator.
    public func warrants(provider: OrganisationID? = nil, investigator: UserID? = nil) async throws
        -> [(warrant: Warrant, sealedScope: [UInt8], addresses: Int, subscribers: Int)]
    {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let provider { conditions.append("provider = ?"); binds.append(.text(provider.description)) }
        if let investigator { conditions.append("investigator = ?"); binds.append(.text(investigator.description)) }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query("SELECT * FROM warrants\(filter) ORDER BY recorded_at DESC", binds).map(Self.warrantRow)
    }

    /// Moves a warrant from `from` to `to` if it is still in `from`; false if someone got there first.
    public func decideWarrant(_ id: WarrantID, from: Warrant.Status, to: Warrant.Status, by user: UserID, at time: Date, note: String?) async throws -> Bool {
        let rows = try await database.writeReturning(
            "UPDATE warrants SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ? AND status = ? RETURNING id",
            [.text(to.rawValue), .text(user.description), SQLValue(time), SQLValue(note), .text(id.description), .text(from.rawValue)])
        return !rows.isEmpty
    }

    static func warrantRow(_ row: SQLRow) throws -> (warrant: Warrant, sealedScope: [UInt8], addresses: Int, subscribers: Int) {
        let id = try row.string("id")
        guard let warrantID = WarrantID(id), let provider = OrganisationID(try row.string("provider")),
            let investigator = UserID(try row.string("investigator")), let status = Warrant.Status(rawValue: try row.string("status")),
            let scope = row.optionalBytes("sealed_scope")
        else { throw StoreError(.corruptRow, "warrant \(id) cannot be read") }
        let warrant = Warrant(
            id: warrantID, provider: provider, court: try row.string("court"), number: try row.string("number"),
            issuedAt: try row.date("issued_at"), expiresAt: try row.date("expires_at"), agency: try row.string("agency"),
            investigator: investigator, addresses: [], subscribers: [], disclosesSubscribers: try row.bool("discloses_subscribers"),
            windowStart: try row.date("window_start"), windowEnd: try row.date("window_end"), status: status,
            recordedAt: try row.date("recorded_at"), decidedBy: row.optionalString("decided_by").flatMap(UserID.init),
            decidedAt: row.optionalDate("decided_at"), decisionNote: row.optionalString("decision_note"))
        return (warrant, scope, Int(try row.int("address_count")), Int(try row.int("subscriber_count")))
    }

    // MARK: queries under warrants

    /// Records a query and its sealed export package together: the package is in the database, so
    /// the investigator downloads it through any node.
    public func recordWarrantQuery(_ query: WarrantQuery, sealedScope: [UInt8], sealedPackage: [UInt8]) async throws {
        try await database.batch([
            SQLStatement(
                """
                INSERT INTO warrant_queries (id, warrant, actor, time, sealed_scope, window_start, window_end, result_count, elapsed_ms, manifest_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(query.id.description), .text(query.warrant.description), .text(query.actor.description), SQLValue(query.time),
                    .blob(sealedScope), SQLValue(query.windowStart), SQLValue(query.windowEnd), SQLValue(query.resultCount),
                    SQLValue(query.elapsedMilliseconds), .text(query.manifestSHA256),
                ]),
            SQLStatement(
                "INSERT INTO warrant_exports (query, sealed, size, created_at) VALUES (?, ?, ?, ?)",
                [.text(query.id.description), .blob(sealedPackage), .integer(Int64(sealedPackage.count)), SQLValue(query.time)]),
        ])
    }

    /// A query's sealed export package; nil for a query whose package was written to a node's
    /// data directory by a version before the packages moved into the database.
    public func warrantExport(_ query: WarrantQueryID) async throws -> [UInt8]? {
        try await database.query("SELECT sealed FROM warrant_exports WHERE query = ?", .text(query.description)).first?.optionalBytes("sealed")
    }

    /// Queries without their scope (addresses and subscribers empty), newest first.
    public func warrantQueries(of warrant: WarrantID? = nil) async throws -> [(query: WarrantQuery, sealedScope: [UInt8])] {
        let rows = if let warrant {
            try await database.query("SELECT * FROM warrant_queries WHERE warrant = ? ORDER BY time DESC", .text(warrant.description))
        } else {
            try await database.query("SELECT * FROM warrant_queries ORDER BY time DESC")
        }
        return try rows.map { row in
            let id = try row.string("id")
            guard let queryID = WarrantQueryID(id), let warrant = WarrantID(try row.string("warrant")),
                let actor = UserID(try row.string("actor")), let scope = row.optionalBytes("sealed_scope")
            else { throw StoreError(.corruptRow, "warrant query \(id) cannot be read") }
            return (
                WarrantQuery(
                    id: queryID, warrant: warrant, actor: actor, time: try row.date("time"), addresses: [], subscribers: [],
                    windowStart: try row.date("window_start"), windowEnd: try row.date("window_end"),
                    resultCount: Int(try row.int("result_count")), elapsedMilliseconds: Int(try row.int("elapsed_ms")),
                    manifestSHA256: try row.string("manifest_sha256")),
                scope
            )
        }
    }
}
