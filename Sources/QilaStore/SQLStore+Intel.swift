public import Foundation
public import QilaCore

/// A collection of shared threat intelligence, as stored.
public struct IntelCollectionRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Every organisation of the installation reads and writes it.
        case national
        /// The organisations of one sector, their regulator and the authority.
        case sector
        /// One organisation's own, read by it and the authority.
        case organisation
        /// A named set of organisations (a trust group of foreign peers, or one the authority defines).
        case group
    }

    /// A UUID, as TAXII identifies collections.
    public var id: String
    /// The TAXII API root it is served under (`national`, `sector-telecom`, `group-gcc`).
    public var root: String
    public var kind: Kind
    /// What makes it unique among collections of its kind (the sector, the organisation, a name).
    public var key: String
    public var title: String
    public var description: String
    public var organisation: OrganisationID?
    public var sector: SectorID?
    public var audience: [OrganisationID]
    public var createdAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), root: String, kind: Kind, key: String, title: String, description: String,
        organisation: OrganisationID? = nil, sector: SectorID? = nil, audience: [OrganisationID] = [], createdAt: Date = Date()
    ) {
        self.id = id
        self.root = root
        self.kind = kind
        self.key = key
        self.title = title
        self.description = description
        self.organisation = organisation
        self.sector = sector
        self.audience = audience
        self.createdAt = createdAt
    }
}

/// One version of a STIX object in a collection.
public struct IntelObjectRecord: Sendable, Equatable {
    public var collection: String
    public var id: String
    /// The version (`modified`, else `created`, else the time added), in microseconds since 1970.
    public var version: Int64
    public var versionText: String
    public var type: String
    public var specVersion: String
    /// When this installation added it, in microseconds since 1970 (TAXII's `date_added`).
    public var dateAdded: Int64
    /// The organisation that shared it (for objects pulled from a peer, the organisation standing for the peer).
    public var producer: OrganisationID
    public var addedBy: UserID
    /// Its TLP marking's rank (`TLP.rank`): 0 CLEAR to 4 RED.
    public var tlp: Int
    public var revoked: Bool
    /// Where it came from, when not shared here first (a peer's collection, a MISP feed).
    public var source: String?
    /// Its `name`, if it has one, for lists.
    public var name: String?
    public var body: [UInt8]
    /// An indicator's STIX pattern, validity (microseconds since 1970) and confidence, read by
    /// detection without parsing the body.
    public var indicator: IndicatorColumns?

    public struct IndicatorColumns: Sendable, Equatable {
        public var pattern: String
        public var validFrom: Int64?
        public var validUntil: Int64?
        public var confidence: Int?

        public init(pattern: String, validFrom: Int64?, validUntil: Int64?, confidence: Int?) {
            self.pattern = pattern
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.confidence = confidence
        }
    }

    public init(
        collection: String, id: String, version: Int64, versionText: String, type: String, specVersion: String, dateAdded: Int64,
        producer: OrganisationID, addedBy: UserID, tlp: Int, revoked: Bool, source: String?, name: String? = nil, body: [UInt8],
        indicator: IndicatorColumns? = nil
    ) {
        self.indicator = indicator
        self.collection = collection
        self.id = id
        self.version = version
        self.versionText = versionText
        self.type = type
        self.specVersion = specVersion
        self.dateAdded = dateAdded
        self.producer = producer
        self.addedBy = addedBy
        self.tlp = tlp
        self.revoked = revoked
        self.source = source
        self.name = name
        self.body = body
    }
}

/// Who reads: the TLP decision for each object version is made in the query, so that counts,
/// pages and `more` never reflect what the reader may not see.
public struct IntelReader: Sendable {
    public var organisation: OrganisationID
    public var person: UserID
    /// The reader's clearance as a TLP rank.
    public var clearance: Int

    public init(organisation: OrganisationID, person: UserID, clearance: Int) {
        self.organisation = organisation
        self.person = person
        self.clearance = clearance
    }
}

