public import Foundation
public import QilaAccess
public import QilaCore
public import QilaFlows
public import QilaStore
import Crypto

/// Warrants for retained traffic data, from recording to export: an investigator records a
/// court's warrant addressed to a provider; the provider's legal officer approves or rejects it;
/// while it is approved and unexpired the investigator queries within its scope, each query is
/// recorded in the audit log and produces a signed export package; the oversight committee sees
/// counts and timing only. Identifiers in scope are sealed in the database.
public struct WarrantDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let secrets: ServerSecrets
    public let flows: FlowStore
    public let subscribers: SubscriberRegistry
    /// The other nodes, for the traffic data they hold.
    public let nodes: TrafficDataNodes
    /// Where a version before the packages moved into the database wrote them, for downloads of those.
    public let legacyExportsDirectory: String?
    /// At most this many identifiers per warrant: a warrant names people, not networks.
    public static let maximumIdentifiers = 100

    public init(
        store: SQLStore, audit: AuditLog, secrets: ServerSecrets, flows: FlowStore, subscribers: SubscriberRegistry, nodes: TrafficDataNodes,
        legacyExportsDirectory: String? = nil
    ) {
        self.store = store
        self.audit = audit
        self.secrets = secrets
        self.flows = flows
        self.subscribers = subscribers
        self.nodes = nodes
        self.legacyExportsDirectory = legacyExportsDirectory
    }

    /// What an investigator types in from the court's order.
    public struct Draft: Sendable {
        public var provider: String
        public var court: String
        public var number: String
        public var issuedAt: String
        public var expiresAt: String
        public var agency: String
        public var addresses: String
        public var subscribers: String
        public var disclosesSubscribers: Bool
        public var windowStart: String
        public var windowEnd: String

        public init(
            provider: String, court: String, number: String, issuedAt: String, expiresAt: String, agency: String, addresses: String,
            subscribers: String, disclosesSubscribers: Bool, windowStart: String, windowEnd: String
        ) {
            self.provider = provider
            self.court = court
            self.number = number
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.agency = agency
            self.addresses = addresses
            self.subscribers = subscribers
            self.disclosesSubscribers = disclosesSubscribers
            self.windowStart = windowStart
            self.windowEnd = windowEnd
        }
    }

    struct Scope: Codable {
        var addresses: [String]
        var subscribers: [String]
    }

    public static func resource(_ warrant: Warrant) -> Resource {
        Resource(kind: .warrant, owner: warrant.provider, person: warrant.investigator, reference: warrant.reference)
    }

    public static func trafficData(_ warrant: Warrant) -> Resource {
        Resource(kind: .trafficData, owner: warrant.provider, person: warrant.investigator, reference: "\(warrant.reference)/traffic-data")
    }

    // MARK: recording and deciding

    public func record(_ draft: Draft, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Warrant {
        func text(_ value: String, _ field: String, limit: Int = 200) throws -> String {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw QilaError.invalid("is required", field: field) }
            guard trimmed.count <= limit else { throw QilaError.invalid("is longer than \(limit) characters", field: field) }
            return trimmed
        }
        guard let providerID = OrganisationID(draft.provider.trimmingCharacters(in: .whitespaces)),
            let provider = try await store.organisation(providerID)
        else { throw QilaError.invalid("choose the provider the warrant is addressed to", field: "provider") }
        guard provider.kind != .authority else { throw QilaError.invalid("the authority does not hold traffic data", field: "provider") }
        let issued = try Self.date(draft.issuedAt, field: "issuedAt")
        try PlausibleTime.check(issued, field: "issuedAt")
        let expires = try Self.date(draft.expiresAt, field: "expiresAt")
        guard expires > issued else { throw QilaError.invalid("must be after the issuing date", field: "expiresAt") }
        guard issued <= now.addingTimeInterval(86_400) else { throw QilaError.invalid("is in the future", field: "issuedAt") }
        let start = try Self.date(draft.windowStart, field: "windowStart")
        try PlausibleTime.check(start, field: "windowStart")
        let end = try Self.date(draft.windowEnd, field: "windowEnd")
        guard end > start else { throw QilaError.invalid("must be after the start of the window", field: "windowEnd") }
        let addresses = try Self.addresses(draft.addresses, field: "addresses")
        let subscriberIDs = try Self.subscriberList(draft.subscribers, field: "subscribers")
        guard !addresses.isEmpty || !subscriberIDs.isEmpty else {
            throw QilaError.invalid("name at least one address or subscriber identifier", field: "addresses")
        }
        guard addresses.count + subscriberIDs.count <= Self.maximumIdentifiers else {
            throw QilaError.invalid("a warrant names at most \(Self.maximumIdentifiers) identifiers", field: "addresses")
        }
        let warrant = Warrant(
            provider: provider.id, court: try text(draft.court, "court"), number: try text(draft.number, "number", limit: 100),
            issuedAt: issued, expiresAt: expires, agency: try text(draft.agency, "agency"), investigator: subject.user.id,
            addresses: addresses, subscribers: subscriberIDs, disclosesSubscribers: draft.disclosesSubscribers,
            windowStart: start, windowEnd: end, recordedAt: AuditEntry.truncatedTime(now))
        try await gate.require(subject, .create, Self.resource(warrant))
        try await store.createWarrant(warrant, sealedScope: try seal(Scope(addresses: addresses, subscribers: subscriberIDs)))
        try await log(subject, "warrant.record", warrant, ["provider": provider.id.description, "identifiers": String(addresses.count + subscriberIDs.count)])
        return warrant
    }

    /// The legal officer's decision on a pending warrant. A rejection needs a reason.
    public func decide(_ id: WarrantID, approve: Bool, note: String?, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Warrant {
        let warrant = try await load(id)
        try await gate.require(subject, .update, Self.resource(warrant))
        guard subject.effectiveRoles.contains(.legalOfficer), subject.organisation.id == warrant.provider else {
            throw QilaError(.forbidden, "only the provider's legal officer approves or rejects a warrant")
        }
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if !approve && (note ?? "").isEmpty { throw QilaError.invalid("give the reason for rejecting", field: "note") }
        if approve && warrant.expiresAt <= now { throw QilaError(.conflict, "the warrant expired on \(Self.format(warrant.expiresAt))") }
        guard try await store.decideWarrant(id, from: .pending, to: approve ? .approved : .rejected, by: subject.user.id, at: now, note: note?.isEmpty == true ? nil : note) else {
            throw QilaError(.conflict, "the warrant is no longer waiting for a decision")
        }
        try await log(subject, approve ? "warrant.approve" : "warrant.reject", warrant, [:])
        return try await load(id)
    }

    /// Withdraws an approved warrant (the investigator's own, or by the provider's legal officer).
    public func revoke(_ id: WarrantID, note: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Warrant {
        let warrant = try await load(id)
        try await gate.require(subject, .update, Self.resource(warrant))
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else { throw QilaError.invalid("give the reason for revoking", field: "note") }
        guard try await store.decideWarrant(id, from: .approved, to: .revoked, by: subject.user.id, at: now, note: note) else {
            throw QilaError(.conflict, "only an approved warrant can be revoked")
        }
        try await log(subject, "warrant.revoke", warrant, [:])
        return try await load(id)
    }

    /// A warrant with its scope, if the subject may read it.
    public func warrant(_ id: WarrantID, for subject: Subject, gate: any AccessGate) async throws -> Warrant {
        let warrant = try await load(id)
        try await gate.require(subject, .read, Self.resource(warrant))
        return warrant
    }

    /// The warrants the subject may read, newest first: an investigator's own, a legal officer's provider's.
    public func warrants(for subject: Subject, policy: PolicyDecisionPoint) async throws -> [Warrant] {
        var rows: [(warrant: Warrant, sealedScope: [UInt8], addresses: Int, subscribers: Int)] = []
        let roles = subject.effectiveRoles
        if roles.contains(.investigator) { rows += try await store.warrants(investigator: subject.user.id) }
        if roles.contains(.legalOfficer) { rows += try await store.warrants(provider: subject.organisation.id) }
        var seen: Set<WarrantID> = []
        var result: [Warrant] = []
        for row in rows.sorted(by: { $0.warrant.recordedAt > $1.warrant.recordedAt }) where seen.insert(row.warrant.id).inserted {
            guard policy.decide(subject, .read, Self.resource(row.warrant)).allowed else { continue }
            result.append(try opened(row.warrant, row.sealedScope))
        }
        return result
    }

    func load(_ id: WarrantID) async throws -> Warrant {
        guard let row = try await store.warrant(id) else { throw QilaError(.notFound, "no such warrant") }
        return try opened(row.warrant, row.sealedScope)
    }

    func opened(_ warrant: Warrant, _ sealed: [UInt8]) throws -> Warrant {
        var warrant = warrant
        let scope = try JSONDecoder().decode(Scope.self, from: Data(try secrets.open(sealed)))
        warrant.addresses = scope.addresses
        warrant.subscribers = scope.subscribers
        return warrant
    }

    func seal(_ scope: Scope) throws -> [UInt8] {
        try secrets.seal(Array(try JSONEncoder().encode(scope)))
    }

    // MARK: querying

    public struct QueryResult: Sendable {
        public var query: WarrantQuery
        public var rows: [ExportPackage.Row]
        /// Each node that answered, with how many records it held.
        public var nodes: [(name: String, records: Int)]
    }

    /// Runs a query under an approved warrant: every identifier must be in the warrant's scope and
    /// the window inside the warrant's. This node's traffic data and that of every other node
    /// holding the provider's are searched (those answer over the node link, checking the warrant
    /// again and auditing their part); if a holder does not answer, no partial export is made.
    /// Records the query in the audit log and, with its sealed export package, in the database.
    public func query(
        _ id: WarrantID, addresses requestedAddresses: [String], subscribers requestedSubscribers: [String], windowStart: Date?, windowEnd: Date?,
        by subject: Subject, gate: any AccessGate, now: Date = Date()
    ) async throws -> QueryResult {
        let warrant = try await load(id)
        try await gate.require(subject, .read, Self.trafficData(warrant))
        guard warrant.investigator == subject.user.id else {
            try await refuse(subject, warrant, "not the warrant's investigator")
            throw QilaError(.forbidden, "only the investigator who recorded the warrant queries under it")
        }
        let everything = requestedAddresses.isEmpty && requestedSubscribers.isEmpty
        let scope: Checked
        do {
            scope = try check(
                warrant, addresses: everything ? warrant.addresses : requestedAddresses, subscribers: everything ? warrant.subscribers : requestedSubscribers,
                start: windowStart ?? warrant.windowStart, end: windowEnd ?? warrant.windowEnd, now: now)
        } catch let refusal as Refusal {
            if let reason = refusal.audited { try await refuse(subject, warrant, reason) }
            throw refusal.error
        }
        let clock = ContinuousClock.now
        let queryID = WarrantQueryID()
        let request = TrafficDataRequest(
            warrant: warrant.id.description, query: queryID.description, investigator: subject.user.id.description,
            addresses: scope.addresses.map(\.description), subscribers: scope.subscribers, windowStart: Self.millis(scope.start),
            windowEnd: Self.millis(scope.end))
        var rows = try held(warrant, scope)
        var answered: [(name: String, records: Int)] = [(nodes.node.name, rows.count)]
        for holder in try await nodes.holders(of: warrant.provider.description) {
            guard let link = nodes.link, holder.address != nil else {
                try await refuse(subject, warrant, "node \(holder.name) holds the provider's traffic data and cannot be reached from this node")
                throw QilaError(
                    .unavailable,
                    "\(holder.name) holds traffic data of this provider and this node cannot call it (nodes call each other only over HTTPS): "
                        + "run the query on \(holder.name)")
            }
            let silence = Int(max(0, now.timeIntervalSince(holder.heartbeatAt)))
            if holder.health.stopped || Double(silence) >= NodeRegistry.silentAfter {
                try await refuse(subject, warrant, "node \(holder.name) holds the provider's traffic data and is not running")
                throw QilaError(
                    .unavailable,
                    "\(holder.name) holds traffic data of this provider and is not running (\(holder.health.stopped ? "it was stopped" : "silent") "
                        + "since its last heartbeat \(silence) seconds ago); nothing was exported, so that no partial answer leaves: try again when it runs")
            }
            do {
                let answer = try await link.ask(holder, request)
                rows += answer.rows
                answered.append((answer.name, answer.rows.count))
            } catch {
                try await refuse(subject, warrant, "node \(holder.name) did not answer")
                throw QilaError(
                    .unavailable,
                    "\(holder.name) holds traffic data of this provider and did not answer (\(String(describing: error).prefix(160))); "
                        + "nothing was exported, so that no partial answer leaves: try again when it runs")
            }
        }
        rows.sort { ($0.start, $0.end, $0.source, $0.sourcePort, $0.destination, $0.exporter) < ($1.start, $1.end, $1.source, $1.sourcePort, $1.destination, $1.exporter) }
        let elapsed = ContinuousClock.now - clock
        let provider = try await store.organisation(warrant.provider)
        let package = try ExportPackage.make(
            rows: rows,
            header: [
                "warrant": warrant.id.description, "court": warrant.court, "warrantNumber": warrant.number,
                "issuedAt": Self.format(warrant.issuedAt), "expiresAt": Self.format(warrant.expiresAt), "agency": warrant.agency,
                "provider": provider?.name ?? warrant.provider.description, "query": queryID.description, "queriedBy": subject.user.username,
                "queriedAt": Self.format(now), "windowStart": Self.format(scope.start), "windowEnd": Self.format(scope.end),
                "addresses": request.addresses.joined(separator: " "), "subscribers": scope.subscribers.joined(separator: " "),
                "nodes": answered.map { "\($0.name): \($0.records)" }.joined(separator: "; "),
            ],
            signingKey: secrets.auditEd25519)
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let query = WarrantQuery(
            id: queryID, warrant: warrant.id, actor: subject.user.id, time: AuditEntry.truncatedTime(now), addresses: request.addresses,
            subscribers: scope.subscribers, windowStart: scope.start, windowEnd: scope.end, resultCount: rows.count, elapsedMilliseconds: milliseconds,
            manifestSHA256: package.manifestSHA256)
        try await store.recordWarrantQuery(
            query, sealedScope: try seal(Scope(addresses: query.addresses, subscribers: scope.subscribers)),
            sealedPackage: try secrets.seal(package.tar(modified: now)))
        try await log(
            subject, "warrant.query", warrant,
            [
                "query": queryID.description, "records": String(rows.count), "elapsedMs": String(milliseconds), "manifestSHA256": package.manifestSHA256,
                "nodes": answered.map { "\($0.name): \($0.records)" }.joined(separator: "; "),
            ])
        return QueryResult(query: query, rows: rows, nodes: answered)
    }

    /// Answers another node's part of a query (`caller` is the node, named by its certificate):
    /// the warrant is checked again here against the database, as if the query were made on this
    /// node, and the answer is recorded in the audit log as this node's.
    public func answer(_ request: TrafficDataRequest, caller: String, now: Date = Date()) async throws -> TrafficDataAnswer {
        guard let id = WarrantID(request.warrant) else { throw QilaError.invalid("is not a warrant identifier", field: "warrant") }
        let warrant = try await load(id)
        let callerName = (try? await store.node(id: caller))?.name ?? caller
        func record(_ outcome: AuditEntry.Outcome, _ details: [String: String]) async throws {
            try await audit.append(
                AuditEntry(
                    time: Date(), actor: "node:\(caller)", action: "warrant.query.answer", outcome: outcome, resource: warrant.reference,
                    details: details.merging(["query": String(request.query.prefix(40)), "node": nodes.node.name, "askedBy": callerName]) { $1 }))
        }
        guard request.investigator == warrant.investigator.description else {
            try await record(.denied, ["reason": "not the warrant's investigator"])
            throw QilaError(.forbidden, "only the investigator who recorded the warrant queries under it")
        }
        let scope: Checked
        do {
            scope = try check(
                warrant, addresses: request.addresses, subscribers: request.subscribers,
                start: Date(timeIntervalSince1970: Double(request.windowStart) / 1000), end: Date(timeIntervalSince1970: Double(request.windowEnd) / 1000),
                now: now)
        } catch let refusal as Refusal {
            try await record(.denied, ["reason": refusal.audited ?? "malformed request"])
            throw refusal.error
        }
        let rows = try held(warrant, scope)
        try await record(.success, ["records": String(rows.count)])
        return TrafficDataAnswer(node: nodes.node.id, name: nodes.node.name, rows: rows)
    }

    /// A query's identifiers and window once checked against the warrant.
    struct Checked {
        var addresses: [FlowAddress]
        var subscribers: [String]
        var start: Date
        var end: Date
    }

    /// Why a query was refused: the error for the caller and, for refusals the audit log keeps,
    /// the reason written there (never an identifier).
    struct Refusal: Error {
        var error: QilaError
        var audited: String?
    }

    func check(_ warrant: Warrant, addresses: [String], subscribers: [String], start: Date, end: Date, now: Date) throws -> Checked {
        guard warrant.status == .approved else {
            throw Refusal(error: QilaError(.conflict, "the warrant is \(warrant.status.title.lowercased()), not approved"), audited: "warrant \(warrant.status.rawValue)")
        }
        guard now < warrant.expiresAt else {
            throw Refusal(error: QilaError(.conflict, "the warrant expired on \(Self.format(warrant.expiresAt))"), audited: "warrant expired")
        }
        let inScope = Set(warrant.addresses.compactMap { FlowAddress(parsing: $0) })
        var parsed: [FlowAddress] = []
        for text in addresses {
            guard let address = FlowAddress(parsing: text) else {
                throw Refusal(error: QilaError.invalid("'\(text.prefix(60))' is not an IP address", field: "addresses"), audited: nil)
            }
            guard inScope.contains(address) else {
                throw Refusal(error: QilaError.invalid("an address is outside the warrant's scope", field: "addresses"), audited: "address outside the warrant's scope")
            }
            parsed.append(address)
        }
        for subscriber in subscribers where !warrant.subscribers.contains(subscriber) {
            throw Refusal(
                error: QilaError.invalid("a subscriber identifier is outside the warrant's scope", field: "subscribers"),
                audited: "subscriber outside the warrant's scope")
        }
        guard start >= warrant.windowStart, end <= warrant.windowEnd, start < end else {
            throw Refusal(
                error: QilaError.invalid("the window must lie within \(Self.format(warrant.windowStart)) to \(Self.format(warrant.windowEnd))", field: "window"),
                audited: "window outside the warrant's")
        }
        return Checked(addresses: parsed, subscribers: subscribers, start: start, end: end)
    }

    /// The records this node's traffic data holds for a checked query.
    func held(_ warrant: Warrant, _ scope: Checked) throws -> [ExportPackage.Row] {
        let window = Self.millis(scope.start)..<Self.millis(scope.end)
        let organisation = warrant.provider.description
        var rows: [ExportPackage.Row] = []
        var seen: Set<FlowStore.StoredFlow> = []
        for address in scope.addresses {
            for flow in try flows.flows(of: address, window: window, organisations: [organisation]) where seen.insert(flow).inserted {
                rows.append(row(flow, matched: "address \(address)", subscriber: warrant.disclosesSubscribers ? attribute(flow, address, organisation) : nil))
            }
        }
        for (index, subscriber) in scope.subscribers.enumerated() {
            for binding in subscribers.bindings(of: subscriber, window: window, organisation: organisation) {
                for flow in try flows.flows(of: binding.address, window: binding.window, organisations: [organisation])
                where Self.matches(flow.record, binding) && seen.insert(flow).inserted {
                    rows.append(row(flow, matched: "subscriber \(index + 1)", subscriber: subscriber))
                }
            }
        }
        return rows
    }

    /// The export package of a query, for its investigator; each download is audited.
    public func package(_ queryID: WarrantQueryID, of id: WarrantID, for subject: Subject, gate: any AccessGate) async throws -> [UInt8] {
        let warrant = try await load(id)
        try await gate.require(subject, .read, Self.trafficData(warrant))
        guard warrant.investigator == subject.user.id else { throw QilaError(.forbidden, "only the investigator who recorded the warrant receives its exports") }
        guard try await store.warrantQueries(of: id).contains(where: { $0.query.id == queryID }) else { throw QilaError(.notFound, "no such export") }
        let legacy = legacyExportsDirectory.flatMap { FileManager.default.contents(atPath: "\($0)/\(queryID).tar.sealed") }.map(Array.init)
        guard let sealed = try await store.warrantExport(queryID) ?? legacy else {
            throw QilaError(.notFound, "the export package was written by an earlier version to another node's data directory (warrant-exports/\(queryID).tar.sealed)")
        }
        let bytes = try secrets.open(sealed)
        try await log(subject, "warrant.export.download", warrant, ["query": queryID.description, "bytes": String(bytes.count)])
        return bytes
    }

    /// The queries run under a warrant, with their scopes, for those who may read the warrant.
    public func queries(of id: WarrantID, for subject: Subject, gate: any AccessGate) async throws -> [WarrantQuery] {
        let warrant = try await load(id)
        try await gate.require(subject, .read, Self.resource(warrant))
        return try await store.warrantQueries(of: id).map { row in
            var query = row.query
            if let scope = try? JSONDecoder().decode(Scope.self, from: Data(try secrets.open(row.sealedScope))) {
                query.addresses = scope.addresses
                query.subscribers = scope.subscribers
            }
            return query
        }
    }

    static func matches(_ record: FlowRecord, _ binding: SubscriberRegistry.Binding) -> Bool {
        guard let ports = binding.ports else { return true }
        if record.translatedSource == binding.address, let port = record.translatedSourcePort, ports.contains(port) { return true }
        if record.source == binding.address && ports.contains(record.sourcePort) { return true }
        if record.destination == binding.address && ports.contains(record.destinationPort) { return true }
        return false
    }

    func attribute(_ flow: FlowStore.StoredFlow, _ address: FlowAddress, _ organisation: String) -> String? {
        let record = flow.record
        let port: UInt16? =
            record.translatedSource == address ? record.translatedSourcePort
            : record.source == address ? record.sourcePort : record.destination == address ? record.destinationPort : nil
        let found = subscribers.attribute(address, port: port, at: record.start, organisation: organisation)
        return found.isEmpty ? nil : Set(found.map(\.subscriber)).sorted().joined(separator: " | ")
    }

    func row(_ flow: FlowStore.StoredFlow, matched: String, subscriber: String?) -> ExportPackage.Row {
        let record = flow.record
        return ExportPackage.Row(
            start: Self.format(millis: record.start), end: Self.format(millis: record.end), protocolNumber: record.protocolNumber,
            source: record.source.description, sourcePort: record.sourcePort, destination: record.destination.description,
            destinationPort: record.destinationPort, translatedSource: record.translatedSource?.description,
            translatedSourcePort: record.translatedSourcePort, packets: record.packets, octets: record.octets, tcpFlags: record.tcpFlags,
            exporter: "\(flow.exporter.exporter)/\(flow.exporter.domain)", subscriber: subscriber, matched: matched)
    }

    // MARK: oversight

    public struct Statistics: Sendable {
        public var byStatus: [Warrant.Status: Int] = [:]
        public var queries = 0
        public var records = 0
        /// Hours from recording to decision, per decided warrant.
        public var decisionHours: [Double] = []
        /// Warrants recorded and queries run, per calendar month (`YYYY-MM`).
        public var warrantsByMonth: [String: Int] = [:]
        public var queriesByMonth: [String: Int] = [:]
        public var queriesAfterExpiry = 0
    }

    /// Counts and timing only: what the oversight committee sees.
    public func statistics(for subject: Subject, gate: any AccessGate) async throws -> Statistics {
        try await gate.require(subject, .read, Resource(kind: .warrantStatistics, reference: "warrant-statistics"))
        var statistics = Statistics()
        let warrants = try await store.warrants()
        var expiry: [WarrantID: Date] = [:]
        for row in warrants {
            let warrant = row.warrant
            statistics.byStatus[warrant.status, default: 0] += 1
            statistics.warrantsByMonth[Self.month(warrant.recordedAt), default: 0] += 1
            if let decided = warrant.decidedAt, warrant.status != .pending { statistics.decisionHours.append(decided.timeIntervalSince(warrant.recordedAt) / 3600) }
            expiry[warrant.id] = warrant.expiresAt
        }
        for row in try await store.warrantQueries() {
            statistics.queries += 1
            statistics.records += row.query.resultCount
            statistics.queriesByMonth[Self.month(row.query.time), default: 0] += 1
            if let expires = expiry[row.query.warrant], row.query.time >= expires { statistics.queriesAfterExpiry += 1 }
        }
        return statistics
    }

    // MARK: helpers

    func log(_ subject: Subject, _ action: String, _ warrant: Warrant, _ details: [String: String], outcome: AuditEntry.Outcome = .success) async throws {
        try await audit.append(
            AuditEntry(
                time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: action, outcome: outcome,
                resource: warrant.reference, details: details))
    }

    func refuse(_ subject: Subject, _ warrant: Warrant, _ reason: String) async throws {
        try await log(subject, "warrant.query", warrant, ["reason": reason], outcome: .denied)
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    public static func format(_ date: Date) -> String { RFC3339.format(date) }

    static func format(millis: Int64) -> String { RFC3339.format(millis: millis) }

    static func month(_ date: Date) -> String { String(format(date).prefix(7)) }

    /// RFC 3339, or a date and time as browsers send them from `datetime-local` (read as UTC).
    public static func date(_ text: String, field: String) throws -> Date {
        if let date = RFC3339.parse(text) { return date }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        throw QilaError.invalid(trimmed.isEmpty ? "is required" : "'\(trimmed.prefix(40))' is not a date and time (2026-11-23T10:00Z)", field: field)
    }

    static func addresses(_ text: String, field: String) throws -> [String] {
        var result: [String] = []
        for token in text.split(whereSeparator: { $0 == "," || $0 == " " || $0.isNewline || $0 == "\t" }) {
            guard let address = FlowAddress(parsing: String(token)) else {
                throw QilaError.invalid("'\(token.prefix(60))' is not a single IPv4 or IPv6 address", field: field)
            }
            if !result.contains(address.description) { result.append(address.description) }
        }
        return result
    }

    static func subscriberList(_ text: String, field: String) throws -> [String] {
        var result: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let id = line.trimmingCharacters(in: .whitespaces)
            if id.isEmpty { continue }
            guard id.utf8.count <= 253, !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw QilaError.invalid("an identifier is longer than 253 bytes or holds control characters", field: field)
            }
            if !result.contains(id) { result.append(id) }
        }
        return result
    }
}
