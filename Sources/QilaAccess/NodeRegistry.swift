public import Foundation
public import QilaCore
public import QilaStore

/// The installation's nodes as administrators see them: each node's own description (sent with
/// its heartbeat), whether it is up, and which installation-wide jobs it holds the lease for.
public struct NodeRegistry: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    /// A node whose last heartbeat is older than this is shown as silent.
    public static let silentAfter: TimeInterval = 20
    /// A node may be forgotten once silent this long (it cannot be forgotten while it runs).
    public static let forgettableAfter: TimeInterval = 120

    public init(store: SQLStore, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    public static let resource = Resource(kind: .system, reference: "nodes")

    public struct Entry: Sendable {
        public var record: NodeRecord
        public var isUp: Bool
        public var silentFor: TimeInterval
        public var leases: [String]
    }

    public func nodes(by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> [Entry] {
        try await gate.require(subject, .read, Self.resource)
        let leases = try await store.leases().filter { $0.expiresAt > now }
        return try await store.nodes().map { record in
            let silence = max(0, now.timeIntervalSince(record.heartbeatAt))
            return Entry(
                record: record, isUp: silence < Self.silentAfter, silentFor: silence,
                leases: leases.filter { $0.holder == record.id }.map(\.name).sorted())
        }
    }

    /// Removes a node that has stopped for good from the list (its row only: a node that starts
    /// again registers itself again).
    public func forget(_ id: String, by subject: Subject, gate: any AccessGate, source: String?, now: Date = Date()) async throws {
        try await gate.require(subject, .administer, Self.resource)
        guard let node = try await store.node(id: id) else { throw QilaError(.notFound, "no node \(id)") }
        let silence = now.timeIntervalSince(node.heartbeatAt)
        guard silence >= Self.forgettableAfter else {
            throw QilaError(.conflict, "\(node.name) sent a heartbeat \(Int(max(0, silence))) seconds ago: stop it before it is forgotten")
        }
        guard try await store.forgetNode(id: id, silentSince: now.addingTimeInterval(-Self.forgettableAfter)) else {
            throw QilaError(.conflict, "\(node.name) started again meanwhile")
        }
        try await audit.recordChange(by: subject, "node.forget", resource: "node:\(id)", source: source, details: ["name": node.name], now: now)
    }
}