/// Which objects of a collection to read, in `date_added` order.
public struct IntelObjectFilter: Sendable {
    public enum Version: Sendable, Hashable {
        case first, last, all
        case at(Int64)
    }

    public var collection: String
    /// Only objects added after this instant (microseconds).
    public var addedAfter: Int64?
    /// Continue after this row (date added, id, version): a page's `next`.
    public var after: (dateAdded: Int64, id: String, version: Int64)?
    public var limit: Int
    public var ids: [String] = []
    public var types: [String] = []
    public var specVersions: [String] = []
    public var versions: [Version] = [.last]

    public init(collection: String, limit: Int) {
        self.collection = collection
        self.limit = limit
    }
}

/// A reader received an object version: kept so that producers see who received what.
public struct IntelDisclosure: Sendable, Equatable {
    public var collection: String
    public var id: String
    public var version: Int64
    public var producer: OrganisationID
    public var tlp: Int
    public var account: UserID
    public var organisation: OrganisationID
    public var time: Date

    public init(collection: String, id: String, version: Int64, producer: OrganisationID, tlp: Int, account: UserID, organisation: OrganisationID, time: Date) {
        self.collection = collection
        self.id = id
        self.version = version
        self.producer = producer
        self.tlp = tlp
        self.account = account
        self.organisation = organisation
        self.time = time
    }
}

/// A TAXII collection of another server the installation polls.
public struct IntelPeerRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The peer collection's URL (`https://…/api-root/collections/{id}/`).
    public var url: String
    /// What the peer speaks: `taxii` (a TAXII 2.1 collection) or `misp-feed` (a MISP feed's directory).
    public var format: String
    public var localCollection: String
    public var username: String
    public var sealedPassword: [UInt8]
    /// The certificate authority (PEM) its HTTPS certificate must chain to; nil: the system's roots.
    public var trust: String?
    public var intervalSeconds: Int
    /// The `added_after` of the next poll: the last `date_added` received, as the peer wrote it.
    public var cursor: String?
    public var polledAt: Date?
    public var lastError: String?
    public var objects: Int
    /// The authority account that subscribed; the peer's objects are added in its name.
    public var createdBy: UserID
    public var createdAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), name: String, url: String, format: String = "taxii", localCollection: String, username: String, sealedPassword: [UInt8],
        trust: String? = nil, intervalSeconds: Int, cursor: String? = nil, polledAt: Date? = nil, lastError: String? = nil, objects: Int = 0, createdBy: UserID,
        createdAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.url = url
        self.format = format
        self.localCollection = localCollection
        self.username = username
        self.sealedPassword = sealedPassword
        self.trust = trust
        self.intervalSeconds = intervalSeconds
        self.cursor = cursor
        self.polledAt = polledAt
        self.lastError = lastError
        self.objects = objects
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

extension SQLStore {
    // MARK: peers

