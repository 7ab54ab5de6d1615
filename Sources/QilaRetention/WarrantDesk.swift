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
    public let exportsDirectory: String
    /// At most this many identifiers per warrant: a warrant names people, not networks.
    public static let maximumIdentifiers = 100

    public init(store: SQLStore, audit: AuditLog, secrets: ServerSecrets, flows: FlowStore, subscribers: SubscriberRegistry, exportsDirectory: String) {
        self.store = store
        self.audit = audit
        self.secrets = secrets
        self.flows = flows
        self.subscribers = subscribers
        self.exportsDirectory = exportsDirectory
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
        public var packagePath: String
    }

    /// Runs a query under an approved warrant: every identifier must be in the warrant's scope and
    /// the window inside the warrant's. Records the query in the audit log and in the database and
    /// writes the sealed export package.
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
        guard warrant.status == .approved else {
            try await refuse(subject, warrant, "warrant \(warrant.status.rawValue)")
            throw QilaError(.conflict, "the warrant is \(warrant.status.title.lowercased()), not approved")
        }
        guard now < warrant.expiresAt else {
            try await refuse(subject, warrant, "warrant expired")
            throw QilaError(.conflict, "the warrant expired on \(Self.format(warrant.expiresAt))")
        }
        let addresses = requestedAddresses.isEmpty && requestedSubscribers.isEmpty ? warrant.addresses : requestedAddresses
        let subscriberIDs = requestedAddresses.isEmpty && requestedSubscribers.isEmpty ? warrant.subscribers : requestedSubscribers
        let inScope = Set(warrant.addresses.compactMap { FlowAddress(parsing: $0) })
        var parsed: [FlowAddress] = []
        for text in addresses {
            guard let address = FlowAddress(parsing: text) else { throw QilaError.invalid("'\(text.prefix(60))' is not an IP address", field: "addresses") }
            guard inScope.contains(address) else {
                try await refuse(subject, warrant, "address outside the warrant's scope")
                throw QilaError.invalid("an address is outside the warrant's scope", field: "addresses")
            }
            parsed.append(address)
        }
        for subscriber in subscriberIDs where !warrant.subscribers.contains(subscriber) {
            try await refuse(subject, warrant, "subscriber outside the warrant's scope")
            throw QilaError.invalid("a subscriber identifier is outside the warrant's scope", field: "subscribers")
        }
        let start = windowStart ?? warrant.windowStart
        let end = windowEnd ?? warrant.windowEnd
        guard start >= warrant.windowStart, end <= warrant.windowEnd, start < end else {
            try await refuse(subject, warrant, "window outside the warrant's")
            throw QilaError.invalid("the window must lie within \(Self.format(warrant.windowStart)) to \(Self.format(warrant.windowEnd))", field: "window")
        }
        let clock = ContinuousClock.now
        let window = Self.millis(start)..<Self.millis(end)
        let organisation = warrant.provider.description
        var rows: [ExportPackage.Row] = []
        var seen: Set<FlowStore.StoredFlow> = []
        for address in parsed {
            for flow in try flows.flows(of: address, window: window, organisations: [organisation]) where seen.insert(flow).inserted {
                rows.append(row(flow, matched: "address \(address)", subscriber: warrant.disclosesSubscribers ? attribute(flow, address, organisation) : nil))
            }
        }
        for (index, subscriber) in subscriberIDs.enumerated() {
            for binding in subscribers.bindings(of: subscriber, window: window, organisation: organisation) {
                for flow in try flows.flows(of: binding.address, window: binding.window, organisations: [organisation])
                where Self.matches(flow.record, binding) && seen.insert(flow).inserted {
                    rows.append(row(flow, matched: "subscriber \(index + 1)", subscriber: subscriber))
                }
            }
        }
        rows.sort { ($0.start, $0.end, $0.source, $0.sourcePort) < ($1.start, $1.end, $1.source, $1.sourcePort) }
        let elapsed = ContinuousClock.now - clock
        let provider = try await store.organisation(warrant.provider)
        let queryID = WarrantQueryID()
        let package = try ExportPackage.make(
            rows: rows,
            header: [
                "warrant": warrant.id.description, "court": warrant.court, "warrantNumber": warrant.number,
                "issuedAt": Self.format(warrant.issuedAt), "expiresAt": Self.format(warrant.expiresAt), "agency": warrant.agency,
                "provider": provider?.name ?? warrant.provider.description, "query": queryID.description, "queriedBy": subject.user.username,
                "queriedAt": Self.format(now), "windowStart": Self.format(start), "windowEnd": Self.format(end),
                "addresses": parsed.map(\.description).joined(separator: " "), "subscribers": subscriberIDs.joined(separator: " "),
            ],
            signingKey: secrets.auditEd25519)
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let query = WarrantQuery(
            id: queryID, warrant: warrant.id, actor: subject.user.id, time: AuditEntry.truncatedTime(now), addresses: parsed.map(\.description),
            subscribers: subscriberIDs, windowStart: start, windowEnd: end, resultCount: rows.count, elapsedMilliseconds: milliseconds,
            manifestSHA256: package.manifestSHA256)
        let path = try writePackage(package, id: queryID, now: now)
        try await store.recordWarrantQuery(query, sealedScope: try seal(Scope(addresses: query.addresses, subscribers: subscriberIDs)))
        try await log(
            subject, "warrant.query", warrant,
            ["query": queryID.description, "records": String(rows.count), "elapsedMs": String(milliseconds), "manifestSHA256": package.manifestSHA256])
        return QueryResult(query: query, rows: rows, packagePath: path)
    }

    /// The export package of a query, for its investigator; each download is audited.
    public func package(_ queryID: WarrantQueryID, of id: WarrantID, for subject: Subject, gate: any AccessGate) async throws -> [UInt8] {
        let warrant = try await load(id)
        try await gate.require(subject, .read, Self.trafficData(warrant))
        guard warrant.investigator == subject.user.id else { throw QilaError(.forbidden, "only the investigator who recorded the warrant receives its exports") }
        guard try await store.warrantQueries(of: id).contains(where: { $0.query.id == queryID }) else { throw QilaError(.notFound, "no such export") }
        guard let sealed = FileManager.default.contents(atPath: "\(exportsDirectory)/\(queryID).tar.sealed") else {
            throw QilaError(.notFound, "the export package is no longer on this node")
        }
        let bytes = try secrets.open(Array(sealed))
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

    func writePackage(_ package: ExportPackage, id: WarrantQueryID, now: Date) throws -> String {
        try FileManager.default.createDirectory(atPath: exportsDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = "\(exportsDirectory)/\(id).tar.sealed"
        let sealed = try secrets.seal(package.tar(modified: now))
        guard FileManager.default.createFile(atPath: path, contents: Data(sealed), attributes: [.posixPermissions: 0o600]) else {
            throw QilaError(.storage, "could not write the export package to \(exportsDirectory)")
        }
        return path
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
