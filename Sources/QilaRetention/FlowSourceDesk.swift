public import Foundation
public import QilaAccess
public import QilaCore
public import QilaFlows
public import QilaStore

/// Who may send traffic data and how long it is kept: exporters and RADIUS clients registered
/// and removed, retention periods set, NAT port-block logs imported. The one place these rules
/// live, for the traffic-data page and the API: input is checked with the field named, the policy
/// decision point is asked, the change is stored and audited.
public struct FlowSourceDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let secrets: ServerSecrets
    public let subscribers: SubscriberRegistry
    /// The other nodes: a NAT log is imported on a node holding the organisation's flows.
    public let nodes: TrafficDataNodes?
    /// Longest name, in characters.
    public static let maximumName = 100
    /// Shortest RADIUS shared secret, in bytes (RFC 2865 §3 recommends at least 16 octets).
    public static let minimumSecret = 16
    /// Retention periods allowed, in days.
    public static let retentionDays = 1...3650

    public init(store: SQLStore, audit: AuditLog, secrets: ServerSecrets, subscribers: SubscriberRegistry, nodes: TrafficDataNodes? = nil) {
        self.store = store
        self.audit = audit
        self.secrets = secrets
        self.subscribers = subscribers
        self.nodes = nodes
    }

    public static func resource(_ organisation: Organisation, _ what: String = "flow-sources") -> Resource {
        Resource(kind: .flowSource, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/\(what)")
    }

    public static func retentionResource(_ organisation: Organisation) -> Resource {
        Resource(kind: .flowRetention, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/flow-retention")
    }

    /// What a person types into the register form.
    public struct Draft: Sendable {
        public var organisation: String
        public var kind: String
        public var name: String
        public var address: String
        public var domain: String
        public var secret: String

        public init(organisation: String, kind: String, name: String, address: String, domain: String, secret: String) {
            self.organisation = organisation
            self.kind = kind
            self.name = name
            self.address = address
            self.domain = domain
            self.secret = secret
        }
    }

    func organisation(_ text: String, field: String, _ missing: String) async throws -> Organisation {
        guard let id = OrganisationID(text.trimmingCharacters(in: .whitespaces)), let organisation = try await store.organisation(id),
            organisation.kind != .authority
        else { throw QilaError.invalid(missing, field: field) }
        return organisation
    }

    /// Registers an exporter (NetFlow/IPFIX) or a RADIUS accounting client.
    public func register(_ draft: Draft, by subject: Subject, gate: any AccessGate, source: String? = nil) async throws -> FlowSource {
        let organisation = try await organisation(draft.organisation, field: "organisation", "choose the organisation the source belongs to")
        try await gate.require(subject, .create, Self.resource(organisation))
        guard let kind = FlowSource.Kind(rawValue: draft.kind) else {
            throw QilaError.invalid("choose \(FlowSource.Kind.allCases.map(\.title).joined(separator: " or "))", field: "kind")
        }
        let name = draft.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw QilaError.invalid("is required", field: "name") }
        guard name.count <= Self.maximumName else { throw QilaError.invalid("is longer than \(Self.maximumName) characters", field: "name") }
        guard name.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw QilaError.invalid("cannot hold control characters", field: "name")
        }
        let addressText = draft.address.trimmingCharacters(in: .whitespaces)
        guard !addressText.isEmpty else { throw QilaError.invalid("is required", field: "address") }
        guard let address = FlowAddress(parsing: addressText) else {
            throw QilaError.invalid("'\(addressText.prefix(60))' is not an IPv4 or IPv6 address", field: "address")
        }
        var domain: UInt32?
        var sealed: [UInt8]?
        switch kind {
        case .exporter:
            let text = draft.domain.trimmingCharacters(in: .whitespaces)
            if !text.isEmpty {
                guard let value = UInt32(text) else { throw QilaError.invalid("is a number from 0 to 4294967295, or empty for every domain", field: "domain") }
                domain = value
            }
        case .radius:
            guard draft.secret.utf8.count >= Self.minimumSecret else {
                throw QilaError.invalid("needs at least \(Self.minimumSecret) characters", field: "secret")
            }
            sealed = try secrets.seal(Array(draft.secret.utf8))
        }
        let registered = FlowSource(
            organisation: organisation.id, kind: kind, name: name, address: address.description, domain: domain, sealedSecret: sealed)
        do {
            try await store.createFlowSource(registered)
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError.invalid("\(address) is already registered\(domain.map { " for domain \($0)" } ?? "")", field: "address")
        }
        try await log(subject, "flows.source.create", "flow-source:\(registered.id)", source, ["kind": kind.rawValue, "organisation": organisation.id.description])
        return registered
    }

    /// Removes a source: datagrams from it are dropped from then on.
    public func remove(_ id: FlowSource.ID, by subject: Subject, gate: any AccessGate, source: String? = nil) async throws {
        guard let registered = try await store.flowSource(id) else { throw QilaError(.notFound, "no such flow source") }
        try await gate.require(subject, .delete, Resource(kind: .flowSource, owner: registered.organisation, reference: "flow-source:\(registered.id)"))
        try await store.deleteFlowSource(id)
        try await log(subject, "flows.source.delete", "flow-source:\(registered.id)", source, [:])
    }

    /// Sets how many days an organisation's traffic data is kept.
    public func setRetention(_ daysText: String, organisation organisationText: String, by subject: Subject, gate: any AccessGate, source: String? = nil)
        async throws -> (Organisation, Int)
    {
        guard let id = OrganisationID(organisationText), let organisation = try await store.organisation(id) else {
            throw QilaError(.notFound, "no such organisation")
        }
        try await gate.require(subject, .update, Self.retentionResource(organisation))
        guard let days = Int(daysText.trimmingCharacters(in: .whitespaces)), Self.retentionDays.contains(days) else {
            throw QilaError.invalid("is a number of days from \(Self.retentionDays.lowerBound) to \(Self.retentionDays.upperBound)", field: "days")
        }
        try await store.setFlowRetention(days, for: organisation.id)
        try await log(subject, "flows.retention.set", "organisation:\(organisation.id)", source, ["days": String(days)])
        return (organisation, days)
    }

    /// What an import stored and which lines it could not read.
    public struct Imported: Sendable {
        public let organisation: Organisation
        public let records: Int
        public let lineErrors: [String]
    }

    /// Stores NAT port-block records (CSV or syslog) written by the organisation's own NAT.
    public func importAssignments(_ log: String, organisation organisationText: String, by subject: Subject, gate: any AccessGate, source: String? = nil)
        async throws -> Imported
    {
        let organisation = try await organisation(organisationText, field: "organisation", "choose the organisation whose NAT wrote the log")
        try await gate.require(subject, .create, Self.resource(organisation, "assignments"))
        let parsed = CGNATLogParser.parse(log)
        guard !parsed.events.isEmpty || !parsed.errors.isEmpty else { throw QilaError.invalid("is empty", field: "log") }
        // Port blocks are kept beside the flows they explain: a warrant's subscriber is found on
        // the node holding both. A node holding none of the organisation's data sends it there.
        let key = organisation.id.description
        if let nodes, !subscribers.organisations().contains(key), try await !nodes.holdsHere(key),
            case let holders = try await nodes.holders(of: key), !holders.isEmpty
        {
            throw QilaError.invalid(
                "\(organisation.name)'s traffic data is kept on \(holders.map(\.name).joined(separator: ", ")): import its NAT log on that node, beside the flows it explains",
                field: "organisation")
        }
        try subscribers.record(parsed.events, organisation: organisation.id.description)
        try await self.log(
            subject, "flows.assignments.import", "organisation:\(organisation.id)", source,
            ["records": String(parsed.events.count), "rejectedLines": String(parsed.errors.count)])
        return Imported(organisation: organisation, records: parsed.events.count, lineErrors: parsed.errors.map(\.description))
    }

    func log(_ subject: Subject, _ action: String, _ resource: String, _ source: String?, _ details: [String: String]) async throws {
        try await audit.recordChange(by: subject, action, resource: resource, source: source, details: details)
    }
}