    public func createIntelPeer(_ peer: IntelPeerRecord) async throws {
        do {
            try await database.execute(
                """
                INSERT INTO intel_peers (id, name, url, local_collection, username, sealed_password, trust, interval_seconds, cursor, polled_at,
                    last_error, objects, created_by, created_at, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                .text(peer.id), .text(peer.name), .text(peer.url), .text(peer.localCollection), .text(peer.username), .blob(peer.sealedPassword),
                SQLValue(peer.trust), SQLValue(peer.intervalSeconds), SQLValue(peer.cursor), SQLValue(peer.polledAt), SQLValue(peer.lastError), SQLValue(peer.objects),
                .text(peer.createdBy.description), SQLValue(peer.createdAt), .text(peer.format))
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError.invalid("another peer is already called '\(peer.name)'", field: "name")
        }
    }

    public func intelPeers() async throws -> [IntelPeerRecord] {
        try await database.query("SELECT * FROM intel_peers ORDER BY name").map { row in
            guard let createdBy = UserID(try row.string("created_by")) else { throw StoreError(.corruptRow, "a peer names no creator") }
            return IntelPeerRecord(
                id: try row.string("id"), name: try row.string("name"), url: try row.string("url"), format: try row.string("format"), localCollection: try row.string("local_collection"),
                username: try row.string("username"), sealedPassword: row.optionalBytes("sealed_password") ?? [],
                trust: row.optionalString("trust"), intervalSeconds: Int(try row.int("interval_seconds")), cursor: row.optionalString("cursor"), polledAt: row.optionalDate("polled_at"),
                lastError: row.optionalString("last_error"), objects: Int(try row.int("objects")), createdBy: createdBy, createdAt: try row.date("created_at"))
        }
    }

    /// Records a poll: where the next starts, how many objects arrived, and the error if it failed.
    public func recordIntelPoll(peer id: String, cursor: String?, added: Int, error: String?, at time: Date) async throws {
        try await database.execute(
            "UPDATE intel_peers SET cursor = COALESCE(?, cursor), objects = objects + ?, last_error = ?, polled_at = ? WHERE id = ?", SQLValue(cursor),
            SQLValue(added), SQLValue(error), SQLValue(time), .text(id))
    }

    /// Makes a peer due now: the node polling peers takes it up at its next look.
    public func makeIntelPeerDue(id: String) async throws {
        try await database.execute("UPDATE intel_peers SET polled_at = NULL WHERE id = ?", .text(id))
    }

    public func deleteIntelPeer(id: String) async throws {
        try await database.execute("DELETE FROM intel_peers WHERE id = ?", .text(id))
    }

    // MARK: collections

    /// Stores a collection unless one of its kind and key exists; returns the one stored (so that
    /// nodes deriving the same collection at once agree on its identifier).
    @discardableResult
    public func ensureIntelCollection(_ collection: IntelCollectionRecord) async throws -> IntelCollectionRecord {
        try await database.execute(
            """
            INSERT INTO intel_collections (id, root, kind, key, title, description, organisation, sector, audience, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO NOTHING
            """,
            .text(collection.id), .text(collection.root), .text(collection.kind.rawValue), .text(collection.key), .text(collection.title),
            .text(collection.description), SQLValue(collection.organisation?.description), SQLValue(collection.sector?.description),
            .text(collection.audience.map(\.description).joined(separator: "\n")), SQLValue(collection.createdAt))
        guard
            let row = try await database.query(
                "SELECT * FROM intel_collections WHERE kind = ? AND key = ?", .text(collection.kind.rawValue), .text(collection.key)
            ).first
        else { throw StoreError(.corruptRow, "the collection just stored cannot be read") }
        return try Self.intelCollection(row)
    }

    public func updateIntelCollection(_ collection: IntelCollectionRecord) async throws {
        try await database.execute(
            "UPDATE intel_collections SET title = ?, description = ?, audience = ? WHERE id = ?", .text(collection.title),
            .text(collection.description), .text(collection.audience.map(\.description).joined(separator: "\n")), .text(collection.id))
    }

    public func intelCollections() async throws -> [IntelCollectionRecord] {
        try await database.query("SELECT * FROM intel_collections ORDER BY root, kind, title").map(Self.intelCollection)
    }

    public func intelCollection(id: String) async throws -> IntelCollectionRecord? {
        try await database.query("SELECT * FROM intel_collections WHERE id = ?", .text(id)).first.map(Self.intelCollection)
    }

    static func intelCollection(_ row: SQLRow) throws -> IntelCollectionRecord {
        let id = try row.string("id")
        guard let kind = IntelCollectionRecord.Kind(rawValue: try row.string("kind")) else { throw StoreError(.corruptRow, "collection \(id) has an unknown kind") }
        return IntelCollectionRecord(
            id: id, root: try row.string("root"), kind: kind, key: try row.string("key"), title: try row.string("title"),
            description: try row.string("description"), organisation: row.optionalString("organisation").flatMap(OrganisationID.init),
            sector: row.optionalString("sector").map { SectorID(rawValue: $0) },
            audience: try row.string("audience").split(separator: "\n").compactMap { OrganisationID(String($0)) }, createdAt: try row.date("created_at"))
    }

    // MARK: objects

    /// Adds object versions with who may read them beyond the TLP's default; a version already in
    /// the collection is left as it is. Returns the keys (`id`, `version`) that were new.
    @discardableResult
    public func addIntelObjects(_ objects: [(record: IntelObjectRecord, organisations: [OrganisationID], people: [UserID])], values: [String: [String]] = [:])
        async throws -> Set<String>
    {
        guard !objects.isEmpty else { return [] }
        var existing: Set<String> = []
        for (collection, group) in Dictionary(grouping: objects, by: \.record.collection) {
            for chunk in group.chunked(400) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let rows = try await database.query(
                    "SELECT id, version FROM intel_objects WHERE collection = ? AND id IN (\(marks))",
                    [.text(collection)] + chunk.map { .text($0.record.id) })
                for row in rows { existing.insert("\(try row.string("id"))/\(try row.int("version"))") }
            }
        }
        var seen = existing
        let fresh = objects.filter { seen.insert("\($0.record.id)/\($0.record.version)").inserted }
        var statements: [SQLStatement] = []
        for chunk in fresh.chunked(100) {
            let marks = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO intel_objects (collection, id, version, version_text, type, spec_version, date_added, producer, added_by, tlp,
                        revoked, source, name, body, pattern, valid_from, valid_until, confidence) VALUES \(marks)
                        ON CONFLICT (collection, id, version) DO NOTHING
                    """,
                    chunk.flatMap { entry -> [SQLValue] in
                        let o = entry.record
                        return [
                            .text(o.collection), .text(o.id), .integer(o.version), .text(o.versionText), .text(o.type), .text(o.specVersion),
                            .integer(o.dateAdded), .text(o.producer.description), .text(o.addedBy.description), .integer(Int64(o.tlp)),
                            SQLValue(o.revoked), SQLValue(o.source), SQLValue(o.name), .blob(o.body), SQLValue(o.indicator?.pattern),
                            SQLValue(o.indicator?.validFrom), SQLValue(o.indicator?.validUntil), SQLValue(o.indicator?.confidence.map { Int64($0) }),
                        ]
                    }))
            let audience = chunk.flatMap { entry in
                entry.organisations.map { (entry.record, SQLValue(Optional($0.description)), SQLValue.null) }
                    + entry.people.map { (entry.record, SQLValue.null, SQLValue(Optional($0.description))) }
            }
            for part in audience.chunked(200) {
                statements.append(
                    SQLStatement(
                        "INSERT INTO intel_recipients (collection, id, version, organisation, person) VALUES "
                            + Array(repeating: "(?, ?, ?, ?, ?)", count: part.count).joined(separator: ", "),
                        part.flatMap { [.text($0.0.collection), .text($0.0.id), .integer($0.0.version), $0.1, $0.2] }))
            }
        }
        // Search values of the new versions, keyed "id/version".
        let named = fresh.flatMap { entry in (values["\(entry.record.id)/\(entry.record.version)"] ?? []).map { (entry.record, $0) } }
        for part in named.chunked(200) {
            statements.append(
                SQLStatement(
                    "INSERT INTO intel_values (value, collection, id, version) VALUES " + Array(repeating: "(?, ?, ?, ?)", count: part.count).joined(separator: ", "),
                    part.flatMap { [.text($0.1), .text($0.0.collection), .text($0.0.id), .integer($0.0.version)] }))
        }
        if fresh.contains(where: { $0.record.type == "indicator" }) { statements.append(Self.bumpIndicators()) }
        if !statements.isEmpty { try await database.batch(statements) }
        return Set(fresh.map { "\($0.record.id)/\($0.record.version)" })
    }

