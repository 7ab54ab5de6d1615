public import Foundation

/// What makes several nodes one installation: the secrets they share (sealed under the
/// installation key, which the database never sees), the leases by which one node at a time does
/// a job, and the registry of nodes.
extension SQLStore {
    // MARK: Installation secrets

    /// The key identifiers under which secrets are stored (more than one only during a rotation).
    public func installationKeyIdentifiers() async throws -> [String] {
        try await database.query("SELECT DISTINCT key_id FROM installation_secrets ORDER BY key_id").map { try $0.string("key_id") }
    }

    /// The secrets sealed under `keyIdentifier`, by name.
    public func installationSecrets(keyIdentifier: String) async throws -> [String: [UInt8]] {
        var secrets: [String: [UInt8]] = [:]
        for row in try await database.query("SELECT name, sealed FROM installation_secrets WHERE key_id = ?", .text(keyIdentifier)) {
            secrets[try row.string("name")] = row.optionalBytes("sealed") ?? []
        }
        return secrets
    }

    /// Stores secrets under `keyIdentifier` unless that key already has a secret of that name:
    /// when several nodes start together on an empty database, the first to commit wins and the
    /// others read what it stored. All or nothing.
    public func storeInstallationSecrets(keyIdentifier: String, _ sealed: [String: [UInt8]], at time: Date) async throws {
        try await database.batch(
            sealed.keys.sorted().map { name in
                SQLStatement(
                    "INSERT INTO installation_secrets (key_id, name, sealed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [.text(keyIdentifier), .text(name), .blob(sealed[name]!), SQLValue(time)])
            })
    }

    /// Removes every copy sealed under a key other than `keepIdentifier`; returns how many.
    @discardableResult
    public func removeInstallationSecrets(except keepIdentifier: String) async throws -> Int {
        try await database.writeReturning("DELETE FROM installation_secrets WHERE key_id <> ? RETURNING name", [.text(keepIdentifier)]).count
    }

    // MARK: Leases

    /// Takes or renews the lease `name` for `holder` until `until`: granted when nobody holds it,
    /// when the holder's lease has run out, or when `holder` holds it already. One conditional
    /// statement, so two nodes asking at once cannot both be granted.
    public func acquireLease(_ name: String, holder: String, now: Date, until: Date) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET
                holder = excluded.holder, expires_at = excluded.expires_at,
                acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
            WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
            RETURNING holder
            """,
            [.text(name), .text(holder), SQLValue(now), SQLValue(until), SQLValue(now)])
        return rows.first.flatMap { $0.optionalString("holder") } == holder
    }

    /// Gives the lease up at once (at a graceful stop), so another node need not wait for it to run out.
    public func releaseLease(_ name: String, holder: String) async throws {
        try await database.execute("DELETE FROM leases WHERE name = ? AND holder = ?", .text(name), .text(holder))
    }

    /// Every lease with its holder and end, for the nodes page.
    public func leases() async throws -> [(name: String, holder: String, acquiredAt: Date, expiresAt: Date)] {
        try await database.query("SELECT * FROM leases ORDER BY name").map { row in
            (try row.string("name"), try row.string("holder"), try row.date("acquired_at"), try row.date("expires_at"))
        }
    }

    // MARK: Nodes

    /// Records a node's heartbeat with what it says about itself.
    public func heartbeat(_ node: NodeRecord) async throws {
        try await database.execute(
            """
            INSERT INTO nodes (id, name, version, address, owns, health, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, address = excluded.address,
                owns = excluded.owns, health = excluded.health, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
            """,
            .text(node.id), .text(node.name), .text(node.version), SQLValue(node.address), .text(node.owns.joined(separator: "\n")),
            .text(String(decoding: try JSONEncoder().encode(node.health), as: UTF8.self)), SQLValue(node.startedAt), SQLValue(node.heartbeatAt))
    }

    public func nodes() async throws -> [NodeRecord] {
        try await database.query("SELECT * FROM nodes ORDER BY name, id").map(Self.node)
    }

    public func node(id: String) async throws -> NodeRecord? {
        try await database.query("SELECT * FROM nodes WHERE id = ?", .text(id)).first.map(Self.node)
    }

    /// Forgets a node that has not sent a heartbeat since `before` (an administrator's decision).
    @discardableResult
    public func forgetNode(id: String, silentSince before: Date) async throws -> Bool {
        try await !database.writeReturning("DELETE FROM nodes WHERE id = ? AND heartbeat_at < ? RETURNING id", [.text(id), SQLValue(before)]).isEmpty
    }

    static func node(_ row: SQLRow) throws -> NodeRecord {
        NodeRecord(
            id: try row.string("id"), name: try row.string("name"), version: try row.string("version"), address: row.optionalString("address"),
            owns: try row.string("owns").split(separator: "\n").map(String.init), health: (try? JSONDecoder().decode(NodeHealth.self, from: Data(try row.string("health").utf8))) ?? NodeHealth(),
            startedAt: try row.date("started_at"), heartbeatAt: try row.date("heartbeat_at"))
    }
}

/// One node of the installation as it last described itself.
public struct NodeRecord: Sendable, Equatable {
    /// Stable across restarts: kept in the node's data directory.
    public var id: String
    public var name: String
    public var version: String
    /// Where other nodes reach it over mutual TLS (`host:port`), if it serves HTTPS.
    public var address: String?
    /// What only this node holds: its intake journal, the organisations whose traffic data it keeps.
    public var owns: [String]
    /// Its health figures (stored as JSON).
    public var health: NodeHealth
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(id: String, name: String, version: String, address: String?, owns: [String], health: NodeHealth, startedAt: Date, heartbeatAt: Date) {
        self.id = id
        self.name = name
        self.version = version
        self.address = address
        self.owns = owns
        self.health = health
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}

/// What a node says of its own health with each heartbeat.
public struct NodeHealth: Codable, Sendable, Equatable {
    /// Its last heartbeat said it was stopping (a graceful stop, not a silence).
    public var stopped = false
    /// Journal bytes acknowledged to sensors and not yet committed; nil when intake is off.
    public var journalBacklogBytes: Int64?
    public var eventsProcessed: Int64?
    /// Its flow collector is losing datagrams.
    public var flowsLosing = false
    /// Of the other nodes up at its last check, how many answered over mutual TLS, and why the
    /// others did not; nil when it calls none (no TLS, or not checked yet).
    public var peersReached: Int?
    public var peersChecked: Int?
    public var peerProblems: [String] = []
    /// The traffic data it holds, per organisation: flows stay on the node that collected them,
    /// and a warrant query is answered by the nodes listed as holding the provider's data. nil
    /// from a node of a version that did not say.
    public var trafficData: [NodeTrafficData]?
    /// Its flow collector and RADIUS listener; nil when neither listens.
    public var collector: NodeCollector?

    public init() {}
}

/// One organisation's traffic data on one node.
public struct NodeTrafficData: Codable, Sendable, Equatable {
    public var organisation: String
    public var segments: Int
    public var flows: Int
    public var bytes: Int
    /// The earliest flow start and latest flow end held, in milliseconds since 1970.
    public var firstStart: Int64?
    public var lastEnd: Int64?
    /// Address assignments (RADIUS sessions, NAT port blocks) held for the organisation.
    public var assignments: Int

    public init(organisation: String, segments: Int, flows: Int, bytes: Int, firstStart: Int64?, lastEnd: Int64?, assignments: Int) {
        self.organisation = organisation
        self.segments = segments
        self.flows = flows
        self.bytes = bytes
        self.firstStart = firstStart
        self.lastEnd = lastEnd
        self.assignments = assignments
    }
}

/// A node's NetFlow/IPFIX collector and RADIUS accounting listener as it last described them.
public struct NodeCollector: Codable, Sendable, Equatable {
    public var flowPorts: [UInt16]
    public var radiusPorts: [UInt16]
    public var storedFlows: Int
    /// Datagrams dropped before decoding since the node started (their flows were not retained).
    public var droppedDatagrams: Int
    public var diskFull: Bool
    /// What it received from each sender it knows (exporters per observation domain, RADIUS clients).
    public var senders: [Sender]

    public init(flowPorts: [UInt16], radiusPorts: [UInt16], storedFlows: Int, droppedDatagrams: Int, diskFull: Bool, senders: [Sender]) {
        self.flowPorts = flowPorts
        self.radiusPorts = radiusPorts
        self.storedFlows = storedFlows
        self.droppedDatagrams = droppedDatagrams
        self.diskFull = diskFull
        self.senders = senders
    }

    /// One exporter's observation domain, or one RADIUS client, as counted by this node.
    public struct Sender: Codable, Sendable, Equatable {
        public var address: String
        /// The observation domain; nil for a RADIUS client.
        public var domain: UInt32?
        public var radius: Bool
        /// Flow records decoded, or accounting records stored.
        public var received: Int
        /// Records the sender numbered but that never arrived, or accounting left unanswered.
        public var lost: Int
        public var faults: Int

        public init(address: String, domain: UInt32?, radius: Bool, received: Int, lost: Int, faults: Int) {
            self.address = address
            self.domain = domain
            self.radius = radius
            self.received = received
            self.lost = lost
            self.faults = faults
        }
    }
}