    /// The object versions `reader` may see, in `date_added` order, at most `filter.limit + 1`
    /// of them (the extra one says there are more).
    public func intelObjects(_ filter: IntelObjectFilter, reader: IntelReader, withBodies: Bool = true) async throws -> [IntelObjectRecord] {
        var clauses = ["o.collection = ?"]
        var binds: [SQLValue] = [.text(filter.collection)]
        let (visible, visibleBinds) = Self.visibility("o", reader)
        clauses.append(visible)
        binds += visibleBinds
        if let after = filter.addedAfter {
            clauses.append("o.date_added > ?")
            binds.append(.integer(after))
        }
        if let after = filter.after {
            clauses.append("(o.date_added > ? OR (o.date_added = ? AND (o.id > ? OR (o.id = ? AND o.version > ?))))")
            binds += [.integer(after.dateAdded), .integer(after.dateAdded), .text(after.id), .text(after.id), .integer(after.version)]
        }
        for (column, values) in [("o.id", filter.ids), ("o.type", filter.types), ("o.spec_version", filter.specVersions)] where !values.isEmpty {
            clauses.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            binds += values.map { .text($0) }
        }
        if !filter.versions.contains(.all) {
            var options: [String] = []
            for version in filter.versions {
                switch version {
                case .first, .last:
                    let (inner, innerBinds) = Self.visibility("v", reader)
                    options.append(
                        "o.version = (SELECT \(version == .first ? "MIN" : "MAX")(v.version) FROM intel_objects v WHERE v.collection = o.collection AND v.id = o.id AND \(inner))"
                    )
                    binds += innerBinds
                case .at(let micros):
                    options.append("o.version = ?")
                    binds.append(.integer(micros))
                case .all:
                    break
                }
            }
            clauses.append("(" + options.joined(separator: " OR ") + ")")
        }
        let columns =
            withBodies
            ? "o.*" : "o.collection, o.id, o.version, o.version_text, o.type, o.spec_version, o.date_added, o.producer, o.added_by, o.tlp, o.revoked, o.source, o.name"
        let rows = try await database.query(
            "SELECT \(columns) FROM intel_objects o WHERE \(clauses.joined(separator: " AND ")) ORDER BY o.date_added, o.id, o.version LIMIT ?",
            binds + [.integer(Int64(filter.limit + 1))])
        return try rows.map(Self.intelObject)
    }

    /// Deletes the versions of an object the filter names that `reader` may see and may delete
    /// (`producer`: only its own organisation's, unless nil); returns how many went.
    public func deleteIntelObject(_ filter: IntelObjectFilter, reader: IntelReader, producer: OrganisationID?) async throws -> Int {
        var unlimited = filter
        unlimited.limit = 1_000_000
        let rows = try await intelObjects(unlimited, reader: reader, withBodies: false).filter { producer == nil || $0.producer == producer }
        guard !rows.isEmpty else { return 0 }
        var statements: [SQLStatement] = []
        for row in rows {
            for table in ["intel_objects", "intel_recipients", "intel_values"] {
                statements.append(
                    SQLStatement(
                        "DELETE FROM \(table) WHERE collection = ? AND id = ? AND version = ?", [.text(row.collection), .text(row.id), .integer(row.version)]))
            }
        }
        if rows.contains(where: { $0.type == "indicator" }) { statements.append(Self.bumpIndicators()) }
        try await database.batch(statements)
        return rows.count
    }

    /// Object versions naming `value` (lower case, exactly or as the start of a value) that
    /// `reader` may see in the given collections, newest added first, at most `limit`.
    public func searchIntelObjects(_ value: String, collections: [String], reader: IntelReader, limit: Int) async throws -> [IntelObjectRecord] {
        guard !collections.isEmpty, !value.isEmpty else { return [] }
        let (visible, visibleBinds) = Self.visibility("o", reader)
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        let marks = Array(repeating: "?", count: collections.count).joined(separator: ", ")
        let rows = try await database.query(
            """
            SELECT o.collection, o.id, o.version, o.version_text, o.type, o.spec_version, o.date_added, o.producer, o.added_by, o.tlp, o.revoked, o.source,
                o.name FROM intel_objects o WHERE o.collection IN (\(marks)) AND \(visible) AND EXISTS (SELECT 1 FROM intel_values v
                WHERE v.collection = o.collection AND v.id = o.id AND v.version = o.version AND (v.value = ? OR v.value LIKE ? ESCAPE '\\'))
            ORDER BY o.date_added DESC, o.id, o.version DESC LIMIT ?
            """,
            collections.map { .text($0) } + visibleBinds + [.text(value), .text(escaped + "%"), .integer(Int64(limit))])
        return try rows.map(Self.intelObject)
    }

    /// The SQL condition under which `reader` may see the object version aliased `o` (TLP 2.0,
    /// docs/decisions/0019): CLEAR and GREEN to whoever the collection admits; AMBER to the
    /// producer's organisation and the organisations named; AMBER+STRICT to the producer's
    /// organisation; RED to the person who shared it and the people named; never above the
    /// reader's clearance.
    static func visibility(_ o: String, _ reader: IntelReader) -> (String, [SQLValue]) {
        let recipient = "SELECT 1 FROM intel_recipients r WHERE r.collection = \(o).collection AND r.id = \(o).id AND r.version = \(o).version"
        let sql = """
            (\(o).tlp <= ? AND (\(o).tlp <= 1 \
            OR (\(o).tlp = 2 AND (\(o).producer = ? OR EXISTS (\(recipient) AND r.organisation = ?))) \
            OR (\(o).tlp = 3 AND \(o).producer = ?) \
            OR (\(o).tlp = 4 AND (\(o).added_by = ? OR EXISTS (\(recipient) AND r.person = ?)))))
            """
        let org = SQLValue.text(reader.organisation.description), person = SQLValue.text(reader.person.description)
        return (sql, [.integer(Int64(reader.clearance)), org, org, org, person, person])
    }

    public func intelRecipients(collection: String, id: String, version: Int64) async throws -> (organisations: [OrganisationID], people: [UserID]) {
        let rows = try await database.query(
            "SELECT organisation, person FROM intel_recipients WHERE collection = ? AND id = ? AND version = ?", .text(collection), .text(id),
            .integer(version))
        return (
            rows.compactMap { $0.optionalString("organisation").flatMap(OrganisationID.init) },
            rows.compactMap { $0.optionalString("person").flatMap(UserID.init) }
        )
    }

    static func intelObject(_ row: SQLRow) throws -> IntelObjectRecord {
        let id = try row.string("id")
        guard let producer = OrganisationID(try row.string("producer")), let addedBy = UserID(try row.string("added_by")) else {
            throw StoreError(.corruptRow, "object \(id) names no producer")
        }
        return IntelObjectRecord(
            collection: try row.string("collection"), id: id, version: try row.int("version"), versionText: try row.string("version_text"),
            type: try row.string("type"), specVersion: try row.string("spec_version"), dateAdded: try row.int("date_added"), producer: producer,
            addedBy: addedBy, tlp: Int(try row.int("tlp")), revoked: try row.bool("revoked"), source: row.optionalString("source"),
            name: row.optionalString("name"), body: row.optionalBytes("body") ?? [])
    }

    // MARK: default recipients

    public func setIntelRecipients(collection: String, producer: OrganisationID, recipients: [OrganisationID]) async throws {
        try await database.execute(
            "INSERT INTO intel_sharing (collection, producer, recipients) VALUES (?, ?, ?) ON CONFLICT (collection, producer) DO UPDATE SET recipients = excluded.recipients",
            .text(collection), .text(producer.description), .text(recipients.map(\.description).joined(separator: "\n")))
    }

    public func intelRecipients(collection: String, producer: OrganisationID) async throws -> [OrganisationID] {
        try await database.query(
            "SELECT recipients FROM intel_sharing WHERE collection = ? AND producer = ?", .text(collection), .text(producer.description)
        ).first?.optionalString("recipients")?.split(separator: "\n").compactMap { OrganisationID(String($0)) } ?? []
    }

    // MARK: disclosures and status

    public func recordIntelDisclosures(_ disclosures: [IntelDisclosure]) async throws {
        guard !disclosures.isEmpty else { return }
        let statements = disclosures.chunked(200).map { chunk in
            SQLStatement(
                "INSERT INTO intel_disclosures (collection, id, version, producer, tlp, account, organisation, time) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "),
                chunk.flatMap { d -> [SQLValue] in
                    [
                        .text(d.collection), .text(d.id), .integer(d.version), .text(d.producer.description), .integer(Int64(d.tlp)),
                        .text(d.account.description), .text(d.organisation.description), SQLValue(d.time),
                    ]
                })
        }
        try await database.batch(statements)
    }

    /// Who received a producer's objects at or above `tlp`, newest first.
    public func intelDisclosures(producer: OrganisationID, minimumTLP: Int, limit: Int) async throws -> [IntelDisclosure] {
        try await database.query(
            "SELECT * FROM intel_disclosures WHERE producer = ? AND tlp >= ? ORDER BY time DESC LIMIT ?", .text(producer.description),
            .integer(Int64(minimumTLP)), .integer(Int64(limit))
        ).map { row in
            guard let producer = OrganisationID(try row.string("producer")), let account = UserID(try row.string("account")),
                let organisation = OrganisationID(try row.string("organisation"))
            else { throw StoreError(.corruptRow, "a disclosure cannot be read") }
            return IntelDisclosure(
                collection: try row.string("collection"), id: try row.string("id"), version: try row.int("version"), producer: producer,
                tlp: Int(try row.int("tlp")), account: account, organisation: organisation, time: try row.date("time"))
        }
    }

    public func saveIntelStatus(id: String, collection: String, account: UserID, organisation: OrganisationID, body: [UInt8], at time: Date) async throws {
        try await database.execute(
            "INSERT INTO intel_status (id, collection, account, organisation, body, created_at) VALUES (?, ?, ?, ?, ?, ?)", .text(id), .text(collection),
            .text(account.description), .text(organisation.description), .blob(body), SQLValue(time))
    }

    public func intelStatus(id: String) async throws -> (collection: String, organisation: OrganisationID, body: [UInt8])? {
        guard let row = try await database.query("SELECT * FROM intel_status WHERE id = ?", .text(id)).first,
            let organisation = OrganisationID(try row.string("organisation"))
        else { return nil }
        return (try row.string("collection"), organisation, row.optionalBytes("body") ?? [])
    }
}

/// A request to add objects that was answered with a pending status and is finished by
/// whichever node claims it.
public struct IntelPendingAdd: Sendable, Equatable {
    public var status: String
    public var collection: String
    public var account: UserID
    public var organisation: OrganisationID
    /// The request's JSON as it came (a TAXII envelope or STIX bundle), or its `objects` list.
    public var objects: [UInt8]
    public var total: Int
    public var recipientOrganisations: [OrganisationID]
    public var recipientPeople: [UserID]
    public var source: String?
    public var acceptedAt: Date
    /// How many times a node has taken it (one that keeps failing is given up).
    public var attempts: Int

    public init(
        status: String, collection: String, account: UserID, organisation: OrganisationID, objects: [UInt8], total: Int,
        recipientOrganisations: [OrganisationID], recipientPeople: [UserID], source: String?, acceptedAt: Date, attempts: Int = 0
    ) {
        self.status = status
        self.collection = collection
        self.account = account
        self.organisation = organisation
        self.objects = objects
        self.total = total
        self.recipientOrganisations = recipientOrganisations
        self.recipientPeople = recipientPeople
        self.source = source
        self.acceptedAt = acceptedAt
        self.attempts = attempts
    }
}

extension SQLStore {
    /// Stores a request's pending status and its objects together: once this returns, the
    /// request is acknowledged and no node's end loses it.
    public func queueIntelAdd(_ job: IntelPendingAdd, statusBody: [UInt8]) async throws {
        let recipients = (job.recipientOrganisations.map { "o:\($0)" } + job.recipientPeople.map { "p:\($0)" }).joined(separator: "\n")
        try await database.batch([
            SQLStatement(
                "INSERT INTO intel_status (id, collection, account, organisation, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(job.status), .text(job.collection), .text(job.account.description), .text(job.organisation.description), .blob(statusBody), SQLValue(job.acceptedAt)]),
            SQLStatement(
                """
                INSERT INTO intel_pending_adds (status, collection, account, organisation, objects, total, recipients, source, accepted_at, held_by, held_until, attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 0)
                """,
                [
                    .text(job.status), .text(job.collection), .text(job.account.description), .text(job.organisation.description), .blob(job.objects),
                    SQLValue(job.total), .text(recipients), SQLValue(job.source), SQLValue(job.acceptedAt), SQLValue(job.acceptedAt),
                ]),
        ])
    }

    /// Takes the oldest pending request no live node holds, for `lease` seconds; nil when none waits.
    public func claimIntelAdd(holder: String, now: Date, lease: TimeInterval) async throws -> IntelPendingAdd? {
        for row in try await database.query(
            "SELECT status FROM intel_pending_adds WHERE held_until <= ? ORDER BY accepted_at, status LIMIT 5", SQLValue(now))
        {
            let rows = try await database.writeReturning(
                "UPDATE intel_pending_adds SET held_by = ?, held_until = ?, attempts = attempts + 1 WHERE status = ? AND held_until <= ? RETURNING *",
                [.text(holder), SQLValue(now.addingTimeInterval(lease)), .text(try row.string("status")), SQLValue(now)])
            guard let claimed = rows.first else { continue }
            var organisations: [OrganisationID] = []
            var people: [UserID] = []
            for line in (claimed.optionalString("recipients") ?? "").split(separator: "\n") {
                if line.hasPrefix("o:"), let id = OrganisationID(String(line.dropFirst(2))) { organisations.append(id) }
                if line.hasPrefix("p:"), let id = UserID(String(line.dropFirst(2))) { people.append(id) }
            }
            guard let account = UserID(try claimed.string("account")), let organisation = OrganisationID(try claimed.string("organisation")) else {
                throw StoreError(.corruptRow, "a pending intelligence request cannot be read")
            }
            return IntelPendingAdd(
                status: try claimed.string("status"), collection: try claimed.string("collection"), account: account, organisation: organisation,
                objects: claimed.optionalBytes("objects") ?? [], total: Int(try claimed.int("total")), recipientOrganisations: organisations,
                recipientPeople: people, source: claimed.optionalString("source"), acceptedAt: try claimed.date("accepted_at"),
                attempts: Int(try claimed.int("attempts")))
        }
        return nil
    }

    /// Records progress on a claimed request and keeps holding it for `lease` more seconds; false
    /// when the holder lost it (its lease ran out and another node took it).
    public func progressIntelAdd(_ status: String, holder: String, body: [UInt8], now: Date, lease: TimeInterval) async throws -> Bool {
        let held = try await database.writeReturning(
            "UPDATE intel_pending_adds SET held_until = ? WHERE status = ? AND held_by = ? RETURNING status",
            [SQLValue(now.addingTimeInterval(lease)), .text(status), .text(holder)])
        guard !held.isEmpty else { return false }
        try await database.execute("UPDATE intel_status SET body = ? WHERE id = ?", .blob(body), .text(status))
        return true
    }

    /// Writes the final status and lets the request go, in one transaction.
    public func finishIntelAdd(_ status: String, body: [UInt8]) async throws {
        try await database.batch([
            SQLStatement("UPDATE intel_status SET body = ? WHERE id = ?", [.blob(body), .text(status)]),
            SQLStatement("DELETE FROM intel_pending_adds WHERE status = ?", [.text(status)]),
        ])
    }

    /// Requests still waiting or being worked on (for health and tests).
    public func pendingIntelAdds() async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) AS n FROM intel_pending_adds").first?.int("n") ?? 0)
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
